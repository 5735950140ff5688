"""Registering shops, reading them in scope, profile changes, change requests, status, contracts."""
import datetime as dt

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry, Shop
from tests.helpers import credit_code, error_of, shop_body, upload_photo


def register(client, headers, **changes):
    return client.post("/api/v1/shops", json=shop_body(**changes), headers=headers)


def test_a_wechat_user_registers_a_shop_and_becomes_its_manager(client, login_as):
    user, headers = login_as()
    response = register(client, headers)
    assert response.status_code == 201
    shop = response.get_json()
    assert shop["scale"] == "medium" and shop["claimed"] is True and shop["status"] == "active"
    assert shop["contact_phone"] == "13812341234"  # the shop sees its own number
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["role"] == "owner" and me["shop_ids"] == [shop["id"]]
    members = client.get(f"/api/v1/shops/{shop['id']}/members", headers=headers).get_json()
    assert [(m["user_id"], m["role"]) for m in members] == [(user.id, "manager")]
    stored = db.session.get(Shop, shop["id"]).contact_phone_encrypted
    assert b"13812341234" not in bytes(stored)


@pytest.mark.parametrize("heads,scale", [(1, "small"), (2, "small"), (3, "medium"), (5, "medium"),
                                         (6, "large"), (40, "large")])
def test_scale_is_derived_from_cooking_heads(client, login_as, heads, scale):
    _, headers = login_as()
    assert register(client, headers, cooking_heads=heads).get_json()["scale"] == scale


def test_undersized_purifier_is_accepted_and_marked(client, login_as):
    _, headers = login_as()
    shop = register(client, headers, cooking_heads=6, purifier={"installed": True, "rated_efficiency": 80}).get_json()
    assert shop["purifier"] == {"installed": True, "model": None, "rated_efficiency": 80.0,
                                "min_efficiency": 85.0, "undersized": True}


@pytest.mark.parametrize("changes,field,message", [
    ({"uscc": "91350100M000100Y44"}, "uscc", "统一社会信用代码校验位错误"),
    ({"uscc": "91350100M00010"}, "uscc", "统一社会信用代码应为 18 位"),
    ({"district_code": "110101"}, "district_code", "未知的区县代码：110101"),
    ({"lat": 0, "lng": 0}, "lat", None),
    ({"lat": 116.5872, "lng": 35.4151}, "lat", "纬度和经度可能填反了，请检查"),
    ({"cooking_heads": 0}, "cooking_heads", None),
    ({"cooking_heads": "three"}, "cooking_heads", "应为整数"),
    ({"name": "x" * 10_000}, "name", "长度应在 1 到 100 之间"),
    ({"name": "a\nb"}, "name", None),
    ({"contact_phone": "12345"}, "contact_phone", None),
    ({"purifier": {"installed": "maybe"}}, "purifier.installed", None),
    ({"purifier": {"installed": True, "rated_efficiency": 120}}, "purifier.rated_efficiency", None),
    ({"surprise": 1}, "surprise", "未知字段"),
], ids=lambda v: str(v)[:30])
def test_registration_rules(client, login_as, changes, field, message):
    _, headers = login_as()
    fields = error_of(register(client, headers, **changes), 422)["fields"]
    assert field in fields, fields
    if message:
        assert fields[field] == [message]
    assert db.session.scalar(select(Shop.id)) is None


def test_missing_fields_are_named(client, login_as):
    _, headers = login_as()
    fields = error_of(client.post("/api/v1/shops", json={}, headers=headers), 422)["fields"]
    assert set(fields) >= {"name", "uscc", "address", "district_code", "lat", "lng", "cooking_heads", "purifier"}


def test_duplicate_credit_code_and_address_is_409_pointing_to_the_claim_code(client, login_as):
    _, headers = login_as()
    register(client, headers)
    _, other = login_as()
    error = error_of(register(client, other, address=" 济宁市任城区古槐路1号 "), 409)
    assert "认领码" in error["message"]
    # The same legal entity may run another outlet at another address.
    assert register(client, other, address="济宁市任城区建设路9号").status_code == 201


def test_an_inspector_creates_an_unclaimed_shop_inside_its_jurisdiction(client, login_as):
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    shop = register(client, inspector).get_json()
    assert shop["claimed"] is False and shop["source"] == "patrol"
    error_of(register(client, inspector, uscc=credit_code(5), district_code="370883",
                      lat=35.40, lng=116.97), 403)


