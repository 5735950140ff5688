"""``Idempotency-Key`` on every POST (API.md Conventions; the IETF Idempotency-Key draft).

The same key from the same user on the same route (method + concrete path) within 7 days
replays the first response and creates nothing; while the first request still runs → 409;
the same key with a different body → 422 ``idempotency_key_reused``.

Only successful (2xx) answers are remembered: a request that failed created nothing, so
the client may retry it with the same key.  A request that died between its commit and
the storing of its answer leaves a key "in progress"; after ``ABANDONED_AFTER`` (longer
than gunicorn's worker timeout) such a key is treated as never used.
"""
import datetime as dt
import hashlib
import re

from flask import current_app, g, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from server.auth import authenticate
from server.clock import utcnow
from server.errors import fail
from server.extensions import db
from server.models.idempotency import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_FORMAT = re.compile(r"^[\x21-\x7e]{1,64}$")
REPLAY_WINDOW = dt.timedelta(days=7)
ABANDONED_AFTER = dt.timedelta(seconds=180)


def init_app(app):
    app.before_request(_claim_key)
    app.after_request(_remember_answer)
    app.teardown_request(_release_unfinished)


def _claim_key():
    g.idempotency = None
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return None
    if not KEY_FORMAT.match(key):
        fail(400, "Idempotency-Key 应为 1–64 个可见 ASCII 字符")
    if not request.headers.get("Authorization"):
        return None  # anonymous calls (logins) have no "same user" to replay for
    if request.url_rule is None:
        return None  # unknown path or method: the 404/405 answers itself
    user = authenticate()
    body_sha256 = hashlib.sha256(request.get_data(cache=True)).hexdigest()
    now = utcnow()
    where = (IdempotencyKey.user_id == user.id, IdempotencyKey.key == key,
             IdempotencyKey.method == request.method, IdempotencyKey.path == request.path[:512])
    existing = db.session.scalar(select(IdempotencyKey).where(*where))
    if existing is not None:
        expired = existing.created_at <= now - REPLAY_WINDOW
        abandoned = existing.status_code is None and existing.created_at <= now - ABANDONED_AFTER
        if not (expired or abandoned):
            if existing.body_sha256 != body_sha256:
                fail(422, "该 Idempotency-Key 已用于内容不同的请求", code="idempotency_key_reused")
            if existing.status_code is None:
                fail(409, "相同的请求正在处理中，请稍后再试")
            db.session.rollback()
            return _replay(existing)
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == existing.id))
    row = IdempotencyKey(user_id=user.id, key=key, method=request.method, path=request.path[:512],
                         body_sha256=body_sha256, created_at=now)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        fail(409, "相同的请求正在处理中，请稍后再试")
    g.idempotency = row.id
    return None


def _replay(row):
    response = current_app.response_class(row.body, status=row.status_code, content_type=row.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _remember_answer(response):
    row_id = getattr(g, "idempotency", None)
    if row_id is None:
        return response
    g.idempotency = None
    db.session.rollback()  # whatever the view left uncommitted is not ours to keep
    if 200 <= response.status_code < 300 and not response.is_streamed:
        row = db.session.get(IdempotencyKey, row_id)
        row.status_code = response.status_code
        row.content_type = response.content_type
        row.body = response.get_data()
    else:
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))
    db.session.commit()
    return response


def _release_unfinished(_exc):
    """The request died before an answer was made: forget the key so a retry can run."""
    row_id = getattr(g, "idempotency", None)
    if row_id is None:
        return
    g.idempotency = None
    try:
        db.session.rollback()
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))
        db.session.commit()
    except Exception:  # the database may be what failed; the key then expires as abandoned
        db.session.rollback()
