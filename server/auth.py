"""Who is calling: bearer-token check, ``login_required`` / ``roles_required``.

Role, jurisdiction and the disabled flag are read from the database on every request, so
a demoted or disabled user loses access at once.  What a caller may *see* is decided by
the scoped queries in :mod:`server.services.scope`; an object outside the scope is a 404.
"""
import datetime as dt
import functools
from copy import deepcopy

from flask import g, request
from sqlalchemy import bindparam, select

from server import ratelimit
from server.clock import utcnow
from server.database import bookkeeping
from server.errors import fail
from server.extensions import db
from server.models.user import AuthToken, User
from server.security import digest

CONSOLE_MAX_AGE = dt.timedelta(hours=8)
CONSOLE_IDLE = dt.timedelta(minutes=30)
# A token's last use is written at most this often: enough to enforce the idle limit.
TOUCH_EVERY = dt.timedelta(seconds=60)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
SECURITY_DOC = {"security": [{"bearerAuth": []}],
                "responses": {"401": {"description": "未登录或登录已失效", "content": _ERROR_BODY},
                              "403": {"description": "没有权限", "content": _ERROR_BODY},
                              "429": {"description": "操作过于频繁（按用户限流）", "content": _ERROR_BODY}}}


def _token_from_header():
    header = request.headers.get("Authorization", "")
    if not header:
        fail(401, "请先登录")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or " " in token or len(token) > 256:
        fail(401, "登录凭证格式错误，应为 Authorization: Bearer <token>")
    return token


def forget_caller():
    """Start every request knowing nobody (tests may share one app context across requests)."""
    g.current_user = g.current_token = None


def authenticate():
    """Load the caller from the bearer token into ``g.current_user``, or answer 401."""
    if getattr(g, "current_user", None) is not None:
        return g.current_user
    return user_for_token(_token_from_header())


# The token and its user in one indexed read, built once (every request runs it).
_TOKEN_AND_USER = (select(AuthToken, User).outerjoin(User, User.id == AuthToken.user_id)
                   .where(AuthToken.token_hash == bindparam("token_hash")))


def user_for_token(raw, kind=None):
    """The live user behind a token (of ``kind`` when given) into ``g.current_user``, or 401.
    The API passes the bearer token; the console the token its session cookie holds."""
    token, user = db.session.execute(_TOKEN_AND_USER, {"token_hash": digest(raw)}).first() or (None, None)
    now = utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now or kind not in (None, token.kind):
        fail(401, "登录已失效，请重新登录")
    if token.kind == "console" and token.last_used_at + CONSOLE_IDLE <= now:
        fail(401, "长时间未操作，请重新登录")
    if user is None or user.disabled:
        fail(401, "账号已停用")
    if now - token.last_used_at >= TOUCH_EVERY:
        with bookkeeping(db.session):
            token.last_used_at = now
            db.session.commit()
    g.current_user, g.current_token = user, token
    return user


def current_user():
    """The authenticated caller (``login_required`` has run)."""
    return g.current_user


def _documented(wrapper):
    apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    manual.update(deepcopy(SECURITY_DOC))
    wrapper._apidoc = apidoc
    return wrapper


def admit(user, roles, rate_limit=None, refusal="没有权限执行此操作"):
    """The one role check, for the API and the console: ``user`` must hold one of ``roles`` (any role
    when none are named), else 403; then the request counts in its rate-limit bucket (every write in
    ``write``, or the one named), shared by all workers."""
    if roles and user.role not in roles:
        fail(403, refusal)
    bucket = rate_limit or ("write" if request.method in WRITE_METHODS else None)
    if bucket:
        ratelimit.hit(user, bucket)


def roles_required(*roles, rate_limit=None):
    """Only callers with one of ``roles`` (any logged-in caller when none are named); else 403.
    The one place rate limits are applied: every write counts in the ``write`` bucket, and a
    view may name another (``rate_limit="export"``)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            admit(authenticate(), roles, rate_limit)
            return view(*args, **kwargs)

        wrapper.required_roles = roles  # an idempotent replay re-checks them (server/idempotency.py)
        return _documented(wrapper)

    return decorator


login_required = roles_required()
