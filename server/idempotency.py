"""``Idempotency-Key`` on every POST (API.md Conventions; the IETF Idempotency-Key draft).

The same key from the same user on the same route (method + concrete path) within 7 days
replays the first response and creates nothing; while the first request still runs → 409;
the same key with a different body → 422 ``idempotency_key_reused``.  A replay is authorised
again first (the caller's role against the route's), and the stored answers are encrypted at rest.

The key is recorded **in the same transaction as the business write**: the first commit of
the request adds it (:func:`carry_key`, the first step of :mod:`server.commit_pipeline`), so either both the record and the key
exist or neither does.  Two identical requests racing each other cannot both commit: the
unique constraint on (user, key, method, path) fails the second, which answers 409 and
rolls its write back.  The answer itself is stored right after the view returns.  Should the
process die in between, the write stands and a retry answers 409 (never a second write).

A request that fails before committing anything (validation, permission) leaves no key, so
the client may fix and retry with the same key.
"""
import datetime as dt
import hashlib
import re

from flask import current_app, g, has_request_context, request
from sqlalchemy import bindparam, delete, select, update

from server.auth import authenticate
from server.clock import utcnow
from server.database import bookkeeping, is_bookkeeping, prepared, writing
from server.errors import fail
from server.extensions import db
from server.models.idempotency import IdempotencyKey
from server.security import seal, unseal

HEADER = "Idempotency-Key"
KEY_FORMAT = re.compile(r"^[\x21-\x7e]{1,64}$")
REPLAY_WINDOW = dt.timedelta(days=7)
IN_PROGRESS = "相同的请求正在处理或已处理，请稍后刷新查看结果"


def init_app(app):
    app.before_request(_check_key)
    app.after_request(_remember_answer)


def _where(user_id, key):
    return (IdempotencyKey.user_id == user_id, IdempotencyKey.key == key,
            IdempotencyKey.method == request.method, IdempotencyKey.path == request.path[:512])


def _check_key():
    g.idempotency = None
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return None
    if not KEY_FORMAT.match(key):
        fail(400, "Idempotency-Key 应为 1–64 个可见 ASCII 字符")
    if not request.headers.get("Authorization") or request.url_rule is None:
        return None  # anonymous calls (logins) have no "same user"; unknown routes answer 404/405
    user = authenticate()
    # Authorised again before anything is replayed: a caller who lost the role gets no old answer.
    roles = getattr(current_app.view_functions.get(request.endpoint), "required_roles", None)
    if roles and user.role not in roles:
        fail(403, "没有权限执行此操作")
    body_sha256 = _fingerprint()
    existing = db.session.scalar(select(IdempotencyKey).where(*_where(user.id, key)))
    if existing is not None and existing.created_at <= utcnow() - REPLAY_WINDOW:
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == existing.id))
        db.session.commit()
        existing = None
    if existing is not None:
        if existing.body_sha256 != body_sha256:
            fail(422, "该 Idempotency-Key 已用于内容不同的请求", code="idempotency_key_reused")
        if existing.status_code is None:
            fail(409, IN_PROGRESS)
        db.session.rollback()
        response = current_app.response_class(unseal(existing.body), status=existing.status_code,
                                              content_type=existing.content_type)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    # Ends the read transaction (SQLite: frees the write lock) before the view runs, keeping the caller
    # loaded (a rollback would expire the token and user, to be read again by the view's role check).
    with bookkeeping(db.session):
        db.session.commit()
    g.idempotency = {"user_id": user.id, "key": key, "body_sha256": body_sha256, "row_id": None}
    return None


def _fingerprint():
    """What makes a retry "the same request": the body's bytes — for a multipart upload, its fields and
    its files' contents instead, since a client's retry writes a new boundary (and may name the file
    anew): a photo whose answer was lost on the way back is replayed, not refused as another body."""
    if request.mimetype != "multipart/form-data":
        return hashlib.sha256(request.get_data(cache=True)).hexdigest()
    digest = hashlib.sha256(b"multipart\n")
    for name, value in sorted(request.form.items(multi=True)):
        digest.update(f"field {name}={value}\n".encode())
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
        digest.update(f"file {name}\n".encode())
        start = upload.stream.tell()
        for chunk in iter(lambda: upload.stream.read(1 << 16), b""):
            digest.update(chunk)
        upload.stream.seek(start)
    return digest.hexdigest()


def carry_key(session):
    """(a commit step) The request's first commit that writes something carries the key with it.

    Runs before the audit entries are appended under the chain's lock: on PostgreSQL two retries
    with one key wait for each other on the key's unique index, and neither may hold the chain's
    lock meanwhile."""
    if not has_request_context() or is_bookkeeping():
        return
    pending = g.get("idempotency")
    if not pending or pending["row_id"] is not None or pending.get("adding"):
        return
    if not (session.new or session.dirty or session.deleted):
        session.flush()  # nothing pending in the unit of work: this commit may still carry SQL writes
    row = IdempotencyKey(user_id=pending["user_id"], key=pending["key"], method=request.method,
                         path=request.path[:512], body_sha256=pending["body_sha256"], created_at=utcnow())
    pending["adding"] = True
    session.add(row)
    session.flush()
    pending["row_id"], pending["adding"] = row.id, False


def _remember_answer(response):
    pending = getattr(g, "idempotency", None)
    g.idempotency = None
    if not pending or pending["row_id"] is None:
        return response
    db.session.rollback()
    with writing(db.session):  # after the request's write: the rest of it reads without the lock
        # Whatever the answer, the write committed with the key: the same answer is replayed.  Sealed:
        # an answer may hold a one-time code, kept nowhere else but as a digest.  No row: the write
        # that carried the key was rolled back after all.
        _answer(db.session, row_id=pending["row_id"], status_code=response.status_code,
                content_type=response.content_type, body=seal(b"" if response.is_streamed else response.get_data()))
        db.session.commit()
    return response


@prepared
def _answer(_dialect):
    return (update(IdempotencyKey).where(IdempotencyKey.id == bindparam("row_id"))
            .values(status_code=bindparam("status_code"), content_type=bindparam("content_type"),
                    body=bindparam("body", type_=IdempotencyKey.body.type)))
