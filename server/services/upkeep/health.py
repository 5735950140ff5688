"""Liveness of the app and its database."""
import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.extensions import db

log = logging.getLogger(__name__)


def database_ok():
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return True
    except SQLAlchemyError as exc:
        log.error("health check: database unreachable: %s", exc)
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass
        return False
