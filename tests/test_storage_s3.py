"""Photos in S3, against a real S3 server (SeaweedFS): where the objects go, signed links and
presigned redirects, a store that is down, hung or refusing midway, the sweep, and `storage copy`.

Faults come from a small HTTP proxy between the app and the server that forwards everything and,
when told to, answers a chosen request itself — the app sees a real S3 error over real HTTP.
"""
import hashlib
import http.server
import io
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa
from PIL import Image

from server.extensions import db
from server.models import Photo
from server.services import photos
from server.storage import S3Storage, storage_for
from tests.helpers import error_of, free_port, stored_names, upload_photo

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def app_config(app_config, s3_settings):
    return {**app_config, **s3_settings}


def objects(s3_server, app):
    """``{name: bytes}`` of everything under the app's prefix, read with a client of our own."""
    store = storage_for(app)
    client = s3_server.client()
    listed = client.list_objects_v2(Bucket=s3_server.bucket, Prefix=store.prefix).get("Contents", [])
    return {item["Key"][len(store.prefix):]: client.get_object(Bucket=s3_server.bucket, Key=item["Key"])["Body"].read()
            for item in listed}


def photo_count():
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Photo))
    db.session.remove()  # the other apps of a test need SQLite's write lock
    return count


def test_photos_live_in_the_bucket_and_are_served_through_the_apps_signed_links(app, client, login_as, s3_server,
                                                                              tmp_path):
    _user, headers = login_as()
    photo_id = upload_photo(client, headers, 1)
    photo = db.session.get(Photo, photo_id)
    stored = objects(s3_server, app)
    assert set(stored) == {photo.original_name, photo.display_name, photo.thumb_name}
    assert hashlib.sha256(stored[photo.original_name]).hexdigest() == photo.sha256
    assert not (tmp_path / "uploads").exists()  # nothing went to the folder
    shown = client.get(f"/api/v1/photos/{photo_id}", headers=headers)
    assert shown.status_code == 200 and shown.data == stored[photo.display_name]
    thumb = client.get(f"/api/v1/photos/{photo_id}/thumb", headers=headers)
    assert thumb.status_code == 200 and thumb.data == stored[photo.thumb_name]
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert max(image.size) <= 320


@pytest.fixture
def redirecting(app_config, make_app):
    return make_app({**app_config, "PHOTO_REDIRECT": True, "PHOTO_REDIRECT_SECONDS": 2})


def test_photo_redirect_answers_a_short_lived_presigned_get_that_the_store_checks(app, client, login_as, redirecting):
    _user, headers = login_as()
    photo_id = upload_photo(client, headers, 2)
    link = photos_signed_link(app, photo_id)
    photo = db.session.get(Photo, photo_id)
    display, original = photo.display_name, photo.original_name
    shown = client.get(f"/api/v1/photos/{photo_id}", headers=headers).data
    db.session.remove()  # the other app's requests need SQLite's write lock
    with redirecting.app_context():
        answer = redirecting.test_client().get(link)
    assert answer.status_code == 302 and "no-store" in answer.headers["Cache-Control"]
    location = answer.headers["Location"]
    assert location.startswith(app.config["S3_ENDPOINT_URL"]) and "X-Amz-Signature=" in location
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.content == shown
    signature = location.split("X-Amz-Signature=")[1][:64]
    tampered = location.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    assert requests.get(tampered, timeout=10).status_code == 403
    other_key = location.replace(display, original)
    assert requests.get(other_key, timeout=10).status_code == 403  # the signature covers the key
    time.sleep(3.1)
    assert requests.get(location, timeout=10).status_code == 403  # expired after PHOTO_REDIRECT_SECONDS
    with redirecting.app_context():  # the app's own link is still checked first
        assert redirecting.test_client().get(link.replace("sig=", "sig=0")).status_code == 404


def photos_signed_link(app, photo_id, variant="display"):
    with app.test_request_context():
        return photos.signed_url(photo_id, variant)


