"""Settings come from the environment; production refuses to run without a secret."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from server import create_app
from server.config import ConfigError, dev_login_enabled, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_production_without_secret_key_refuses_to_start():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SECRET_KEY": None})


def test_production_without_secret_key_fails_at_import_of_wsgi(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    env.update(APP_ENV="production", DATABASE_URL="sqlite:///" + str(tmp_path / "x.db"))
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "APP_ENV=production needs SECRET_KEY" in result.stderr


def test_production_with_secret_key_starts(tmp_path, make_app):
    app = make_app({"APP_ENV": "production", "SECRET_KEY": "x" * 40,
                      "DATABASE_URL": "sqlite:///" + str(tmp_path / "p.db")})
    assert not app.testing and app.config["SECRET_KEY"] == "x" * 40


def test_settings_are_read_from_the_environment():
    config = load_config(environ={
        "DATABASE_URL": "postgresql://u@db/x", "UPLOAD_DIR": "/srv/photos", "APP_ENV": "testing",
        "WECHAT_APPID": "wx1", "WECHAT_SECRET": "s", "WECHAT_API_BASE": "http://127.0.0.1:9",
        "TOKEN_TTL_HOURS": "24", "PHOTO_URL_TTL_MINUTES": "5", "RETENTION_YEARS": "7"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/x"
    assert config["UPLOAD_DIR"] == "/srv/photos"
    assert config["WECHAT_API_BASE"] == "http://127.0.0.1:9"
    assert (config["TOKEN_TTL_HOURS"], config["PHOTO_URL_TTL_MINUTES"], config["RETENTION_YEARS"]) == (24, 5, 7)
    assert config["TESTING"] is True


def test_defaults():
    config = load_config(environ={})
    assert config["APP_ENV"] == "development"
    assert config["SQLALCHEMY_DATABASE_URI"] is None  # → SQLite file in the instance folder
    assert config["UPLOAD_DIR"].endswith("uploads")
    assert config["WECHAT_API_BASE"] == "https://api.weixin.qq.com"
    assert (config["TOKEN_TTL_HOURS"], config["PHOTO_URL_TTL_MINUTES"], config["RETENTION_YEARS"]) == (72, 30, 5)


def test_bad_settings_say_what_is_wrong():
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_config(environ={"APP_ENV": "staging"})
    with pytest.raises(ConfigError, match="TOKEN_TTL_HOURS"):
        load_config(environ={"TOKEN_TTL_HOURS": "three"})


def test_dev_login_only_in_development_without_wechat_credentials():
    assert dev_login_enabled(load_config(environ={}))
    assert not dev_login_enabled(load_config(environ={"WECHAT_APPID": "wx1"}))
    assert not dev_login_enabled(load_config(environ={"APP_ENV": "testing"}))
    assert not dev_login_enabled(load_config(environ={"APP_ENV": "production", "SECRET_KEY": "k"}))


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"APP_ENV": "testing"})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("/instance/app.db")
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def test_a_web_worker_does_not_load_the_migration_tooling(tmp_path):
    """gunicorn imports wsgi without the flask command: Flask-Migrate, alembic and mako (12 MB of every
    worker) stay out; the flask command still has `db upgrade`."""
    env = {k: v for k, v in os.environ.items() if k != "FLASK_RUN_FROM_CLI"}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/app.db", UPLOAD_DIR=str(tmp_path / "uploads"), APP_ENV="testing")
    worker = subprocess.run([sys.executable, "-c", "import sys, wsgi; print(sorted({'flask_migrate', 'alembic', 'mako'}"
                             " & set(sys.modules)), 'migrate' in wsgi.app.extensions)"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert worker.stdout.split() == ["[]", "False"], worker.stderr
    command = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert command.returncode == 0, command.stderr
    assert "Running upgrade" in command.stderr + command.stdout


def test_gunicorn_workers_fix_the_mmap_threshold(monkeypatch):
    """Each worker keeps big short-lived blocks mapped (server/malloc.py), and glibc takes the setting."""
    import runpy

    from server import malloc

    calls = []
    monkeypatch.setattr(malloc, "fix_mmap_threshold", lambda: calls.append("fixed"))
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_fork"](None, None)
    assert calls == ["fixed"]
    monkeypatch.undo()
    assert malloc.fix_mmap_threshold() is (os.path.exists("/lib/x86_64-linux-gnu/libc.so.6")
                                           or os.path.exists("/lib/aarch64-linux-gnu/libc.so.6"))


@pytest.mark.parametrize("prefix", ["jn-cg.example.cn/claim", "https://jn-cg.example.cn/ claim", "ftp://x"])
def test_a_claim_qr_prefix_must_be_an_http_address(prefix):
    with pytest.raises(ConfigError, match="CLAIM_QR_URL_PREFIX"):
        load_config(environ={"CLAIM_QR_URL_PREFIX": prefix})


@pytest.mark.parametrize("prefix, held", [
    (None, "AB12CD34"), ("https://jn.example.cn/claim", "https://jn.example.cn/claim?code=AB12CD34"),
    ("https://jn.example.cn/m?from=sheet", "https://jn.example.cn/m?from=sheet&code=AB12CD34")])
def test_the_claim_qr_holds_the_code_under_the_configured_prefix(make_app, app_config, prefix, held):
    from server.console.admin import claim_qr_content

    app = make_app({**app_config, "CLAIM_QR_URL_PREFIX": prefix})
    with app.app_context():
        assert claim_qr_content("AB12CD34") == held
