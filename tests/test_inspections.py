"""一店三查 inspections, the whole life of a rectification order, cases, voiding."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Inspection, Rectification
from tests.helpers import error_of, upload_photo

CODES = ["P1", "P2", "P3", "P4", "W1", "W2", "W3", "W4", "W5", "O1", "O2", "O3"]
NEAR = {"lat": 35.4152, "lng": 116.5873}  # ~14 m from the shop


@pytest.fixture
def patrol(client, frozen_clock, make_shop, login_as):
    shop, owner, owner_headers = make_shop()
    inspector, inspector_headers = login_as("inspector", jurisdiction=["370811"])
    return shop["id"], owner_headers, inspector, inspector_headers


def items(client, headers, fails=(), **overrides):
    result = []
    for code in CODES:
        if code in fails:
            result.append({"code": code, "result": "fail", "note": f"{code} 不合格",
                           "photo_ids": [upload_photo(client, headers, 100 + CODES.index(code))]})
        else:
            result.append({"code": code, "result": overrides.get(code, "pass")})
    return result


def inspect(client, shop_id, headers, fails=(), at="2024-03-22T09:00:00+08:00", **extra):
    body = dict({"inspected_at": at, **NEAR, "items": items(client, headers, fails)}, **extra)
    return client.post(f"/api/v1/shops/{shop_id}/inspections", json=body, headers=headers)


def test_a_clean_inspection_opens_no_order(client, patrol):
    shop_id, _, _, inspector = patrol
    body = inspect(client, shop_id, inspector).get_json()
    assert body["rectification"] is None and body["voided"] is False
    assert 10 < body["distance_m"] < 20 and body["far_from_shop"] is False
    assert body["checklist_version_id"] == 1 and len(body["items"]) == 12


def test_far_from_the_shop_is_accepted_but_flagged(client, patrol):
    shop_id, _, _, inspector = patrol
    body = inspect(client, shop_id, inspector, lat=35.4251, lng=116.5872).get_json()
    assert body["far_from_shop"] is True and body["distance_m"] > 1000


def test_items_must_each_be_answered_once(client, patrol):
    shop_id, _, _, inspector = patrol
    body = {"inspected_at": "2024-03-22T09:00:00+08:00", **NEAR}
    missing = [i for i in items(client, inspector) if i["code"] != "O3"]
    assert "O3" in error_of(client.post(f"/api/v1/shops/{shop_id}/inspections", json=dict(body, items=missing),
                                        headers=inspector), 422)["fields"]["items"][0]
    twice = items(client, inspector) + [{"code": "P1", "result": "pass"}]
    error_of(client.post(f"/api/v1/shops/{shop_id}/inspections", json=dict(body, items=twice), headers=inspector), 422)
    unknown = items(client, inspector) + [{"code": "Z9", "result": "pass"}]
    error_of(client.post(f"/api/v1/shops/{shop_id}/inspections", json=dict(body, items=unknown),
                         headers=inspector), 422)
    bad = items(client, inspector)
    bad[0]["result"] = "maybe"
    error_of(client.post(f"/api/v1/shops/{shop_id}/inspections", json=dict(body, items=bad), headers=inspector), 422)
    no_photo = items(client, inspector)
    no_photo[1] = {"code": "P2", "result": "fail", "note": "未开启"}
    error_of(client.post(f"/api/v1/shops/{shop_id}/inspections", json=dict(body, items=no_photo),
                         headers=inspector), 422)
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 0


def test_na_and_not_checked_are_answers(client, patrol):
    shop_id, _, _, inspector = patrol
    night = {"inspected_at": "2024-03-22T09:00:00+08:00", **NEAR,
             "items": [{"code": c, "result": "not_checked" if c[0] != "O" else ("na" if c == "O2" else "pass")}
                       for c in CODES]}
    assert client.post(f"/api/v1/shops/{shop_id}/inspections", json=night, headers=inspector).status_code == 201


def test_time_rules(client, patrol):
    shop_id, _, _, inspector = patrol
    error_of(inspect(client, shop_id, inspector, at="2024-03-22T12:00:00+08:00"), 422)
    late = inspect(client, shop_id, inspector, at="2024-03-10T10:00:00+08:00").get_json()
    assert late["late_entry"] is True


def test_co_inspector_must_be_an_inspector_of_the_district(client, patrol, login_as):
    shop_id, _, _, inspector = patrol
    colleague, _ = login_as("inspector", jurisdiction=["370811"])
    assert inspect(client, shop_id, inspector, co_inspector_id=colleague.id).get_json()["co_inspector_id"] == \
        colleague.id
    far, _ = login_as("inspector", jurisdiction=["370883"])
    error_of(inspect(client, shop_id, inspector, co_inspector_id=far.id), 422)
    owner_user, _ = login_as()
    error_of(inspect(client, shop_id, inspector, co_inspector_id=owner_user.id), 422)


def order_of(client, headers, order_id):
    orders = client.get("/api/v1/rectifications?per_page=100", headers=headers).get_json()["items"]
    return next(o for o in orders if o["id"] == order_id)


def test_the_whole_life_of_an_order(client, patrol, frozen_clock, login):
    shop_id, owner, inspector_user, inspector = patrol
    first = inspect(client, shop_id, inspector, fails=("P2", "W3")).get_json()
    order = first["rectification"]
    assert order["items"] == ["P2", "W3"] and order["status"] == "open" and order["deadline"] == "2024-03-29"
    order_url = f"/api/v1/rectifications/{order['id']}"
    error_of(client.post(order_url + "/review", json={"accepted": True}, headers=inspector), 409)  # nothing to review
    # The shop never reviews: refused for who it is (403), before what state the order is in.
    error_of(client.post(order_url + "/review", json={"accepted": True}, headers=owner), 403)
    acknowledged = client.post(order_url + "/acknowledge", headers=owner).get_json()
    assert acknowledged["acknowledged_at"] == "2024-03-22T09:30:00+08:00"
    error_of(client.post(order_url + "/acknowledge", headers=owner), 409)
    photo = upload_photo(client, owner, 300)
    submitted = client.post(order_url + "/responses", json={"note": "已开启净化器", "photo_ids": [photo]},
                            headers=owner).get_json()
    assert submitted["status"] == "submitted"
    error_of(client.post(order_url + "/responses", json={"note": "再交一次", "photo_ids": [photo]},
                         headers=owner), 409)
    frozen_clock.advance(dt.timedelta(days=2))
    inspector = login(inspector_user)
    rejected = client.post(order_url + "/review", json={"accepted": False, "note": "油水分离器仍未使用"},
                           headers=inspector).get_json()
    assert rejected["status"] == "open" and rejected["deadline"] == "2024-03-27"  # today + 3 days
    client.post(order_url + "/responses", headers=owner,
                json={"note": "已整改油水分离器", "photo_ids": [upload_photo(client, owner, 301)]})
    recheck = inspect(client, shop_id, inspector, at="2024-03-24T09:00:00+08:00").get_json()
    assert recheck["reinspection"] == [{"rectification_id": order["id"], "items": {"P2": "pass", "W3": "pass"}}]
    closed = client.post(order_url + "/review", json={"accepted": True, "reinspection_id": recheck["id"]},
                         headers=inspector).get_json()
    assert closed["status"] == "closed" and closed["closed_at"]
    assert [e["action"] for e in closed["events"]] == ["created", "acknowledged", "responded", "rejected",
                                                       "responded", "accepted"]
    error_of(client.post(order_url + "/responses", json={"note": "x", "photo_ids": [photo]}, headers=owner), 409)


def test_an_overdue_order_escalates_to_a_case_returned_once_then_closed(client, patrol, frozen_clock, login,
                                                                       login_as):
    shop_id, owner, inspector_user, inspector = patrol
    order = inspect(client, shop_id, inspector, fails=("O1",)).get_json()["rectification"]
    error_of(client.post("/api/v1/cases", json={"source": "rectification", "source_id": order["id"],
                                                "note": "逾期"}, headers=inspector), 409)  # not overdue yet
    frozen_clock.advance(dt.timedelta(days=8))
    inspector = login(inspector_user)
    listed = client.get("/api/v1/rectifications?status=overdue", headers=inspector).get_json()["items"]
    assert [o["id"] for o in listed] == [order["id"]] and listed[0]["overdue"] is True
    case = client.post("/api/v1/cases", json={"source": "rectification", "source_id": order["id"],
                                              "note": "逾期未整改，立案", "external_case_no": "YGF-2024-0001"},
                       headers=inspector).get_json()
    assert case["status"] == "accepted" and case["deadline"] == "2024-04-14"
    error_of(client.post("/api/v1/cases", json={"source": "rectification", "source_id": order["id"], "note": "再立"},
                         headers=inspector), 409)
    url = f"/api/v1/cases/{case['id']}/transitions"
    error_of(client.post(url, json={"to": "closed", "note": "跳步"}, headers=inspector), 409)
    error_of(client.post(url, json={"to": "assigned", "note": "转办"}, headers=inspector), 422)  # nobody to assign
    steps = [({"to": "assigned", "note": "转办", "assignee_id": inspector_user.id}, "assigned"),
             ({"to": "handled", "note": "已处罚"}, "handled"),
             ({"to": "returned", "note": "证据不足，退回重办"}, "returned"),
             ({"to": "assigned", "note": "重新转办"}, "assigned"),
             ({"to": "handled", "note": "补充证据"}, "handled"),
             ({"to": "closed", "note": "结案"}, "closed")]
    for body, status in steps:
        response = client.post(url, json=body, headers=inspector)
        assert response.status_code == 200 and response.get_json()["status"] == status, response.get_data(True)
    final = response.get_json()
    assert final["returned_count"] == 1 and final["closed_at"] and len(final["events"]) == 7
    assert final["external_case_no"] == "YGF-2024-0001"
    assert client.get("/api/v1/cases?status=closed", headers=inspector).get_json()["total"] == 1


def test_a_disputed_slip_becomes_a_case(client, contracted, frozen_clock):
    c = contracted
    slip = client.post(f"/api/v1/shops/{c.shop_id}/handovers", headers=c.owner, json={
        "handed_over_at": "2024-03-22T09:00:00+08:00", "waste_type": "waste_oil", "declared_kg": 10,
        "collector_company_id": c.company_id}).get_json()
    client.post(f"/api/v1/handovers/{slip['id']}/confirm", json={"weighed_kg": 30}, headers=c.collector)
    case = client.post("/api/v1/cases", json={"source": "handover", "source_id": slip["id"], "note": "数量争议"},
                       headers=c.regulator)
    assert case.status_code == 201 and case.get_json()["source"] == "handover"


def test_a_voided_inspection_stays_visible(client, patrol, login_as):
    shop_id, owner, _, inspector = patrol
    inspection = inspect(client, shop_id, inspector).get_json()
    error_of(client.post(f"/api/v1/inspections/{inspection['id']}/void", json={"reason": "录错店铺"},
                         headers=inspector), 403)
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    voided = client.post(f"/api/v1/inspections/{inspection['id']}/void", json={"reason": "录错店铺"},
                         headers=regulator).get_json()
    assert voided["voided"] is True and voided["void_reason"] == "录错店铺"
    error_of(client.post(f"/api/v1/inspections/{inspection['id']}/void", json={"reason": "again"},
                         headers=regulator), 409)
    listed = client.get(f"/api/v1/shops/{shop_id}/inspections", headers=owner).get_json()["items"]
    assert [(i["id"], i["voided"]) for i in listed] == [(inspection["id"], True)]


def test_inspection_lists_by_district_and_date(client, patrol, make_shop, login_as):
    shop_id, _, _, inspector = patrol
    inspect(client, shop_id, inspector, at="2024-03-20T10:00:00+08:00")
    inspect(client, shop_id, inspector, at="2024-03-22T08:00:00+08:00")
    _, regulator = login_as("regulator", jurisdiction=None)
    total = lambda q: client.get("/api/v1/inspections?" + q, headers=regulator).get_json()["total"]  # noqa: E731
    assert total("district_code=370811") == 2 and total("district_code=370883") == 0
    assert total("from=2024-03-21") == 1 and total("to=2024-03-20") == 1
    _, far = login_as("inspector", jurisdiction=["370883"])
    assert client.get("/api/v1/inspections", headers=far).get_json()["total"] == 0


@pytest.mark.parametrize("who", ["inspector of another district", "member of another shop", "collector"])
def test_outsiders_reach_nothing(client, patrol, login_as, make_shop, make_company, who):
    shop_id, owner, _, inspector = patrol
    inspection = inspect(client, shop_id, inspector, fails=("P1",)).get_json()
    order_id = inspection["rectification"]["id"]
    headers = {"inspector of another district": lambda: login_as("inspector", jurisdiction=["370883"])[1],
               "member of another shop": lambda: make_shop()[2],
               "collector": lambda: login_as("collector", company=make_company(["370811"]))[1]}[who]()
    photo = upload_photo(client, headers, 555)
    calls = [
        ("POST", f"/api/v1/shops/{shop_id}/inspections",
         {"inspected_at": "2024-03-22T09:00:00+08:00", **NEAR,
          "items": [{"code": c, "result": "pass"} for c in CODES]}),
        ("GET", f"/api/v1/shops/{shop_id}/inspections", None),
        ("POST", f"/api/v1/inspections/{inspection['id']}/void", {"reason": "x"}),
        ("POST", f"/api/v1/rectifications/{order_id}/acknowledge", None),
        ("POST", f"/api/v1/rectifications/{order_id}/responses", {"note": "x", "photo_ids": [photo]}),
        ("POST", f"/api/v1/rectifications/{order_id}/review", {"accepted": True}),
        ("POST", "/api/v1/cases", {"source": "rectification", "source_id": order_id, "note": "x"}),
    ]
    before = db.session.scalar(select(Rectification.status).where(Rectification.id == order_id))
    for method, url, body in calls:
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code in (403, 404), (who, method, url, response.status_code)
    assert client.get("/api/v1/rectifications", headers=headers).get_json()["total"] == 0
    listed = client.get("/api/v1/inspections", headers=headers)
    assert listed.status_code == 403 or listed.get_json()["total"] == 0
    db.session.expire_all()
    assert db.session.scalar(select(Rectification.status).where(Rectification.id == order_id)) == before
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 1
