"""Claim codes (一店一码), members, join codes, handing over management."""
import datetime as dt

from sqlalchemy import select

from server.extensions import db
from server.models import ShopCode
from tests.helpers import error_of, shop_body


def unclaimed_shop(client, login_as, **changes):
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    shop = client.post("/api/v1/shops", json=shop_body(**changes), headers=inspector).get_json()
    return shop, inspector


def test_claim_an_unclaimed_shop_with_a_one_time_code(client, login_as):
    shop, inspector = unclaimed_shop(client, login_as)
    issued = client.post(f"/api/v1/shops/{shop['id']}/claim-code", headers=inspector)
    assert issued.status_code == 201
    code = issued.get_json()["code"]
    assert code not in str(db.session.scalars(select(ShopCode.code_hash)).all())
    owner, headers = login_as()
    claimed = client.post("/api/v1/shops/claim", json={"code": code}, headers=headers)
    assert claimed.status_code == 200 and claimed.get_json()["claimed"] is True
    assert client.get("/api/v1/me", headers=headers).get_json()["shop_ids"] == [shop["id"]]
    _, late = login_as()
    error_of(client.post("/api/v1/shops/claim", json={"code": code}, headers=late), 422)


def test_claim_codes_expire_and_a_new_one_replaces_the_old(client, login_as, login, frozen_clock):
    shop, inspector = unclaimed_shop(client, login_as)
    first = client.post(f"/api/v1/shops/{shop['id']}/claim-code", headers=inspector).get_json()["code"]
    second = client.post(f"/api/v1/shops/{shop['id']}/claim-code", headers=inspector).get_json()["code"]
    user, headers = login_as()
    error_of(client.post("/api/v1/shops/claim", json={"code": first}, headers=headers), 422)
    frozen_clock.advance(dt.timedelta(days=31))
    headers = login(user)
    error_of(client.post("/api/v1/shops/claim", json={"code": second}, headers=headers), 422)
    error_of(client.post("/api/v1/shops/claim", json={"code": "NOPE"}, headers=headers), 422)


def test_claim_codes_only_from_staff_in_jurisdiction(client, login_as, make_shop):
    shop, _, owner = make_shop()
    error_of(client.post(f"/api/v1/shops/{shop['id']}/claim-code", headers=owner), 403)
    _, far_inspector = login_as("inspector", jurisdiction=["370883"])
    error_of(client.post(f"/api/v1/shops/{shop['id']}/claim-code", headers=far_inspector), 404)


def test_a_claimed_shop_cannot_be_claimed_again(client, login_as, make_shop):
    shop, _, _ = make_shop()
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    code = client.post(f"/api/v1/shops/{shop['id']}/claim-code", headers=inspector).get_json()["code"]
    _, headers = login_as()
    error_of(client.post("/api/v1/shops/claim", json={"code": code}, headers=headers), 409)


def test_members_join_leave_and_management_is_handed_over(client, login_as, make_shop):
    shop, manager, manager_headers = make_shop()
    base = f"/api/v1/shops/{shop['id']}/members"
    code = client.post(base + "/invite", headers=manager_headers).get_json()["code"]
    cook, cook_headers = login_as()
    assert client.post("/api/v1/shops/join", json={"code": code}, headers=cook_headers).status_code == 200
    error_of(client.post(base + "/invite", headers=cook_headers), 403)  # staff cannot invite
    roles = {m["user_id"]: m["role"] for m in client.get(base, headers=cook_headers).get_json()}
    assert roles == {manager.id: "manager", cook.id: "staff"}
    error_of(client.delete(f"{base}/{manager.id}", headers=manager_headers), 409)  # hand over first
    handed = client.post(f"{base}/{cook.id}/make-manager", headers=manager_headers).get_json()
    assert {m["user_id"]: m["role"] for m in handed} == {manager.id: "staff", cook.id: "manager"}
    assert client.delete(f"{base}/{manager.id}", headers=manager_headers).status_code == 204  # leaves
    error_of(client.get(f"/api/v1/shops/{shop['id']}", headers=manager_headers), 404)
    helper, helper_headers = login_as()
    code = client.post(base + "/invite", headers=cook_headers).get_json()["code"]
    client.post("/api/v1/shops/join", json={"code": code}, headers=helper_headers)
    assert client.delete(f"{base}/{helper.id}", headers=cook_headers).status_code == 204  # removed
    error_of(client.delete(f"{base}/{helper.id}", headers=cook_headers), 404)


def test_join_codes_are_one_time(client, login_as, make_shop):
    shop, _, manager_headers = make_shop()
    code = client.post(f"/api/v1/shops/{shop['id']}/members/invite", headers=manager_headers).get_json()["code"]
    _, first = login_as()
    _, second = login_as()
    assert client.post("/api/v1/shops/join", json={"code": code}, headers=first).status_code == 200
    error_of(client.post("/api/v1/shops/join", json={"code": code}, headers=second), 422)
