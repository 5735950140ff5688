"""Staff lifecycle: listing, re-scoping, disabling; personal data of the caller."""
import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import User
from tests.helpers import error_of


def patch(client, headers, user_id, **body):
    return client.patch(f"/api/v1/users/{user_id}", json=body, headers=headers)


def test_admin_lists_all_staff(client, login_as, make_user, make_company):
    _, admin = login_as("admin", jurisdiction=None)
    make_user("inspector", jurisdiction=["370812"])
    make_user("collector", company=make_company())
    make_user("user")
    body = client.get("/api/v1/users", headers=admin).get_json()
    assert sorted(u["role"] for u in body["items"]) == ["admin", "collector", "inspector"]
    assert body["total"] == 3
    only = client.get("/api/v1/users?role=inspector", headers=admin).get_json()["items"]
    assert [u["role"] for u in only] == ["inspector"]


def test_regulator_sees_only_its_inspectors_and_collectors(client, login_as, make_user, make_company):
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    mine = make_user("inspector", jurisdiction=["370811"])
    make_user("inspector", jurisdiction=["370811", "370812"])
    make_user("inspector", jurisdiction=None)
    make_user("regulator", jurisdiction=["370811"])
    make_user("admin", jurisdiction=None)
    driver = make_user("collector", company=make_company(["370811"]))
    make_user("collector", company=make_company(["370883"]))
    ids = [u["id"] for u in client.get("/api/v1/users", headers=regulator).get_json()["items"]]
    assert ids == [mine.id, driver.id]


def test_plain_users_cannot_see_users(client, login_as):
    for role in ("user", "inspector", "collector_manager"):
        _, headers = login_as(role)
        error_of(client.get("/api/v1/users", headers=headers), 403)


def test_disabling_a_user_stops_its_live_token_at_once(client, login_as):
    _, admin = login_as("admin", jurisdiction=None)
    inspector, inspector_headers = login_as("inspector")
    assert client.get("/api/v1/me", headers=inspector_headers).status_code == 200
    assert patch(client, admin, inspector.id, disabled=True).get_json()["disabled"] is True
    error_of(client.get("/api/v1/me", headers=inspector_headers), 401)
    error_of(client.post("/api/v1/auth/wechat-login", json={"code": "ok-" + inspector.openid}), 403)
    patch(client, admin, inspector.id, disabled=False)
    assert client.post("/api/v1/auth/wechat-login", json={"code": "ok-" + inspector.openid}).status_code == 200


def test_a_demoted_user_loses_access_at_once(client, login_as):
    _, admin = login_as("admin", jurisdiction=None)
    regulator, regulator_headers = login_as("regulator", jurisdiction=None)
    assert client.get("/api/v1/users", headers=regulator_headers).status_code == 200
    patch(client, admin, regulator.id, role="inspector", jurisdiction=["370811"])
    error_of(client.get("/api/v1/users", headers=regulator_headers), 403)


def test_regulator_rescopes_within_its_jurisdiction_only(client, login_as, make_user):
    _, regulator = login_as("regulator", jurisdiction=["370811", "370812"])
    inspector = make_user("inspector", jurisdiction=["370811"])
    assert patch(client, regulator, inspector.id, jurisdiction=["370812"]).get_json()["jurisdiction"] == ["370812"]
    error_of(patch(client, regulator, inspector.id, jurisdiction=["370883"]), 403)
    error_of(patch(client, regulator, inspector.id, role="regulator"), 403)
    error_of(patch(client, regulator, inspector.id, jurisdiction=None), 403)
    outsider = make_user("inspector", jurisdiction=["370883"])
    error_of(patch(client, regulator, outsider.id, disabled=True), 404)
    admin = make_user("admin", jurisdiction=None)
    error_of(patch(client, regulator, admin.id, disabled=True), 404)


def test_nobody_disables_or_demotes_themselves(client, login_as):
    admin, headers = login_as("admin", jurisdiction=None)
    error_of(patch(client, headers, admin.id, disabled=True), 409)
    error_of(patch(client, headers, admin.id, role="inspector"), 409)


