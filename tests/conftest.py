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


@pytest.fixture
def app_config(db_url, tmp_path):
    """The settings a test app is built with; override this fixture to change them."""
    return {"APP_ENV": "testing", "DATABASE_URL": db_url, "UPLOAD_DIR": str(tmp_path / "uploads"),
            "SECRET_KEY": "test-secret-key"}


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        yield app
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
    assert set(error) <= {"code", "message", "fields"}
    assert error["code"] and error["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), "message should be Chinese"
    return error