def test_collectors_cannot_register_shops(client, login_as, make_company):
    _, headers = login_as("collector", company=make_company())
    error_of(register(client, headers), 403)


def test_list_is_scoped_by_role(client, login_as, make_shop, make_company):
    mine, _, owner_headers = make_shop()
    other, _, _ = make_shop()
    far, _, _ = make_shop(district_code="370883", lat=35.40, lng=116.97)
    ids = lambda headers: [s["id"] for s in client.get("/api/v1/shops", headers=headers).get_json()["items"]]  # noqa
    assert ids(owner_headers) == [mine["id"]]
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    assert ids(inspector) == [mine["id"], other["id"]]
    _, regulator = login_as("regulator", jurisdiction=None)
    assert ids(regulator) == [mine["id"], other["id"], far["id"]]
    _, collector = login_as("collector", company=make_company())
    assert ids(collector) == []


def test_list_filters(client, login_as, make_shop):
    a, _, _ = make_shop(name="鸿运火锅")
    b, _, _ = make_shop(district_code="370883", lat=35.40, lng=116.97)
    _, regulator = login_as("regulator", jurisdiction=None)

    def ids(query):
        return [s["id"] for s in client.get("/api/v1/shops?" + query, headers=regulator).get_json()["items"]]
    assert ids("district_code=370883") == [b["id"]]
    assert ids("q=鸿运") == [a["id"]]
    assert ids("q=%25") == []  # a literal %, not a wildcard
    assert ids("claimed=true") == [a["id"], b["id"]]
    error_of(client.get("/api/v1/shops?near=abc", headers=regulator), 422)
    error_of(client.get("/api/v1/shops?distric_code=370883", headers=regulator), 422)


def test_near_and_radius(client, login_as, make_shop):
    here, _, _ = make_shop(lat=35.4151, lng=116.5872)
    block_away, _, _ = make_shop(lat=35.4181, lng=116.5872)  # ~334 m north
    make_shop(lat=35.4551, lng=116.5872)  # ~4.4 km
    _, regulator = login_as("regulator", jurisdiction=None)
    items = client.get("/api/v1/shops?near=35.4152,116.5872&radius_m=500", headers=regulator).get_json()["items"]
    assert [s["id"] for s in items] == [here["id"], block_away["id"]]
    assert items[0]["distance_m"] < 20 and 300 < items[1]["distance_m"] < 350


def test_contact_phone_is_masked_for_collectors(client, login_as, make_shop, make_company):
    shop, _, _ = make_shop()
    company = make_company(["370811"])
    manager, manager_headers = login_as("collector_manager", company=company)
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    photo = upload_photo(client, manager_headers, 1)
    response = client.post(f"/api/v1/shops/{shop['id']}/contract", headers=manager_headers, json={
        "collector_company_id": company.id, "contract_no": "HT-1", "valid_from": "2024-01-01",
        "valid_until": "2099-12-31", "photo_ids": [photo]})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert client.get(f"/api/v1/shops/{shop['id']}", headers=manager_headers).get_json()["contact_phone"] == \
        "138****1234"
    assert client.get(f"/api/v1/shops/{shop['id']}", headers=regulator).get_json()["contact_phone"] == \
        "13812341234"


def test_manager_profile_changes_apply_at_once_but_obligations_wait(client, login_as, make_shop):
    shop, _, headers = make_shop()
    url = f"/api/v1/shops/{shop['id']}"
    assert client.patch(url, json={"name": "新店名", "contact_phone": "13900001111"},
                        headers=headers).get_json()["name"] == "新店名"
    response = client.patch(url, json={"cooking_heads": 1, "name": "再改名"}, headers=headers)
    assert response.status_code == 202
    request = response.get_json()
    assert request["changes"] == {"cooking_heads": 1} and request["previous"] == {"cooking_heads": 3}
    current = client.get(url, headers=headers).get_json()
    assert current["cooking_heads"] == 3 and current["scale"] == "medium"  # the old values apply meanwhile
    assert current["name"] == "再改名" and current["pending_change_request_id"] == request["id"]
    error_of(client.patch(url, json={"uscc": credit_code(77)}, headers=headers), 422)


