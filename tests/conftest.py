"""Fixtures every feature's tests use.

The database comes from ``TEST_DATABASE_URL`` (a PostgreSQL URL) or, when unset, a SQLite
file.  The schema is built once per run by the real migrations; each test then gets a
clean database: SQLite a fresh copy of the migrated file, PostgreSQL a TRUNCATE of every
table that is not reference data.
"""
import datetime as dt
import os
import random
import shutil
import types
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from flask_migrate import upgrade

from server import clock, create_app
from server.clock import utcnow
from server.config import normalise_database_url
from server.extensions import db
from server.models import (Cleaning, CollectorCompany, Contract, Handover, Inspection, InspectionItem, Rectification,
                           Shop, User)
from server.models.inspection import RectificationEvent
from server.models.reference import ChecklistVersion
from server.services import audit
from tests.browser import browser  # noqa: F401 - one Chromium for every browser test module
from tests.fake_wechat import FakeWeChat
from tests.s3server import WeedServer
from tests.helpers import ShopMade, at, bearer, credit_code, shop_body, upload_photo

REFERENCE_TABLES = {"alembic_version", "districts", "checklist_versions", "checklist_items"}


def pytest_collection_modifyitems(config, items):
    """Under TEST_STORAGE=s3 the folder's own tests are deselected (they are about the folder)."""
    if os.environ.get("TEST_STORAGE") == "s3":
        kept = [item for item in items if "folder_only" not in item.keywords]
        config.hook.pytest_deselected(items=[item for item in items if "folder_only" in item.keywords])
        items[:] = kept


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


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 server (SeaweedFS) for this run, with the bucket ``photos``.  Without ``weed`` the
    tests that need it skip saying how to get it — or fail, under ``REQUIRE_S3=1`` (CI)."""
    server = WeedServer()
    try:
        server.start()
    except (FileNotFoundError, RuntimeError) as error:
        if os.environ.get("REQUIRE_S3") == "1":
            pytest.fail(f"S3 tests cannot run: {error}")
        pytest.skip(str(error))
    server.bucket = server.make_bucket("photos")
    yield server
    server.stop()


@pytest.fixture
def s3_settings(s3_server):
    """Settings that store this test's photos under a prefix of their own in the S3 server's bucket."""
    return s3_server.settings(s3_server.bucket, "t-" + uuid.uuid4().hex[:12])


@pytest.fixture
def app_config(request, db_url, tmp_path, fake_wechat):
    """The settings a test app is built with; override this fixture to change them.  Under
    ``TEST_STORAGE=s3`` the photos go to the S3 server instead of a folder."""
    storage = request.getfixturevalue("s3_settings") if os.environ.get("TEST_STORAGE") == "s3" else {}
    return {**storage, "APP_ENV": "testing", "DATABASE_URL": db_url, "UPLOAD_DIR": str(tmp_path / "uploads"),
            "SECRET_KEY": "test-secret-key", "WECHAT_APPID": fake_wechat.server.appid,
            "WECHAT_SECRET": fake_wechat.server.secret, "WECHAT_API_BASE": fake_wechat.base_url,
            # Tests change the slips and grade again at once: the peers' medians are never kept.
            "WASTE_PEER_CACHE_SECONDS": 0,
            # ... nor the console overview's graded pass (tests/test_overview.py turns it on).
            "OVERVIEW_CACHE_SECONDS": 0,
            # Every test logs its users in from 127.0.0.1 under a frozen clock: one window for all.
            "RATE_LIMIT_WECHAT_LOGINS_PER_MINUTE": 0}


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


@pytest.fixture
def make_shop(client, login_as):
    """Factory: a shop registered over HTTP by a new owner: a :class:`ShopMade` (``shop, manager,
    owner = make_shop()``, or ``.shop_id``, ``.manager``, ``.owner`` as on :func:`contracted`)."""
    counter = iter(range(1, 10_000))

    def make(**changes):
        owner, headers = login_as()
        response = client.post("/api/v1/shops", json=shop_body(next(counter) + 100, **changes), headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return ShopMade(response.get_json(), owner, headers)

    return make


@pytest.fixture
def city(app, frozen_clock, make_company, make_user):
    """Direct construction of records (the HTTP paths are tested elsewhere), clock at 2024-03-22 09:30."""
    owner = make_user()
    inspector = make_user("inspector", jurisdiction=["370811"])
    company = make_company(["370811"])
    checklist_version = db.session.scalar(select(func.max(ChecklistVersion.id)))

    class City:
        contracts = {}  # shop id → its contract's id

        def contract_of(self, shop):
            """The shop's contract; a shop without one (tests of no_contract) borrows the first."""
            return self.contracts.get(shop.id) or next(iter(self.contracts.values()))

        def shop(self, n=1, heads=3, installed=True, efficiency=80.0, registered=dt.date(2024, 1, 1), contract=True):
            shop = Shop(name=f"店{n}", uscc=credit_code(n), address=f"路{n}号", address_key=f"路{n}号",
                        district_code="370811", lat=35.4151 + n * 1e-4, lng=116.5872, cooking_heads=heads,
                        purifier_installed=installed, purifier_rated_efficiency=efficiency, status="active",
                        registered_on=registered, source="import", created_by_id=owner.id)
            db.session.add(shop)
            db.session.flush()
            if contract:
                row = Contract(shop_id=shop.id, collector_company_id=company.id, contract_no="H",
                               valid_from=dt.date(2024, 1, 1), valid_until=dt.date(2099, 1, 1),
                               recorded_by_id=owner.id, recorded_at=at(2024, 1, 1))
                db.session.add(row)
                db.session.flush()
                self.contracts[shop.id] = row.id
            self.save()
            return shop

        def cleaning(self, shop, on, received=None):
            db.session.add(Cleaning(shop_id=shop.id, cleaned_on=on, parts=["purifier"], performed_by="self",
                                    logged_by_id=owner.id, received_at=received or utcnow()))
            self.save()

        def slip(self, shop, when, status="confirmed", answered=None, received=None, kg=None, declared=None, bins=None,
                 waste_type="kitchen_waste"):
            db.session.add(Handover(serial=f"S{random.random()}", shop_id=shop.id, collector_company_id=company.id,
                                    contract_id=self.contract_of(shop), handed_over_at=when, waste_type=waste_type,
                                    status=status, weighed_kg=kg, declared_kg=declared, bins=bins,
                                    started_by_party="shop", started_by_id=owner.id,
                                    received_at=received or when,
                                    answered_at=None if status == "pending" else (answered or when)))
            self.save()

        def inspection(self, shop, when, fails=(), deadline=None, voided=False):
            inspection = Inspection(shop_id=shop.id, inspector_id=inspector.id, checklist_version_id=checklist_version,
                                    inspected_at=when, received_at=when, lat=shop.lat, lng=shop.lng, distance_m=0,
                                    voided_at=utcnow() if voided else None)
            db.session.add(inspection)
            db.session.flush()
            for code in fails:
                db.session.add(InspectionItem(inspection_id=inspection.id, code=code, result="fail"))
            if fails:
                order = Rectification(shop_id=shop.id, inspection_id=inspection.id, items=list(fails),
                                      deadline=deadline or (when.date() + dt.timedelta(days=7)), created_at=when)
                db.session.add(order)
                db.session.flush()
                db.session.add(RectificationEvent(rectification_id=order.id, action="created", actor_id=inspector.id,
                                                  at=when, deadline=order.deadline))
            self.save()
            return inspection

        def save(self):
            audit.record("test.fixture", "shop", None)
            db.session.commit()

    return City()


@pytest.fixture
def contracted(client, login_as, make_shop, make_company):
    """A shop with a valid contract with a company, its manager, and a driver of that company."""
    made = make_shop()
    company = make_company(["370811"])
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    response = client.post(f"/api/v1/shops/{made.shop_id}/contract", headers=regulator, json={
        "collector_company_id": company.id, "contract_no": "HT-1", "valid_from": "2024-01-01",
        "valid_until": "2099-12-31", "photo_ids": [upload_photo(client, regulator, 900)]})
    assert response.status_code == 201, response.get_data(as_text=True)
    driver, driver_headers = login_as("collector", company=company)
    return types.SimpleNamespace(**made._asdict(), shop_id=made.shop_id, company=company, company_id=company.id,
                                 driver=driver, collector=driver_headers, regulator=regulator)
