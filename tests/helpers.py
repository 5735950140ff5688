"""Plain helpers the tests share: assertions, request bodies, uploads (fixtures live in conftest.py)."""
import contextlib
import datetime as dt
import io
from typing import NamedTuple

from sqlalchemy import event
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from server.clock import SHANGHAI
from server.extensions import db
from server.validators import USCC_CHARSET, uscc_check_char
from tests.images import encode, scene


class ShopMade(NamedTuple):
    """A shop the ``make_shop`` factory registered: its JSON, its manager (a User) and the
    manager's auth headers — the names ``contracted`` uses too."""

    shop: dict
    manager: object
    owner: dict

    @property
    def shop_id(self):
        return self.shop["id"]


@contextlib.contextmanager
def count_statements():
    """Count the SQL statements the database receives inside the block: ``with ... as seen``,
    then ``len(seen)`` (``seen`` lists them, for a failing assertion to show)."""
    seen = []
    engine = db.engine

    def note(_conn, _cursor, statement, _parameters, _context, _many):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def error_of(response, status):
    """Assert ``response`` is an error in the one shape with ``status``; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) <= {"code", "message", "fields", "request_id"}
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert error["code"] and error["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), "message should be Chinese"
    return error


def bearer(token):
    return {"Authorization": "Bearer " + token}


def credit_code(seed):
    """A valid 统一社会信用代码 derived from ``seed``."""
    body = "91370811" + "".join(USCC_CHARSET[(seed * 7 + i * 13) % 31] for i in range(9))
    return body + uscc_check_char(body)


def shop_body(seed=1, **changes):
    """A valid POST /shops body in 任城区; ``seed`` varies the credit code."""
    body = {"name": f"老王烧烤{seed}号店", "uscc": credit_code(1000 + seed), "address": f"济宁市任城区古槐路{seed}号",
            "district_code": "370811", "street": "古槐街道", "lat": 35.4151, "lng": 116.5872, "cooking_heads": 3,
            "contact_name": "王老板", "contact_phone": "13812341234",
            "purifier": {"installed": True, "model": "JD-2000", "rated_efficiency": 80}}
    body.update(changes)
    return body


def upload_photo(client, headers, seed=0):
    """Upload a small made-up JPEG as ``headers``' user; return its id."""
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(encode(scene(seed))), "p.jpg")})
    response = client.post("/api/v1/photos", data=body, headers=headers,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def at(y, m, d, hh=10, mm=0):
    """A time in Jining (Asia/Shanghai)."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


STORAGE_SETTINGS = ("STORAGE_URL", "S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_REGION")


def server_environment(app_config, **env):
    """The environment a real server (gunicorn, a CLI process) runs the test's app with."""
    import os

    return {**os.environ, "DATABASE_URL": app_config["DATABASE_URL"], "UPLOAD_DIR": app_config["UPLOAD_DIR"],
            "APP_ENV": "testing", "SECRET_KEY": app_config["SECRET_KEY"],
            **{key: app_config[key] for key in STORAGE_SETTINGS if app_config.get(key)}, **env}


def stored_names(app):
    """Every name in the app's photo store (folder or bucket), temporary files left out."""
    from server.storage import storage_for

    return set(storage_for(app).names())


@contextlib.contextmanager
def gunicorn_serving(app_config, log_path=None, **env):
    """The app under a real gunicorn (one worker) on the test's database: yields the API's base URL.
    ``log_path``: where its output (the access log included) goes."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    import requests

    port = free_port()
    environment = server_environment(app_config, **{"WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2",
                                                    "BIND": f"127.0.0.1:{port}", **env})
    output = open(log_path, "wb") if log_path else subprocess.DEVNULL
    master = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=Path(__file__).parent.parent,
                              env=environment, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(200):
            try:
                if requests.get(base + "/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("gunicorn did not come up")
        yield base
    finally:
        master.terminate()
        master.wait(timeout=30)
        if log_path:
            output.close()
