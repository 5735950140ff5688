"""Fixtures every feature's tests use.

The database comes from ``TEST_DATABASE_URL`` (a PostgreSQL URL) or, when unset, a SQLite
file.  The schema is built once per run by the real migrations; each test then gets a
clean database: SQLite a fresh copy of the migrated file, PostgreSQL a TRUNCATE of every
table that is not reference data.
"""
import datetime as dt
import os
import shutil
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from server import clock, create_app
from server.config import normalise_database_url
from server.extensions import db
from server.models import CollectorCompany, User
from server.services import audit
from server.validators import USCC_CHARSET, uscc_check_char
from tests.fake_wechat import FakeWeChat

REFERENCE_TABLES = {"alembic_version", "districts", "checklist_versions", "checklist_items"}


def _is_postgres(url):
    return url.startswith("postgresql")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A migrated, empty database for this test run (a template file on SQLite)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        template = tmp_path_factory.mktemp("db") / "template.db"
        _migrate("sqlite:///" + str(template))
        yield "sqlite:///" + str(template)
        return
    url = normalise_database_url(url)
    # A database of our own on the given server, so a run never touches anything else.
    server = sa.make_url(url)
    name = "t_%s_%s" % (os.getpid(), uuid.uuid4().hex[:8])
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    test_url = server.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(test_url)
        yield test_url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _migrate(url):
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture
def db_url(database_url, tmp_path):
    """The URL of a clean, migrated database for one test."""
    if not _is_postgres(database_url):
        template = database_url.removeprefix("sqlite:///")
        copy = tmp_path / "test.db"
        shutil.copyfile(template, copy)
        yield "sqlite:///" + str(copy)
        return
    yield database_url
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        tables = [t for t in sa.inspect(conn).get_table_names() if t not in REFERENCE_TABLES]
        if tables:
            conn.exec_driver_sql("TRUNCATE %s RESTART IDENTITY CASCADE" % ", ".join(f'"{t}"' for t in tables))
    engine.dispose()


@pytest.fixture(scope="session")
def fake_wechat():
    """WeChat's API, faked over real HTTP on 127.0.0.1 (see tests/fake_wechat.py)."""
    fake = FakeWeChat().start()
    yield fake
    fake.stop()


@pytest.fixture
def app_config(db_url, tmp_path, fake_wechat):
    """The settings a test app is built with; override this fixture to change them."""
    return {"APP_ENV": "testing", "DATABASE_URL": db_url, "UPLOAD_DIR": str(tmp_path / "uploads"),
            "SECRET_KEY": "test-secret-key", "WECHAT_APPID": fake_wechat.server.appid,
            "WECHAT_SECRET": fake_wechat.server.secret, "WECHAT_API_BASE": fake_wechat.base_url}


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app():
    """Build another app (other settings) inside a test; its connections are closed afterwards."""
    made = []

    def make(config):
        made.append(create_app(config))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def frozen_clock():
    """Freeze :func:`server.clock.utcnow`; ``frozen_clock.set(...)``/``.advance(...)`` move it."""

    class Frozen:
        def set(self, moment):
            clock.freeze(moment)
            return moment

        def advance(self, delta):
            clock.freeze(clock.utcnow() + delta)
            return clock.utcnow()

    frozen = Frozen()
    frozen.set(dt.datetime(2024, 3, 22, 1, 30, tzinfo=dt.timezone.utc))  # 09:30 in Jining
    yield frozen
    clock.freeze(None)


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


@pytest.fixture
def make_company(app):
    """Factory: a licensed collection company serving ``districts``."""
    counter = iter(range(1, 10_000))

    def make(districts=("370811",), valid_until=None, name=None):
        n = next(counter)
        company = CollectorCompany(name=name or f"收运公司{n}", uscc=credit_code(n), licence_no=f"LIC-{n}",
                                   licence_valid_until=valid_until or dt.date(2099, 12, 31),
                                   districts=list(districts))
        db.session.add(company)
        db.session.flush()
        audit.record("collector.create", "collector_company", company.id, "test factory")
        db.session.commit()
        return company

    return make


@pytest.fixture
def make_user(app):
    """Factory: a WeChat user with a role (``user`` by default), jurisdiction and company."""
    counter = iter(range(1, 10_000))

    def make(role="user", jurisdiction=("370811",), company=None, name=None, **extra):
        n = next(counter)
        staff = role in ("inspector", "regulator", "admin")
        user = User(openid=f"openid-{role}-{n}", role=role, display_name=name or f"{role}{n}",
                    jurisdiction=(list(jurisdiction) if jurisdiction is not None else None) if staff else None,
                    collector_company_id=company.id if company else None, **extra)
        db.session.add(user)
        db.session.flush()
        audit.record("user.create", "user", user.id, "test factory")
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Log ``user`` in through the real WeChat login (fake WeChat over HTTP); return auth headers."""

    def do_login(user):
        response = client.post("/api/v1/auth/wechat-login", json={"code": "ok-" + user.openid})
        assert response.status_code == 200, response.get_data(as_text=True)
        return bearer(response.get_json()["token"])

    return do_login


@pytest.fixture
def login_as(make_user, login):
    """Make a user with ``role`` (and the rest as ``make_user``) and log it in: (user, headers)."""

    def do(role="user", **kwargs):
        user = make_user(role, **kwargs)
        return user, login(user)

    return do


def shop_body(seed=1, **changes):
    """A valid POST /shops body in 任城区; ``seed`` varies the credit code."""
    body = {"name": f"老王烧烤{seed}号店", "uscc": credit_code(1000 + seed), "address": f"济宁市任城区古槐路{seed}号",
            "district_code": "370811", "street": "古槐街道", "lat": 35.4151, "lng": 116.5872, "cooking_heads": 3,
            "contact_name": "王老板", "contact_phone": "13812341234",
            "purifier": {"installed": True, "model": "JD-2000", "rated_efficiency": 80}}
    body.update(changes)
    return body


@pytest.fixture
def make_shop(client, login_as):
    """Factory: a shop registered over HTTP by a new owner; returns (shop json, owner, owner headers)."""
    counter = iter(range(1, 10_000))

    def make(**changes):
        owner, headers = login_as()
        response = client.post("/api/v1/shops", json=shop_body(next(counter) + 100, **changes), headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json(), owner, headers

    return make


def upload_photo(client, headers, seed=0):
    """Upload a small made-up JPEG as ``headers``' user; return its id."""
    import io

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from tests.images import encode, scene
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(encode(scene(seed))), "p.jpg")})
    response = client.post("/api/v1/photos", data=body, headers=headers,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


@pytest.fixture
def contracted(client, login_as, make_shop, make_company):
    """A shop with a valid contract with a company, its manager, and a driver of that company."""
    import types
    shop, manager, manager_headers = make_shop()
    company = make_company(["370811"])
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    response = client.post(f"/api/v1/shops/{shop['id']}/contract", headers=regulator, json={
        "collector_company_id": company.id, "contract_no": "HT-1", "valid_from": "2024-01-01",
        "valid_until": "2099-12-31", "photo_ids": [upload_photo(client, regulator, 900)]})
    assert response.status_code == 201, response.get_data(as_text=True)
    driver, driver_headers = login_as("collector", company=company)
    return types.SimpleNamespace(shop=shop, shop_id=shop["id"], manager=manager, owner=manager_headers,
                                 company=company, company_id=company.id, driver=driver, collector=driver_headers,
                                 regulator=regulator)
