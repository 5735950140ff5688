"""餐饮油烟与餐厨废弃物监管 — the API server.  ``create_app`` is the only way in."""
import logging
import os
import sys
from pathlib import Path

from flask import Flask
from flask_swagger_ui import get_swaggerui_blueprint
from werkzeug.middleware.proxy_fix import ProxyFix

from server import cli, commit_pipeline, console, idempotency, miniapp, routes, web
from server.api import Api, IdConverter
from server.auth import forget_caller
from server.config import load_config
from server.database import configure_engine, watch_requests
from server.errors import register_error_handlers
from server.routes import open311
from server.extensions import db
from server.schemas import dump

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config=None):
    """Build the app.  ``config`` overrides settings read from the environment."""
    app = Flask(__name__)
    settings = load_config(config)
    if not settings["SQLALCHEMY_DATABASE_URI"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        settings["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "app.db")
    app.config.from_mapping(settings)
    app.url_map.converters["int"] = IdConverter
    app.json.ensure_ascii = False
    app.json.mimetype = "application/json; charset=utf-8"
    if settings["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings["TRUSTED_PROXIES"],
                                x_proto=settings["TRUSTED_PROXIES"])

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_migrations(app):
    """Flask-Migrate only where migrations run: under the ``flask`` command (``db upgrade``), or in a
    process that has imported it (tests and benches call ``flask_migrate.upgrade``).  A gunicorn
    worker never loads it: with alembic and mako it is 12 MB of every worker's memory."""
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true" or "flask_migrate" in sys.modules:
        from flask_migrate import Migrate

        Migrate(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)


def register_extensions(app):
    import server.models  # noqa: F401  (every table known before the engine is used)

    commit_pipeline.install()
    db.init_app(app)
    register_migrations(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    # One Api per app: flask-smorest keeps the app and its OpenAPI spec on the instance.
    app.extensions["smorest_api"] = Api(app)
    if not app.debug and not app.testing:
        handler = logging.StreamHandler()
        handler.addFilter(web.RequestIdFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
        logging.basicConfig(level=logging.INFO, handlers=[handler])


def register_blueprints(app):
    watch_requests(app, db.session)  # first: every other hook's reads of a GET are already deferred
    routes.register_blueprints(app.extensions["smorest_api"])
    open311.init_app(app)
    app.register_blueprint(miniapp.bp)
    app.register_blueprint(get_swaggerui_blueprint(
        "/api/v1/docs", "/api/v1/openapi.json", config={"app_name": app.config["API_TITLE"]}))

    web.init_app(app)
    console.init_app(app)  # after web: its HTML error pages get the same headers
    app.before_request(forget_caller)
    app.before_request(dump.forget)
    idempotency.init_app(app)


def register_commands(app):
    cli.register(app)
