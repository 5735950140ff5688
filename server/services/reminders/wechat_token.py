"""WeChat's access token, one stored copy for every process and machine.

Read without a lock while more than 5 minutes remain.  Otherwise one process at a time (an advisory
lock on PostgreSQL, the write lock SQLite's ``BEGIN IMMEDIATE`` takes) re-reads the row and, only if
it is still stale, asks ``stable_token`` and stores the answer — so eight processes starting at once
make one call, not eight.  When WeChat says a token is invalid (40001/42001), :func:`renew` re-reads
the stored copy first (another process may have refreshed it) and forces a refresh at most once.
"""
import datetime as dt

from flask import current_app

from server.clock import utcnow
from server.database import one_at_a_time
from server.extensions import db
from server.models.notification import WeChatToken
from server.services import scope
from server.services.people import wechat

MARGIN = dt.timedelta(minutes=5)


def _fresh(row):
    return row is not None and row.expires_at - utcnow() > MARGIN


def current():
    """A token with more than 5 minutes left (raises :class:`wechat.Unreachable`)."""
    row = db.session.get(WeChatToken, current_app.config["WECHAT_APPID"])
    if _fresh(row):
        token = row.access_token
        db.session.rollback()
        return token
    db.session.rollback()
    return _refresh(rejected=None)


def renew(rejected):
    """A token other than ``rejected`` (the one WeChat just refused): the stored copy if another
    process has replaced it, else a forced refresh."""
    return _refresh(rejected=rejected)


def _refresh(rejected):
    appid = current_app.config["WECHAT_APPID"]
    try:
        one_at_a_time(db.session, "wechat_token:" + appid)
        row = scope.lock(WeChatToken, appid)
        if row is not None and row.access_token != rejected and _fresh(row):
            return row.access_token
        token, expires_in = wechat.stable_token(force_refresh=rejected is not None)
        now = utcnow()
        if row is None:
            row = WeChatToken(appid=appid, access_token=token, expires_at=now, refreshed_at=now)
            db.session.add(row)
        row.access_token, row.expires_at, row.refreshed_at = token, now + dt.timedelta(seconds=expires_in), now
        db.session.commit()
        return token
    finally:
        db.session.rollback()
