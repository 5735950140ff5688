"""Every roster endpoint, tried by someone who must not reach it: always 404 or 403, nothing changed."""
import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEntry, Shop, ShopMember
from tests.helpers import upload_photo


@pytest.fixture
def victim(client, login_as, make_shop, make_company):
    """A shop in 任城区 with a staff member, a pending change request and a contract with company A."""
    shop, manager, manager_headers = make_shop()
    code = client.post(f"/api/v1/shops/{shop['id']}/members/invite", headers=manager_headers).get_json()["code"]
    cook, cook_headers = login_as()
    client.post("/api/v1/shops/join", json={"code": code}, headers=cook_headers)
    request = client.patch(f"/api/v1/shops/{shop['id']}", json={"cooking_heads": 9},
                           headers=manager_headers).get_json()
    company = make_company(["370811"])
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    photo = upload_photo(client, regulator, 3)
    contract = client.post(f"/api/v1/shops/{shop['id']}/contract", headers=regulator, json={
        "collector_company_id": company.id, "contract_no": "HT-A", "valid_from": "2024-01-01",
        "valid_until": "2099-12-31", "photo_ids": [photo]})
    assert contract.status_code == 201 and request["status"] == "pending"
    assert len(client.get(f"/api/v1/shops/{shop['id']}/members", headers=manager_headers).get_json()) == 2
    return {"shop": shop["id"], "cook": cook.id, "manager": manager.id, "request": request["id"],
            "company": company.id, "photo": photo}


@pytest.fixture
def intruders(client, login_as, make_shop, make_company):
    _, other_manager = make_shop(district_code="370811")[1:]
    _, far_inspector = login_as("inspector", jurisdiction=["370883"])
    _, far_regulator = login_as("regulator", jurisdiction=["370883"])
    other_company = make_company(["370883"])
    _, other_collector_manager = login_as("collector_manager", company=other_company)
    return {"another shop's manager": other_manager, "inspector of another district": far_inspector,
            "regulator of another district": far_regulator,
            "collector manager of another company": other_collector_manager}


def requests(v):
    s = v["shop"]
    return [
        ("GET", f"/api/v1/shops/{s}", None),
        ("PATCH", f"/api/v1/shops/{s}", {"name": "被篡改"}),
        ("PATCH", f"/api/v1/shops/{s}", {"cooking_heads": 1}),
        ("POST", f"/api/v1/shops/{s}/status", {"status": "closed", "reason": "x", "effective_on": "2024-01-01"}),
        ("POST", f"/api/v1/shops/{s}/claim-code", None),
        ("GET", f"/api/v1/shops/{s}/members", None),
        ("POST", f"/api/v1/shops/{s}/members/invite", None),
        ("DELETE", f"/api/v1/shops/{s}/members/{v['cook']}", None),
        ("POST", f"/api/v1/shops/{s}/members/{v['cook']}/make-manager", None),
        ("GET", f"/api/v1/shops/{s}/change-requests", None),
        ("POST", f"/api/v1/change-requests/{v['request']}/decision", {"approved": True}),
        ("POST", f"/api/v1/shops/{s}/contract", {"collector_company_id": v["company"], "contract_no": "X",
                                                 "valid_from": "2024-01-01", "valid_until": "2099-01-01",
                                                 "photo_ids": [v["photo"]]}),
        ("GET", f"/api/v1/shops/{s}/history", None),
        ("GET", f"/api/v1/photos/{v['photo']}", None),
    ]


def snapshot(shop_id):
    db.session.expire_all()
    shop = db.session.get(Shop, shop_id)
    members = sorted(db.session.execute(select(ShopMember.user_id, ShopMember.role)
                                        .where(ShopMember.shop_id == shop_id)).all())
    return ({k: v for k, v in vars(shop).items() if not k.startswith("_")}, members,
            db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.shop_id == shop_id)))


@pytest.mark.parametrize("who", ["another shop's manager", "inspector of another district",
                                 "regulator of another district", "collector manager of another company"])
def test_nobody_reaches_across(client, victim, intruders, who):
    headers = intruders[who]
    before = snapshot(victim["shop"])
    for method, url, body in requests(victim):
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code in (403, 404), (who, method, url, response.status_code)
    listed = client.get("/api/v1/shops?per_page=100", headers=headers).get_json()["items"]
    assert victim["shop"] not in [s["id"] for s in listed]
    assert snapshot(victim["shop"]) == before
