"""Logging in: WeChat code2Session over real HTTP (faked on 127.0.0.1), dev login, passwords, tokens."""
import datetime as dt
import logging
import time

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash


from server.extensions import db
from server.models import AuditEntry, AuthToken, User
from tests.helpers import bearer, error_of
from tests.fake_wechat import SESSION_KEY

PASSWORD = "Correct-Horse-9"


def wechat(client, code):
    return client.post("/api/v1/auth/wechat-login", json={"code": code})


def test_first_login_creates_a_user_and_returns_a_token(client, fake_wechat):
    response = wechat(client, "ok-new-openid-1")
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["token"]) >= 43 and body["expires_at"].endswith("+08:00")
    assert body["user"]["role"] == "user" and body["user"]["shop_ids"] == []
    sent = fake_wechat.requests[-1]
    assert sent["path"] == "/sns/jscode2session"
    assert sent["query"] == {"appid": "wx-test-appid", "secret": "test-app-secret",
                             "js_code": "ok-new-openid-1", "grant_type": "authorization_code"}
    me = client.get("/api/v1/me", headers=bearer(body["token"])).get_json()
    assert me["id"] == body["user"]["id"]
    # The same openid again is the same user.
    assert wechat(client, "ok-new-openid-1").get_json()["user"]["id"] == me["id"]


def test_token_lifetime_follows_token_ttl_hours(client, frozen_clock):
    body = wechat(client, "ok-ttl").get_json()
    assert body["expires_at"] == "2024-03-25T09:30:00+08:00"  # 72 h after the frozen 09:30


def test_unionid_is_stored_when_wechat_sends_it(client):
    user_id = wechat(client, "union-u1").get_json()["user"]["id"]
    assert db.session.get(User, user_id).unionid == "union-of-u1"


@pytest.mark.parametrize("code,status,error_code", [
    ("bad", 401, "unauthorized"), ("used", 401, "unauthorized"), ("blocked", 403, "forbidden"),
    ("busy", 502, "upstream_unavailable"), ("limited", 502, "upstream_unavailable"),
    ("garbage", 502, "upstream_unavailable"), ("error500", 502, "upstream_unavailable"),
    ("list", 502, "upstream_unavailable"),
])
def test_wechat_answers_are_mapped(client, code, status, error_code):
    assert error_of(wechat(client, code), status)["code"] == error_code
    assert db.session.scalar(select(User.id)) is None  # nothing created


def test_a_hung_wechat_gives_502_promptly(client):
    started = time.monotonic()
    assert error_of(wechat(client, "slow"), 502)["code"] == "upstream_unavailable"
    assert time.monotonic() - started < 10


def test_an_unreachable_wechat_gives_502(app_config, make_app):
    app = make_app(dict(app_config, WECHAT_API_BASE="http://127.0.0.1:1"))
    assert error_of(wechat(app.test_client(), "ok-x"), 502)["code"] == "upstream_unavailable"


def test_session_key_never_leaves_the_server(client, caplog, app):
    caplog.set_level(logging.DEBUG)
    responses = [wechat(client, "ok-sk"), wechat(client, "union-sk"), wechat(client, "busy")]
    for response in responses:
        assert SESSION_KEY not in response.get_data(as_text=True)
        assert "session_key" not in response.get_data(as_text=True)
    assert SESSION_KEY not in caplog.text
    for entry in db.session.scalars(select(AuditEntry)):
        assert SESSION_KEY not in entry.summary
    assert all(SESSION_KEY not in str(v) for u in db.session.scalars(select(User)) for v in vars(u).values())


@pytest.mark.parametrize("body", [
    {}, {"code": ""}, {"code": 123}, {"code": None}, {"code": ["ok-a"]}, {"code": "x" * 129},
    {"code": "ok-a", "extra": 1}, {"code": "ok-a\nforged log line"},
])
def test_bad_login_bodies_are_422_and_create_nothing(client, body):
    assert error_of(client.post("/api/v1/auth/wechat-login", json=body), 422)["code"] == "validation_failed"
    assert db.session.scalar(select(User.id)) is None


def test_dev_login_is_impossible_outside_development(client, fake_wechat):
    # Testing config: dev-<name> is just a code, sent to WeChat, which refuses it.
    assert error_of(wechat(client, "dev-alice"), 401)["code"] == "unauthorized"
    assert fake_wechat.requests[-1]["query"]["js_code"] == "dev-alice"
    for config in ({"APP_ENV": "production", "SECRET_KEY": "k" * 32},
                   {"APP_ENV": "development", "WECHAT_APPID": "wx1", "WECHAT_SECRET": "s"}):
        from server.config import dev_login_enabled, load_config
        assert not dev_login_enabled(load_config(config, environ={}))


def test_dev_login_works_in_development_without_wechat(db_url, tmp_path, make_app):
    app = make_app({"APP_ENV": "development", "DATABASE_URL": db_url, "WECHAT_APPID": None,
                      "UPLOAD_DIR": str(tmp_path)})
    client = app.test_client()
    response = wechat(client, "dev-alice")
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(User.openid).where(User.id == response.get_json()["user"]["id"])) \
            == "dev-alice"
    assert error_of(wechat(client, "dev-"), 502)["code"] == "upstream_unavailable"  # not a dev code


