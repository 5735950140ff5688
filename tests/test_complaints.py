"""Citizen complaints: filing (nearby shops, possible duplicates, the district from the point),
scoping, triage into a case and the case's close reaching the citizen, and the daily limit."""
import csv
import io

import pytest

from tests.helpers import error_of, upload_photo

SHOP_AT = (35.4151, 116.5872)  # where shop_body puts shops


def body(lat_offset=0.0, category="fume", **changes):
    return {"category": category, "description": "饭店油烟直排居民楼\n晚上尤其严重", "lat": SHOP_AT[0] + lat_offset,
            "lng": SHOP_AT[1], **changes}


@pytest.fixture
def people(login_as, make_shop):
    shop = make_shop().shop
    citizen, citizen_headers = login_as()
    _other, other_headers = login_as()
    _inspector, inspector = login_as("inspector", jurisdiction=["370811"])
    _far, elsewhere = login_as("regulator", jurisdiction=["370812"])
    return shop, citizen_headers, other_headers, inspector, elsewhere


def file(client, headers, **changes):
    response = client.post("/api/v1/complaints", json=body(**changes), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_a_complaint_finds_its_shops_district_and_duplicates(client, people):
    shop, citizen, other, _inspector, _elsewhere = people
    photo = upload_photo(client, citizen, 1)
    first = file(client, citizen, photo_ids=[photo], contact_phone="13812345678")
    assert first["status"] == "open" and first["district_code"] == "370811" and first["possible_duplicate_of"] is None
    assert [s["id"] for s in first["nearby_shops"]] == [shop["id"]] and first["nearby_shops"][0]["distance_m"] < 1
    assert len(first["photos"]) == 1 and first["contact_phone"] is None  # the citizen's own view: no phone echo
    near = file(client, other, lat_offset=0.0003)  # ~33 m away, same category: maybe the same fumes
    assert near["possible_duplicate_of"] == first["id"]
    assert file(client, other, lat_offset=0.0003, category="open_air_bbq")["possible_duplicate_of"] is None
    far = file(client, other, lat_offset=-0.0006, district_code="370811")  # ~67 m the other way: elsewhere
    assert far["possible_duplicate_of"] is None and [s["id"] for s in far["nearby_shops"]] == [shop["id"]]
    lonely = file(client, other, lat_offset=0.01)  # no shop within 100 m: the boundary that holds the point
    assert lonely["district_code"] == "370811" and lonely["nearby_shops"] == []
    assert file(client, other, lat_offset=0.01, district_code="370812")["nearby_shops"] == []
    error_of(client.post("/api/v1/complaints", json=body(category="noise"), headers=other), 422)
    error_of(client.post("/api/v1/complaints", json=body(lat_offset=30), headers=other), 422)  # not in the city


def test_citizens_see_only_their_own_and_staff_only_their_districts(client, people):
    _shop, citizen, other, inspector, elsewhere = people
    photo = upload_photo(client, citizen, 2)
    mine = file(client, citizen, photo_ids=[photo], contact_phone="13812345678")
    error_of(client.get(f"/api/v1/complaints/{mine['id']}", headers=other), 404)
    assert client.get("/api/v1/me/complaints", headers=other).get_json()["total"] == 0
    error_of(client.get(f"/api/v1/photos/{photo}", headers=other), 404)
    error_of(client.get("/api/v1/complaints", headers=citizen), 403)
    error_of(client.get(f"/api/v1/complaints/{mine['id']}", headers=elsewhere), 404)
    error_of(client.post(f"/api/v1/complaints/{mine['id']}/triage", json={"action": "close", "reply": "x"},
                         headers=elsewhere), 404)
    assert client.get("/api/v1/complaints", headers=elsewhere).get_json()["total"] == 0
    seen = client.get(f"/api/v1/complaints/{mine['id']}", headers=inspector).get_json()
    assert seen["contact_phone"] == "138****5678"  # masked, for staff only
    assert client.get(f"/api/v1/photos/{photo}", headers=inspector).status_code == 200
    error_of(client.post(f"/api/v1/complaints/{mine['id']}/triage", json={"action": "close", "reply": "x"},
                         headers=citizen), 403)


def test_a_complaints_whole_life_to_a_closed_case(client, people, login_as):
    shop, citizen, _other, inspector, _elsewhere = people
    handler, _ = login_as("inspector", jurisdiction=["370811"])
    complaint = file(client, citizen)
    linked = client.post(f"/api/v1/complaints/{complaint['id']}/triage", headers=inspector,
                         json={"action": "link_shop", "shop_id": shop["id"]}).get_json()
    assert linked["complaint"]["status"] == "linked" and linked["complaint"]["shop_id"] == shop["id"]
    made = client.post(f"/api/v1/complaints/{complaint['id']}/triage", headers=inspector,
                       json={"action": "case", "reply": "已安排执法人员核查"}).get_json()
    case_id = made["case_id"]
    assert made["complaint"]["status"] == "case" and case_id
    error_of(client.post(f"/api/v1/complaints/{complaint['id']}/triage", headers=inspector,
                         json={"action": "not_ours", "reason": "x"}), 409)
    (case,) = [c for c in client.get("/api/v1/cases", headers=inspector).get_json()["items"] if c["id"] == case_id]
    assert case["source"] == "complaint" and case["source_id"] == complaint["id"] and case["shop_id"] == shop["id"]
    for to in ("assigned", "handled", "closed"):
        moved = client.post(f"/api/v1/cases/{case_id}/transitions", headers=inspector,
                            json={"to": to, "note": to, "assignee_id": handler.id})
        assert moved.status_code == 200, moved.get_data(as_text=True)
    (seen,) = client.get("/api/v1/me/complaints", headers=citizen).get_json()["items"]
    assert seen["status"] == "closed" and seen["reply"] == "已安排执法人员核查" and seen["case_id"] == case_id
    assert "inspector" not in str(seen) and seen["reason"] is None


def test_duplicates_not_ours_and_closing(client, people):
    _shop, citizen, other, inspector, _elsewhere = people
    first, second, third = file(client, citizen), file(client, other, lat_offset=0.0002), file(client, other)
    url = "/api/v1/complaints/{}/triage"
    error_of(client.post(url.format(second["id"]), json={"action": "duplicate"}, headers=inspector), 422)
    error_of(client.post(url.format(second["id"]), json={"action": "duplicate", "duplicate_of": second["id"]},
                         headers=inspector), 422)
    duplicate = client.post(url.format(second["id"]), json={"action": "duplicate", "duplicate_of": first["id"]},
                            headers=inspector).get_json()["complaint"]
    assert duplicate["status"] == "duplicate" and duplicate["duplicate_of"] == first["id"]
    error_of(client.post(url.format(third["id"]), json={"action": "not_ours"}, headers=inspector), 422)
    not_ours = client.post(url.format(third["id"]), json={"action": "not_ours", "reason": "属生态环境部门职责",
                                                          "reply": "已转生态环境部门"}, headers=inspector)
    assert not_ours.get_json()["complaint"]["status"] == "not_ours"
    assert client.get(f"/api/v1/complaints/{third['id']}", headers=other).get_json()["reason"] is None
    closed = client.post(url.format(first["id"]), json={"action": "close", "reply": "经核查已整改"}, headers=inspector)
    assert closed.get_json()["complaint"]["status"] == "closed"
    error_of(client.post(url.format(first["id"]), json={"action": "close", "reply": "again"}, headers=inspector), 409)
    listed = client.get("/api/v1/complaints?status=duplicate", headers=inspector).get_json()["items"]
    assert [c["id"] for c in listed] == [second["id"]]


def test_ten_complaints_a_day_per_user(client, people):
    _shop, citizen, _other, _inspector, _elsewhere = people
    for n in range(10):
        file(client, citizen, lat_offset=n * 0.00001)
    error = error_of(client.post("/api/v1/complaints", json=body(), headers=citizen), 429)
    assert "10" in error["message"]


def test_an_open_complaint_raises_the_shops_patrol_priority_one_step(client, people):
    shop, citizen, _other, inspector, _elsewhere = people
    before = client.get(f"/api/v1/shops/{shop['id']}", headers=inspector).get_json()["compliance"]
    assert before["flags"] == []
    complaint = file(client, citizen, shop_id=shop["id"])
    after = client.get(f"/api/v1/shops/{shop['id']}", headers=inspector).get_json()["compliance"]
    assert [f["code"] for f in after["flags"]] == ["open_complaint"] and "1 条市民投诉" in after["flags"][0]["message"]
    assert after["priority"] == before["priority"] + 1000 and after["grade"] == before["grade"]  # a lead, not a grade
    patrol = client.get(f"/api/v1/patrol?lat={SHOP_AT[0]}&lng={SHOP_AT[1]}&radius_m=500", headers=inspector)
    assert patrol.get_json()["items"][0]["compliance"]["priority"] == after["priority"]
    on_the_shop = client.get(f"/api/v1/complaints?shop_id={shop['id']}", headers=inspector).get_json()["items"]
    assert [c["id"] for c in on_the_shop] == [complaint["id"]]
    flagged = client.get("/api/v1/shops?flag=open_complaint", headers=inspector).get_json()["items"]
    assert [s["id"] for s in flagged] == [shop["id"]]
    client.post(f"/api/v1/complaints/{complaint['id']}/triage", headers=inspector,
                json={"action": "close", "reply": "已核查，净化设施正常运行"})
    closed = client.get(f"/api/v1/shops/{shop['id']}", headers=inspector).get_json()["compliance"]
    assert closed["flags"] == [] and closed["priority"] == before["priority"]


def test_statistics_and_the_ledger_count_complaints_by_district(client, people, login_as):
    shop, citizen, other, inspector, elsewhere = people
    _regulator, regulator = login_as("regulator", jurisdiction=["370811"])
    first = file(client, citizen)
    second = file(client, other, lat_offset=0.0002)
    file(client, other, category="waste_dumping", lat_offset=0.0005)
    client.post(f"/api/v1/complaints/{second['id']}/triage", headers=inspector,
                json={"action": "duplicate", "duplicate_of": first["id"]})
    client.post(f"/api/v1/complaints/{first['id']}/triage", headers=inspector,
                json={"action": "link_shop", "shop_id": shop["id"]})
    stats = client.get("/api/v1/stats/districts", headers=regulator).get_json()
    (district,) = [d for d in stats["items"] if d["district_code"] == "370811"]
    counts = district["complaints"]
    assert counts["received"] == 3 and counts["by_category"]["fume"] == 2 and counts["by_category"]["waste_dumping"] == 1
    assert counts["linked"] == 1 and counts["duplicates"] == 1 and counts["median_hours_to_triage"] is not None
    ledger = client.get("/api/v1/exports/complaints.csv", headers=regulator)
    assert ledger.status_code == 200 and ledger.headers["X-Export-Receipt"]
    rows = list(csv.reader(io.StringIO(ledger.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 4 and rows[0][0] == "投诉ID" and rows[1][1] == "油烟扰民"
    status, content = rows[0].index("状态"), rows[0].index("内容")
    assert {row[status] for row in rows[1:]} == {"已关联店铺", "重复投诉", "待分办"} and "\n" in rows[1][content]
    assert {row[rows[0].index("区县")] for row in rows[1:]} == {"任城区"}
    _far, far_regulator = login_as("regulator", jurisdiction=["370812"])
    far_rows = list(csv.reader(io.StringIO(client.get("/api/v1/exports/complaints.csv", headers=far_regulator)
                                           .get_data(as_text=True).lstrip("\ufeff"))))
    assert len(far_rows) == 1  # the header only: the complaints are another district's