class FaultyProxy:
    """HTTP between the app and S3.  ``fail(method, nth, status, code)``: the nth request of that
    method (counting from now) is answered with an S3 error instead of being forwarded; ``hang``:
    every request is held unanswered."""

    def __init__(self, upstream):
        self.upstream, self.rules, self.counts, self.hang = upstream, {}, {}, False
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy.hang:
                    time.sleep(30)
                    return
                proxy.counts[self.command] = proxy.counts.get(self.command, 0) + 1
                rule = proxy.rules.get((self.command, proxy.counts[self.command]))
                if rule:
                    status, code = rule
                    error = (f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>injected</Message></Error>"
                             ).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    self.wfile.write(error)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "expect")}
                answer = requests.request(self.command, proxy.upstream + self.path, headers=headers, data=body,
                                          timeout=30, allow_redirects=False)
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.content)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail(self, method, nth, status, code):
        self.counts = {}
        self.rules[(method, nth)] = (status, code)

    def heal(self):
        self.rules, self.counts, self.hang = {}, {}, False

    def close(self):
        self.hang = False
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(s3_server):
    made = FaultyProxy(s3_server.endpoint)
    yield made
    made.close()


@pytest.fixture
def proxied(app_config, make_app, proxy):
    """The app reaching S3 through the proxy, with short timeouts."""
    return make_app({**app_config, "S3_ENDPOINT_URL": proxy.url, "S3_TIMEOUT_SECONDS": 1})


