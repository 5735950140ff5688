"""Faults: a full disk, a worker killed mid-upload, the database going away and coming back."""
import errno
import io
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from PIL import Image

from server.extensions import db
from server.models import Photo
from server.services import photos
from server import storage
from server.storage import storage_for
from tests.helpers import error_of, server_environment, stored_names, upload_photo

ROOT = Path(__file__).resolve().parent.parent


def files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file())


@pytest.mark.folder_only
def test_a_full_disk_is_507_and_nothing_is_half_stored(app, client, login_as, monkeypatch):
    _user, headers = login_as()
    real_fsync, calls = os.fsync, []

    def fsync_until_full(fd):
        calls.append(fd)
        if len(calls) == 2:  # the original is stored, then the disk fills up
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(storage.os, "fsync", fsync_until_full)
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from tests.images import encode, scene
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(encode(scene(3))), "p.jpg")})
    response = client.post("/api/v1/photos", data=body, headers=headers,
                           content_type=f"multipart/form-data; boundary={boundary}")
    error = error_of(response, 507)
    assert error["code"] == "insufficient_storage" and "存储空间" in error["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0
    upload_dir = app.config["UPLOAD_DIR"]
    assert not os.path.exists(upload_dir) or files_under(upload_dir) == []
    monkeypatch.setattr(storage.os, "fsync", real_fsync)
    assert upload_photo(client, headers, 4)  # space again: uploads work


@pytest.mark.folder_only
def test_stray_and_temporary_files_are_swept_but_young_ones_kept(app, client, login_as):
    _user, headers = login_as()
    upload_photo(client, headers, 1)
    root = Path(app.config["UPLOAD_DIR"])
    kept = files_under(root)
    (root / "ab" / "cd").mkdir(parents=True, exist_ok=True)
    (root / "ab" / "cd" / ".tmp-half").write_bytes(b"\xff\xd8 half a jpeg")
    (root / "ab" / "cd" / "abcd0000.jpg").write_bytes(b"a file whose row never committed")
    assert photos.sweep_files() == 0  # younger than an hour: might be an upload in flight
    assert photos.sweep_files(age_seconds=-1) == 2
    assert files_under(root) == kept


def _big_jpeg():
    """About 6 MP of noise: slow enough to decode and resize that a kill lands mid-request."""
    image = Image.effect_noise((3000, 2000), 60).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid):
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def test_a_worker_killed_mid_upload_leaves_no_half_file_and_no_orphan_row(app, app_config, login_as, tmp_path):
    _user, headers = login_as()
    db.session.remove()  # let the server's worker have the database
    port = _free_port()
    env = server_environment(app_config, RATE_LIMIT_WRITES_PER_MINUTE="0", WECHAT_APPID=app_config["WECHAT_APPID"],
                             WECHAT_SECRET=app_config["WECHAT_SECRET"], WECHAT_API_BASE=app_config["WECHAT_API_BASE"],
                             WEB_CONCURRENCY="1", GUNICORN_THREADS="2", BIND=f"127.0.0.1:{port}")
    master = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"

    def wait_for_worker():
        for _ in range(200):
            try:
                if requests.get(base + "/health", timeout=2).status_code == 200 and _children(master.pid):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError("gunicorn did not come up")

    try:
        wait_for_worker()
        data, rng, kills, answered = _big_jpeg(), random.Random(7), 0, 0
        for round_ in range(8):
            results = []

            def send():
                try:
                    results.append(requests.post(base + "/photos", headers=headers, timeout=30,
                                                 files={"file": ("p.jpg", data + bytes([round_]), "image/jpeg")}))
                except requests.RequestException as exc:
                    results.append(exc)

            sender = threading.Thread(target=send)
            sender.start()
            time.sleep(rng.uniform(0.02, 0.4))
            for worker in _children(master.pid):
                os.kill(worker, signal.SIGKILL)
                kills += 1
            sender.join(timeout=30)
            answered += sum(1 for r in results if getattr(r, "status_code", None) == 201)
            wait_for_worker()
        assert kills >= 8
    finally:
        master.send_signal(signal.SIGTERM)
        master.wait(timeout=30)

    store = storage_for(app)
    rows = db.session.scalars(sa.select(Photo)).all()
    assert len(rows) >= answered  # every acknowledged upload is there
    for photo in rows:  # no row without its files, complete ones
        assert len(store.read(photo.original_name)) == photo.size_bytes
        for name in (photo.display_name, photo.thumb_name):
            with Image.open(io.BytesIO(store.read(name))) as image:
                image.load()
    named = {n for p in rows for n in (p.original_name, p.display_name, p.thumb_name)}
    # Files under their final names are whole (a folder writes a temporary name, then renames; an S3
    # put is atomic); what a kill between the files and the row's commit leaves is swept by `retention run`.
    for name in stored_names(app):
        if name.endswith(".jpg"):
            with Image.open(io.BytesIO(store.read(name))) as image:
                image.load()
    photos.sweep_files(age_seconds=-1)
    assert stored_names(app) == named