def test_admin_sets_a_console_password(client, login_as, make_user):
    _, admin = login_as("admin", jurisdiction=None)
    regulator = make_user("regulator", jurisdiction=["370811"])
    url = f"/api/v1/users/{regulator.id}/password"
    fields = error_of(client.post(url, json={"password": "Str0ng-Pass!"}, headers=admin), 422)["fields"]
    assert "username" in fields
    fields = error_of(client.post(url, json={"password": "short", "username": "li.si"}, headers=admin), 422)
    assert "password" in fields["fields"]
    error_of(client.post(url, json={"password": "alllowercaseletters", "username": "li.si"}, headers=admin), 422)
    assert client.post(url, json={"password": "Str0ng-Pass!", "username": "li.si"}, headers=admin).status_code == 204
    login = client.post("/api/v1/auth/password-login", json={"username": "li.si", "password": "Str0ng-Pass!"})
    assert login.status_code == 200 and login.get_json()["user"]["role"] == "regulator"
    assert login.get_json()["user"]["password_must_change"] is True  # the admin chose it: the user must not keep it
    own = {"Authorization": "Bearer " + login.get_json()["token"]}
    error_of(client.post("/api/v1/me/password", json={"current_password": "wrong", "password": "Mine-0wn-Pass"},
                         headers=own), 422)
    assert client.post("/api/v1/me/password", json={"current_password": "Str0ng-Pass!", "password": "Mine-0wn-Pass"},
                       headers=own).status_code == 204
    assert client.get("/api/v1/me", headers=own).get_json()["password_must_change"] is False
    inspector = make_user("inspector")  # API.md: regulators, admins and inspectors may hold one
    assert client.post(f"/api/v1/users/{inspector.id}/password",
                       json={"password": "Str0ng-Pass!", "username": "insp"}, headers=admin).status_code == 204
    owner = make_user("user")
    error_of(client.post(f"/api/v1/users/{owner.id}/password",
                         json={"password": "Str0ng-Pass!", "username": "owner"}, headers=admin), 422)
    _, regulator_headers = login_as("regulator", jurisdiction=None)
    error_of(client.post(url, json={"password": "Str0ng-Pass!"}, headers=regulator_headers), 403)


def test_privacy_consent_is_recorded(client, login_as):
    user, headers = login_as()
    body = client.post("/api/v1/me/privacy-consent", json={"version": "2024-03"}, headers=headers).get_json()
    assert body["privacy_accepted_version"] == "2024-03"
    assert db.session.get(User, user.id).privacy_accepted_at is not None


def test_phone_is_encrypted_at_rest_and_shown_to_its_owner(client, login_as, db_url):
    user, headers = login_as()
    body = client.patch("/api/v1/me", json={"phone": "13812341234"}, headers=headers).get_json()
    assert body["phone"] == "13812341234"
    stored = db.session.get(User, user.id).phone_encrypted
    assert stored and b"13812341234" not in bytes(stored) and b"1234" not in bytes(stored)
    error_of(client.patch("/api/v1/me", json={"phone": "12345"}, headers=headers), 422)


def test_deactivation_erases_personal_data_and_keeps_a_pseudonym(client, login_as):
    user, headers = login_as()
    openid = user.openid
    client.patch("/api/v1/me", json={"phone": "13812341234", "display_name": "王老板"}, headers=headers)
    assert client.post("/api/v1/me/deactivate", headers=headers).status_code == 204
    error_of(client.get("/api/v1/me", headers=headers), 401)
    db.session.expire_all()
    erased = db.session.get(User, user.id)
    assert (erased.openid, erased.unionid, erased.phone_encrypted) == (None, None, None)
    assert erased.display_name == f"已注销用户{user.id}" and erased.disabled
    # Logging in again with the same WeChat account starts a new, empty account.
    again = client.post("/api/v1/auth/wechat-login", json={"code": "ok-" + openid}).get_json()
    assert again["user"]["id"] != user.id


def test_admins_cannot_deactivate_themselves(client, login_as):
    _, headers = login_as("admin", jurisdiction=None)
    error_of(client.post("/api/v1/me/deactivate", headers=headers), 403)


@pytest.mark.parametrize("name", ["Robert'); DROP TABLE users;--", "<script>alert(1)</script>"])
def test_hostile_names_are_kept_as_plain_text(client, login_as, name):
    _, headers = login_as()
    assert client.patch("/api/v1/me", json={"display_name": name}, headers=headers).get_json()["display_name"] == name
    assert db.session.scalar(select(User.id).where(User.display_name == name))