def test_change_request_approved_by_an_inspector(client, login_as, make_shop):
    shop, _, headers = make_shop()
    request = client.patch(f"/api/v1/shops/{shop['id']}", json={"cooking_heads": 6},
                           headers=headers).get_json()
    error_of(client.post(f"/api/v1/change-requests/{request['id']}/decision", json={"approved": True},
                         headers=headers), 403)
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    listed = client.get(f"/api/v1/shops/{shop['id']}/change-requests", headers=inspector).get_json()
    assert [r["id"] for r in listed] == [request["id"]]
    decided = client.post(f"/api/v1/change-requests/{request['id']}/decision", json={"approved": True},
                          headers=inspector).get_json()
    assert decided["status"] == "approved"
    assert client.get(f"/api/v1/shops/{shop['id']}", headers=headers).get_json()["scale"] == "large"
    error_of(client.post(f"/api/v1/change-requests/{request['id']}/decision", json={"approved": False},
                         headers=inspector), 409)


def test_change_request_rejected_keeps_the_old_values(client, login_as, make_shop):
    shop, _, headers = make_shop()
    request = client.patch(f"/api/v1/shops/{shop['id']}", json={"purifier": {"installed": False}},
                           headers=headers).get_json()
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    decided = client.post(f"/api/v1/change-requests/{request['id']}/decision",
                          json={"approved": False, "note": "现场核实仍在使用"}, headers=regulator).get_json()
    assert decided["status"] == "rejected" and decided["note"] == "现场核实仍在使用"
    assert client.get(f"/api/v1/shops/{shop['id']}", headers=headers).get_json()["purifier"]["installed"] is True


def test_regulator_changes_apply_at_once(client, login_as, make_shop):
    shop, _, _ = make_shop()
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    body = client.patch(f"/api/v1/shops/{shop['id']}", json={"cooking_heads": 8}, headers=regulator).get_json()
    assert body["scale"] == "large"
    error_of(client.patch(f"/api/v1/shops/{shop['id']}", json={"district_code": "370883"}, headers=regulator), 403)


def test_a_suspended_shop(client, login_as, make_shop):
    shop, _, headers = make_shop()
    url = f"/api/v1/shops/{shop['id']}/status"
    body = {"status": "suspended", "reason": "装修", "effective_on": "2024-04-01"}
    error_of(client.post(url, json=body, headers=headers), 403)
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    changed = client.post(url, json=body, headers=inspector).get_json()
    assert (changed["status"], changed["status_reason"], changed["status_effective_on"]) == \
        ("suspended", "装修", "2024-04-01")
    error_of(client.post(url, json=dict(body, status="bankrupt"), headers=inspector), 422)
    history = client.get(f"/api/v1/shops/{shop['id']}/history", headers=inspector).get_json()["items"]
    assert history[0]["action"] == "shop.status" and "装修" in history[0]["summary"]
    assert history[-1]["action"] == "shop.create"


def test_history_is_for_staff_and_audited(client, login_as, make_shop):
    shop, _, headers = make_shop()
    error_of(client.get(f"/api/v1/shops/{shop['id']}/history", headers=headers), 403)
    _, regulator = login_as("regulator", jurisdiction=None)
    assert client.get(f"/api/v1/shops/{shop['id']}/history", headers=regulator).status_code == 200
    reads = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action == "shop.history_read")).all()
    assert reads == ["shop.history_read"]


def contract_body(company, photo_id, **changes):
    return dict({"collector_company_id": company.id, "contract_no": "HT-2024-001", "valid_from": "2024-01-01",
                 "valid_until": "2099-12-31", "photo_ids": [photo_id]}, **changes)


def test_contracts_are_refused_for_expired_licences_and_districts_not_served(client, login_as, make_shop,
                                                                            make_company, frozen_clock):
    shop, _, owner_headers = make_shop()
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    photo = upload_photo(client, regulator, 1)
    url = f"/api/v1/shops/{shop['id']}/contract"
    expired = make_company(["370811"], valid_until=dt.date(2024, 3, 1))
    assert "过期" in error_of(client.post(url, json=contract_body(expired, photo), headers=regulator), 422)["message"]
    elsewhere = make_company(["370883"])
    error_of(client.post(url, json=contract_body(elsewhere, photo), headers=regulator), 422)
    good = make_company(["370811"])
    error_of(client.post(url, json=contract_body(good, photo, valid_until="2023-01-01"), headers=regulator), 422)
    error_of(client.post(url, json=contract_body(good, upload_photo(client, owner_headers, 2)), headers=regulator), 422)
    created = client.post(url, json=contract_body(good, photo), headers=regulator)
    assert created.status_code == 201 and created.get_json()["photo_ids"] == [photo]
    # The owner never declares a contract.
    error_of(client.post(url, json=contract_body(good, photo), headers=owner_headers), 403)