def upload(app, headers, seed):
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from tests.images import encode, scene
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(encode(scene(seed))), "p.jpg")})
    with app.app_context():
        return app.test_client().post("/api/v1/photos", data=body, headers=headers,
                                      content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("status, code, answer", [
    (507, "XMinioStorageFull", 507), (500, "InternalError", 503), (403, "AccessDenied", 503),
], ids=["full", "server-error", "refused"])
def test_a_store_failing_midway_answers_in_the_error_shape_and_keeps_nothing(app, login_as, s3_server, proxy,
                                                                           proxied, status, code, answer):
    _user, headers = login_as()
    db.session.remove()
    # One copy is stored, then every other PUT fails (each retry too: the copies go side by side).
    for attempt in range(2, 20):
        proxy.rules[("PUT", attempt)] = (status, code)
    proxy.counts = {}
    response = upload(proxied, headers, 3)
    error = error_of(response, answer)
    assert error["code"] == {507: "insufficient_storage", 503: "service_unavailable"}[answer]
    assert "照片" in error["message"] and "Traceback" not in response.get_data(as_text=True)
    assert photo_count() == 0
    assert objects(s3_server, app) == {}  # the copy that was stored has been deleted again
    proxy.heal()
    assert upload(proxied, headers, 4).status_code == 201  # the store is back: uploads work


def test_a_half_stored_photo_the_store_would_not_delete_is_swept(app, login_as, s3_server, proxy, proxied):
    _user, headers = login_as()
    db.session.remove()
    for attempt in range(2, 20):
        proxy.rules[("PUT", attempt)] = (503, "SlowDown")
    for attempt in range(1, 20):
        proxy.rules[("DELETE", attempt)] = (503, "SlowDown")
    error_of(upload(proxied, headers, 5), 503)
    assert photo_count() == 0
    left = objects(s3_server, app)
    assert len(left) == 1  # one copy stored, not deletable at the time
    proxy.heal()
    with proxied.app_context():
        assert photos.sweep_files() == 0  # younger than an hour: could be an upload in flight
        assert photos.sweep_files(age_seconds=-1) == 1
    assert objects(s3_server, app) == {}


def test_an_unreachable_or_hung_store_is_503_within_seconds(app, app_config, login_as, make_app, proxy):
    _user, headers = login_as()
    photo_id = upload_photo(app.test_client(), headers, 6)
    db.session.remove()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    down = make_app({**app_config, "S3_ENDPOINT_URL": f"http://127.0.0.1:{closed.getsockname()[1]}",
                     "S3_TIMEOUT_SECONDS": 1})
    hung = make_app({**app_config, "S3_ENDPOINT_URL": proxy.url, "S3_TIMEOUT_SECONDS": 1})
    proxy.hang = True
    try:
        for broken in (down, hung):
            started = time.monotonic()
            error = error_of(upload(broken, headers, 7), 503)
            assert error["code"] == "service_unavailable"
            with broken.app_context():
                shown = broken.test_client().get(f"/api/v1/photos/{photo_id}", headers=headers)
            assert error_of(shown, 503)["code"] == "service_unavailable"
            assert time.monotonic() - started < 30
    finally:
        closed.close()
    assert photo_count() == 1


def test_the_sweep_lists_only_the_days_since_its_last_run(app, client, login_as, s3_server):
    _user, headers = login_as()
    photo_id = upload_photo(client, headers, 8)
    store = storage_for(app)
    today = time.strftime("%Y/%m/%d/%H", time.gmtime())
    store.save(f"{today}/{'a' * 32}.orig", b"a row that never committed")
    store.save(f"2020/01/01/00/{'b' * 32}.jpg", b"left over from long ago")
    kept = {n for n in stored_names(app) if not n.endswith(("a" * 32 + ".orig", "b" * 32 + ".jpg"))}
    assert photos.sweep_files(age_seconds=-1) == 2  # the first sweep lists everything once
    assert stored_names(app) == kept
    store.save(f"2020/01/02/00/{'c' * 32}.jpg", b"older than the last sweep: not listed again")
    store.save(f"{today}/{'d' * 32}.jpg", b"since the last sweep")
    assert photos.sweep_files(age_seconds=-1) == 1
    assert stored_names(app) == kept | {f"2020/01/02/00/{'c' * 32}.jpg"}
    assert client.get(f"/api/v1/photos/{photo_id}", headers=headers).status_code == 200


def test_storage_copy_moves_the_folder_to_s3_checked_and_resumable(app, app_config, make_app, login_as, s3_settings,
                                                                 s3_server):
    _user, headers = login_as()  # the token is in the shared database: good on every app
    db.session.remove()
    folder = make_app({k: v for k, v in app_config.items() if k != "STORAGE_URL"})
    target = s3_settings["STORAGE_URL"]
    with folder.app_context():
        ids = [upload_photo(folder.test_client(), headers, 10 + n) for n in range(3)]
        runner = folder.test_cli_runner()
        first = runner.invoke(args=["storage", "copy", "--to", target])
        assert first.exit_code == 0, first.output
        assert "新复制 9" in first.output and "全部复制完成并已校验" in first.output
        again = runner.invoke(args=["storage", "copy", "--to", target])
        assert again.exit_code == 0 and "新复制 0，目标已有 9" in again.output  # resumable: nothing twice
        rows = db.session.scalars(sa.select(Photo).order_by(Photo.id)).all()
        local = storage_for(folder)
        s3 = S3Storage(s3_server.bucket, urlsplit(target).path, endpoint_url=s3_server.endpoint,
                       access_key=s3_settings["AWS_ACCESS_KEY_ID"], secret_key=s3_settings["AWS_SECRET_ACCESS_KEY"])
        for photo in rows:
            for name in (photo.original_name, photo.display_name, photo.thumb_name):
                assert s3.read(name) == local.read(name)
        s3.save(rows[0].thumb_name, b"damaged at the target")
        verified = runner.invoke(args=["storage", "copy", "--to", target, "--verify"])
        assert verified.exit_code == 0 and "不一致已重新复制 1" in verified.output
        assert s3.read(rows[0].thumb_name) == local.read(rows[0].thumb_name)
        local.save(rows[1].original_name, b"damaged at the source")
        local.delete(rows[2].display_name)
        s3.delete(rows[1].original_name)
        s3.delete(rows[2].display_name)
        broken = runner.invoke(args=["storage", "copy", "--to", target])
        assert broken.exit_code == 1
        assert "源存储中缺失：1 个" in broken.output and "SHA-256 不符（未复制）：1 个" in broken.output
        assert not s3.exists(rows[1].original_name)  # a damaged original is never spread
        refused = runner.invoke(args=["storage", "copy", "--to", "ftp://example/x"])
        assert refused.exit_code != 0 and "STORAGE_URL" in refused.output
        first_display = local.read(rows[0].display_name)
    on_s3 = make_app(app_config)
    with on_s3.app_context():
        shown = on_s3.test_client().get(f"/api/v1/photos/{ids[0]}", headers=headers)
        assert shown.status_code == 200 and shown.data == first_display
