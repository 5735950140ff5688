"""Logging in and out, and the caller's own account (个人信息)."""
import datetime as dt
import functools
import logging
import math
import re

from flask import current_app, g, request
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from server.auth import CONSOLE_MAX_AGE
from server.clock import utcnow
from server.config import dev_login_enabled
from server.errors import fail
from server import database, ratelimit
from server.extensions import db
from server.models.shop import ShopMember
from server.models.user import AuthToken, LoginFailure, User
from server.roles import CONSOLE_ROLES
from server.security import decrypt, encrypt, for_log, new_token, password_problem
from server.services import audit, scope
from server.services.people import wechat

log = logging.getLogger(__name__)

FAILURE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 10
MAX_FAILURES_PER_ADDRESS = 50
DEV_CODE = re.compile(r"^dev-[A-Za-z0-9_.-]{1,60}$")
WRONG_PASSWORD = "用户名或密码错误"


def _issue_token(user, kind, lifetime):
    token, token_hash = new_token()
    now = utcnow()
    row = AuthToken(token_hash=token_hash, user_id=user.id, kind=kind, created_at=now,
                    last_used_at=now, expires_at=now + lifetime)
    db.session.add(row)
    return {"token": token, "expires_at": row.expires_at, "user": me(user)}


def wechat_login(code):
    """小程序登录: ``wx.login`` code → WeChat's openid → our user and a token."""
    ratelimit.hit_address(request.remote_addr or "unknown", "wxlogin")
    if dev_login_enabled(current_app.config) and DEV_CODE.match(code):
        identity = {"openid": code, "unionid": None}
    else:
        identity = wechat.code2session(code)
    user = db.session.scalar(select(User).where(User.openid == identity["openid"]))
    if user is None:
        user = User(openid=identity["openid"], unionid=identity["unionid"], role="user")
        db.session.add(user)
        db.session.flush()
        audit.record("user.create", "user", user.id, "微信用户首次登录", actor=user)
    elif identity["unionid"] and user.unionid != identity["unionid"]:
        user.unionid = identity["unionid"]
    if user.disabled:
        db.session.rollback()
        fail(403, "账号已停用，请联系管理员")
    result = _issue_token(user, "wechat", dt.timedelta(hours=current_app.config["TOKEN_TTL_HOURS"]))
    audit.record("auth.login", "user", user.id, "微信登录", actor=user)
    db.session.commit()
    return result


@functools.cache
def _dummy_hash():
    # Checked when the username is unknown, so both answers take as long.
    return generate_password_hash("not-a-real-password-Aa1!")


def _throttled(username, address):
    """Seconds to wait when this username or address failed too often, else 0."""
    since = utcnow() - FAILURE_WINDOW
    oldest = None
    for column, value, limit in ((LoginFailure.username, username, MAX_FAILURES_PER_USERNAME),
                                 (LoginFailure.client_addr, address, MAX_FAILURES_PER_ADDRESS)):
        count, first = db.session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(column == value, LoginFailure.at > since)
        ).one()
        if count >= limit:
            oldest = first if oldest is None else min(oldest, first)
    if oldest is None:
        return 0
    return max(1, math.ceil((oldest + FAILURE_WINDOW - utcnow()).total_seconds()))


def _count_attempt(name, address):
    """Count this attempt as a failure before the password is checked (429 when over the limit):
    the count and the row are written one attempt at a time per username and address, so parallel
    attempts cannot all pass the check before any of them is counted.  A success removes it."""
    database.one_at_a_time(db.session, "login-user:" + name)
    database.one_at_a_time(db.session, "login-addr:" + address)
    wait = _throttled(name, address)
    if wait:
        db.session.rollback()
        log.warning("password login throttled for %s from %s", for_log(name), for_log(address))
        fail(429, f"登录失败次数过多，请 {math.ceil(wait / 60)} 分钟后再试", headers={"Retry-After": str(wait)})
    db.session.add(LoginFailure(username=name[:64], client_addr=address[:64], at=utcnow()))
    db.session.commit()


def password_login(username, password):
    """Console login.  The same answer, after the same work, whether or not the user exists."""
    name = username.strip().lower()
    address = request.remote_addr or "unknown"
    _count_attempt(name, address)
    user = db.session.scalar(select(User).where(User.username == name))
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    password_ok = check_password_hash(stored, password)
    if not password_ok or user is None or user.disabled or user.role not in CONSOLE_ROLES:
        db.session.rollback()
        log.warning("password login failed for %s from %s", for_log(name), for_log(address))
        fail(401, WRONG_PASSWORD)
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == name))
    result = _issue_token(user, "console", CONSOLE_MAX_AGE)
    audit.record("auth.login", "user", user.id, "密码登录（管理后台）", actor=user)
    db.session.commit()
    return result


def logout():
    g.current_token.revoked_at = utcnow()
    audit.record("auth.logout", "user", g.current_user.id, "退出登录")
    db.session.commit()


def revoke_tokens(user, kind=None):
    """End every live session of ``user`` (of one ``kind`` when given)."""
    statement = update(AuthToken).where(AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None))
    if kind:
        statement = statement.where(AuthToken.kind == kind)
    db.session.execute(statement.values(revoked_at=utcnow()))