def test_logout_revokes_the_token(client):
    headers = bearer(wechat(client, "ok-bye").get_json()["token"])
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert error_of(client.get("/api/v1/me", headers=headers), 401)["code"] == "unauthorized"


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Token abc", "bearer abc", "Bearer a b", "Bearer " + "x" * 43,
    "Basic dXNlcjpwYXNz", "Bearer " + "y" * 300,
])
def test_missing_or_garbage_tokens_are_401(client, header):
    headers = {"Authorization": header} if header is not None else {}
    assert error_of(client.get("/api/v1/me", headers=headers), 401)["code"] == "unauthorized"


def test_expired_token_is_401(client, frozen_clock):
    headers = bearer(wechat(client, "ok-old").get_json()["token"])
    frozen_clock.advance(dt.timedelta(hours=72, seconds=1))
    assert error_of(client.get("/api/v1/me", headers=headers), 401)["code"] == "unauthorized"


def test_tokens_are_stored_only_as_hashes(client):
    token = wechat(client, "ok-hash").get_json()["token"]
    stored = db.session.scalars(select(AuthToken.token_hash)).all()
    assert token not in stored and len(stored[0]) == 64


@pytest.fixture
def admin(app):
    user = User(username="chief", password_hash=generate_password_hash(PASSWORD), role="admin",
                display_name="局管理员")
    db.session.add(user)
    from server.services import audit
    db.session.flush()
    audit.record("user.create_admin", "user", user.id, "test")
    db.session.commit()
    return user


def password_login(client, username, password, addr="10.0.0.1"):
    return client.post("/api/v1/auth/password-login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr})


def test_password_login(client, admin):
    response = password_login(client, "Chief", PASSWORD)
    assert response.status_code == 200
    assert response.get_json()["user"]["role"] == "admin"
    assert response.get_json()["user"]["jurisdiction"] is None


def test_wrong_password_and_unknown_user_get_the_same_answer(client, admin):
    wrong = password_login(client, "chief", "Wrong-Horse-9")
    unknown = password_login(client, "nobody", "Wrong-Horse-9")
    assert dict(error_of(wrong, 401), request_id=None) == dict(error_of(unknown, 401), request_id=None)


def test_unknown_user_takes_as_long_as_a_wrong_password(client, admin):
    def timed(username):
        started = time.perf_counter()
        password_login(client, username, "Wrong-Horse-9", addr=f"10.9.{len(username)}.1")
        return time.perf_counter() - started
    timed("warm-up")
    wrong, unknown = min(timed("chief") for _ in range(3)), min(timed("nobody") for _ in range(3))
    # Both run one scrypt check; a missing user must not answer in a fraction of the time.
    assert unknown > wrong / 3


def test_failures_per_username_are_throttled_with_retry_after(client, admin, frozen_clock):
    for i in range(10):
        assert password_login(client, "chief", "Wrong-Horse-9", addr=f"10.1.0.{i}").status_code == 401
    response = password_login(client, "chief", PASSWORD, addr="10.1.1.1")
    error_of(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    frozen_clock.advance(dt.timedelta(minutes=15, seconds=1))
    assert password_login(client, "chief", PASSWORD).status_code == 200


def test_failures_per_address_are_throttled(client, admin):
    for i in range(50):
        assert password_login(client, f"guess{i}", "Wrong-Horse-9", addr="10.2.0.1").status_code == 401
    error_of(password_login(client, "chief", PASSWORD, addr="10.2.0.1"), 429)
    assert password_login(client, "chief", PASSWORD, addr="10.2.0.2").status_code == 200


def test_console_session_ends_after_30_idle_minutes_and_8_hours(client, admin, frozen_clock):
    headers = bearer(password_login(client, "chief", PASSWORD).get_json()["token"])
    frozen_clock.advance(dt.timedelta(minutes=29))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    frozen_clock.advance(dt.timedelta(minutes=31))
    assert error_of(client.get("/api/v1/me", headers=headers), 401)["message"] == "长时间未操作，请重新登录"
    headers = bearer(password_login(client, "chief", PASSWORD).get_json()["token"])
    for _ in range(16):  # active all day, every 29 minutes: 7 h 44 min
        frozen_clock.advance(dt.timedelta(minutes=29))
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    frozen_clock.advance(dt.timedelta(minutes=29))  # 8 h 13 min after login
    error_of(client.get("/api/v1/me", headers=headers), 401)


def test_a_newline_in_a_username_cannot_forge_a_log_line(client, admin, caplog):
    caplog.set_level(logging.WARNING)
    response = password_login(client, "chief\nINFO forged: admin logged in", "x")
    error_of(response, 401)
    failed = [r.getMessage() for r in caplog.records if "password login failed" in r.getMessage()]
    assert failed and all("\n" not in message for message in failed)


def test_wechat_users_cannot_use_password_login(client, make_user):
    """Owners and collectors use WeChat only, even with a password hash somehow set; staff (inspectors
    too, API.md: "Regulators, admins and inspectors may hold one") may use the console."""
    for n, role in enumerate(("user", "collector", "collector_manager")):
        make_user(role, username=f"wx{n}", password_hash=generate_password_hash(PASSWORD))
        error_of(password_login(client, f"wx{n}", PASSWORD), 401)
    make_user("inspector", username="insp", password_hash=generate_password_hash(PASSWORD))
    assert password_login(client, "insp", PASSWORD).status_code == 200