class _Proxy:
    """A TCP proxy to the database that can be cut and restored, on a fixed port."""

    def __init__(self, target_port):
        self.target_port, self.port = target_port, _free_port()
        self.sockets, self.server = [], None

    def start(self):
        self.server = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR on POSIX
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def _accept(self, server):
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close() alone does not)
        except OSError:
            pass
        self.server.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the pipe already shut it down: it must still be closed
            s.close()
        self.sockets = []


def test_the_database_going_away_is_503_and_the_app_recovers_by_itself(db_url, tmp_path, make_app, app_config):
    if db_url.startswith("postgresql"):
        url = sa.make_url(db_url)
        proxy = _Proxy(url.port or 5432)
        proxy.start()
        served = dict(app_config, DATABASE_URL=url.set(port=proxy.port, query={"connect_timeout": "2"})
                      .render_as_string(hide_password=False))
        gone, back, done = proxy.cut, proxy.start, proxy.cut
    else:
        # The database file's folder disappears (a lost mount) and comes back.
        here = Path(sa.make_url(db_url).database)
        folder = tmp_path / "mount"
        folder.mkdir()
        shutil.copy(here, folder / "app.db")
        served = dict(app_config, DATABASE_URL="sqlite:///" + str(folder / "app.db"))

        def gone():
            folder.rename(tmp_path / "lost")

        def back():
            (tmp_path / "lost").rename(folder)

        def done():
            pass
    app = make_app(served)
    client = app.test_client()
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/districts").status_code == 200
    gone()
    if not db_url.startswith("postgresql"):
        with app.app_context():  # an open SQLite connection follows the renamed file: start afresh
            db.engine.dispose()
    assert client.get("/api/v1/health").status_code == 503
    assert error_of(client.get("/api/v1/districts"), 503)["code"] == "service_unavailable"
    back()
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/districts").status_code == 200
    with app.app_context():
        db.engine.dispose()
    done()  # no socket of the proxy is left for the garbage collector to warn about in a later test


@pytest.mark.parametrize("mode", ["down", "slow"])
def test_wechat_down_or_slow_is_502_within_the_timeout(client, mode, fake_wechat):
    started = time.monotonic()
    code = "slow" if mode == "slow" else "down"
    if mode == "down":
        app_base = client.application.config["WECHAT_API_BASE"]
        client.application.config["WECHAT_API_BASE"] = f"http://127.0.0.1:{_free_port()}"
    try:
        error = error_of(client.post("/api/v1/auth/wechat-login", json={"code": code}), 502)
    finally:
        if mode == "down":
            client.application.config["WECHAT_API_BASE"] = app_base
    assert error["code"] == "upstream_unavailable"
    assert time.monotonic() - started < 12  # connect 3.05 s + read 5 s, with room for a busy machine