def shop_ids_of(user):
    """Ids of the shops the user is a member of."""
    return list(db.session.scalars(select(ShopMember.shop_id).where(ShopMember.user_id == user.id)
                                   .order_by(ShopMember.shop_id)))


def me(user):
    shop_ids = shop_ids_of(user)
    role = "owner" if user.role == "user" and shop_ids else user.role
    return {"id": user.id, "role": role, "display_name": user.display_name,
            "jurisdiction": user.jurisdiction if user.role != "user" else None,
            "collector_company_id": user.collector_company_id, "shop_ids": shop_ids,
            "privacy_accepted_version": user.privacy_accepted_version,
            "phone": decrypt(user.phone_encrypted), "password_must_change": bool(user.password_must_change)}


def update_me(user, changes):
    summary = []
    if "display_name" in changes:
        user.display_name = changes["display_name"].strip()
        summary.append("姓名")
    if "phone" in changes:
        user.phone_encrypted = encrypt(changes["phone"])
        summary.append("手机号")
    if summary:
        audit.record("user.update_self", "user", user.id, "修改个人信息：" + "、".join(summary))
        db.session.commit()
    return me(user)


def accept_privacy(user, version):
    user.privacy_accepted_version = version
    user.privacy_accepted_at = utcnow()
    audit.record("user.privacy_consent", "user", user.id, f"同意隐私政策 {version}")
    db.session.commit()
    return me(user)


def deactivate(user):
    """注销: erase openid, unionid, name and phone; keep the records under a pseudonym."""
    if user.role == "admin":
        fail(403, "管理员账号不能自行注销，请由其他管理员停用")
    user.openid = user.unionid = user.username = user.password_hash = None
    user.phone_encrypted = None
    user.display_name = f"已注销用户{user.id}"
    user.disabled = True
    user.deactivated_at = utcnow()
    revoke_tokens(user)
    # A deactivated member is no member: a shop whose manager leaves can be claimed again with a
    # code from the district (its records stay, under the pseudonym).
    for member in db.session.scalars(select(ShopMember).where(ShopMember.user_id == user.id)):
        audit.record("shop.member_leave", "shop", member.shop_id,
                     f"{'负责人' if member.role == 'manager' else '店员'}注销账号，已退出店铺", shop_id=member.shop_id)
        db.session.delete(member)
    audit.record("user.deactivate", "user", user.id, "用户注销账号，个人信息已删除")
    db.session.commit()


USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


def create_admin(username, password):
    """A city-wide admin with a console password (the ``create-admin`` command)."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        fail(422, "用户名为 3–64 位字母、数字或 _ . -", fields={"username": ["用户名格式不正确"]})
    if db.session.scalar(select(User.id).where(User.username == username)):
        fail(409, f"用户名 {username} 已存在，未做任何修改")
    problem = password_problem(password, username)
    if problem:
        fail(422, problem, fields={"password": [problem]})
    user = User(username=username, password_hash=generate_password_hash(password), role="admin",
                jurisdiction=None, display_name=username)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create_admin", "user", user.id, f"命令行创建管理员 {username}")
    db.session.commit()
    return user


def set_password_for(user, user_id, password, username=None):
    """An admin sets or resets a console user's password (the user must be visible to the admin); the
    user must choose their own at the next login (one the admin set for themself is their own)."""
    account = scope.get_user_for(user, user_id)
    set_password(account, password, username, must_change=account.id != user.id)


def change_own_password(user, current, password):
    """A console user replaces their password (after an admin set it, before anything else)."""
    if not user.password_hash or not check_password_hash(user.password_hash, current or ""):
        fail(422, fields={"current_password": ["当前密码不正确"]})
    if check_password_hash(user.password_hash, password):
        fail(422, fields={"password": ["新密码不能与当前密码相同"]})
    problem = password_problem(password, user.username)
    if problem:
        fail(422, fields={"password": [problem]})
    user.password_hash, user.password_must_change = generate_password_hash(password), False
    audit.record("user.change_password", "user", user.id, "修改本人后台登录密码")
    db.session.commit()


def set_password(user, password, username=None, must_change=False):
    """Give a console user (inspector, regulator or admin) a password."""
    if user.role not in CONSOLE_ROLES:
        fail(422, "只有执法人员、监管人员和管理员可以使用密码登录", fields={"password": ["该用户不是后台用户"]})
    if username:
        taken = db.session.scalar(select(User.id).where(User.username == username.lower(), User.id != user.id))
        if taken:
            fail(409, "用户名已被占用")
        user.username = username.lower()
    if not user.username:
        fail(422, fields={"username": ["该用户还没有用户名，请同时设置 username"]})
    problem = password_problem(password, user.username)
    if problem:
        fail(422, fields={"password": [problem]})
    user.password_hash, user.password_must_change = generate_password_hash(password), must_change
    revoke_tokens(user, kind="console")
    audit.record("user.set_password", "user", user.id, f"设置后台登录密码（用户名 {user.username}）"
                 + ("，须在下次登录时修改" if must_change else ""))
    db.session.commit()

