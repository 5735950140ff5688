"""Open311 GeoReport v2 at /open311/v2: partner keys, POST form-encoded with Open311's error shape,
GET with the spec's filters and 90-day window and no personal data — read back with a GeoReport
client library (``georeport``) against a real server, and with plain requests per the spec."""
import datetime as dt

import pytest
import requests

from server.clock import SHANGHAI
from tests.helpers import at, gunicorn_serving

ROOT = "/open311/v2"
FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
          "requested_datetime", "updated_datetime", "address", "lat", "long", "media_url"}


@pytest.fixture
def key(app):
    result = app.test_cli_runner().invoke(args=["open311", "create-key", "--name", "任城区12345平台"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def post(client, **form):
    return client.post(ROOT + "/requests.json", data=form)


def good(key, **changes):
    return {"api_key": key, "service_code": "fume", "lat": "35.4151", "long": "116.5872",
            "description": "饭店油烟直排", "attribute[district_code]": "370811", "phone": "13812345678",
            "first_name": "张", "last_name": "三", "email": "zhang@example.cn", **changes}


def test_services_list_the_complaint_categories(client):
    services = client.get(ROOT + "/services.json").get_json()
    assert {s["service_code"] for s in services} == {"fume", "open_air_bbq", "outside_store", "waste_dumping"}
    assert all(s["metadata"] is False and s["type"] == "realtime" and s["service_name"] for s in services)


def test_the_key_is_checked_first_then_the_fields(app, client, key):
    for form in ({}, {"api_key": "nope"}, {"api_key": "nope", "service_code": "fume"}):
        answer = post(client, **form)
        assert answer.status_code == 403 and answer.get_json()[0]["code"] == 403
    for form, words in (({"service_code": "noise"}, "service_code"), ({"lat": None, "long": None}, "lat"),
                        ({"description": ""}, "description"), ({"lat": "abc"}, "lat"),
                        ({"lat": "45.0"}, "坐标"), ({"media_url": "javascript:alert(1)"}, "media_url")):
        answer = post(client, **{k: v for k, v in {**good(key), **form}.items() if v is not None})
        body = answer.get_json()
        assert answer.status_code == 400 and body[0]["code"] == 400 and words in body[0]["description"], body
    assert client.post(ROOT + "/requests.json", json=good(key)).status_code == 403  # the key is a form field
    assert app.test_cli_runner().invoke(args=["open311", "revoke-key", "--name", "任城区12345平台"]).exit_code == 0
    assert post(client, **good(key)).status_code == 403
    again = app.test_cli_runner().invoke(args=["open311", "create-key", "--name", "任城区12345平台"])
    assert again.exit_code == 0 and again.output.strip().splitlines()[-1] != key


def test_a_posted_request_reads_back_without_personal_data(app, client, key, login_as):
    created = post(client, **good(key))
    assert created.status_code == 201, created.get_data(as_text=True)
    (answer,) = created.get_json()
    request_id = answer["service_request_id"]
    assert answer["service_notice"]
    (row,) = client.get(f"{ROOT}/requests/{request_id}.json").get_json()
    assert set(row) == FIELDS and row["status"] == "open" and row["status_notes"] is None
    text = str(row)
    assert "1381234" not in text and "张" not in text and "example.cn" not in text
    assert row["requested_datetime"].endswith("+08:00") and row["lat"] == 35.4151
    _inspector, inspector = login_as("inspector", jurisdiction=["370811"])
    seen = client.get(f"/api/v1/complaints/{request_id}", headers=inspector).get_json()
    assert seen["contact_phone"] == "138****5678"  # staff see the partner's complainant's phone, masked
    client.post(f"/api/v1/complaints/{request_id}/triage", headers=inspector,
                json={"action": "not_ours", "reason": "属环保部门", "reply": "已转生态环境部门"})
    (row,) = client.get(f"{ROOT}/requests/{request_id}.json").get_json()
    assert row["status"] == "closed" and row["status_notes"] == "已转生态环境部门" and "环保部门" not in str(row)
    missing = client.get(f"{ROOT}/requests/999999.json")
    assert missing.status_code == 404 and missing.get_json()[0]["code"] == 404
    address_only = post(client, **{k: v for k, v in good(key).items() if k not in ("lat", "long")},
                        address_string="古槐路 1 号")
    assert address_only.status_code == 201


def test_get_requests_filters_and_the_90_day_window(app, client, key, frozen_clock):
    frozen_clock.set(at(2024, 1, 2, 10, 0))
    old = post(client, **good(key)).get_json()[0]["service_request_id"]
    frozen_clock.set(at(2024, 4, 20, 10, 0))
    recent = post(client, **good(key, service_code="open_air_bbq")).get_json()[0]["service_request_id"]
    listed = [r["service_request_id"] for r in client.get(ROOT + "/requests.json").get_json()]
    assert listed == [recent]  # the last 90 days by default
    since = client.get(ROOT + "/requests.json?start_date=2024-01-01T00:00:00%2B08:00").get_json()
    assert [r["service_request_id"] for r in since] == [recent, old]
    assert client.get(ROOT + f"/requests.json?service_request_id={old},{recent}").get_json()[-1][
        "service_request_id"] == old
    assert client.get(ROOT + "/requests.json?service_code=fume").get_json() == []
    assert len(client.get(ROOT + "/requests.json?start_date=2024-01-01T00:00:00Z&page_size=1&page=2").get_json()) == 1
    assert client.get(ROOT + "/requests.json?status=closed").get_json() == []
    for bad in ("status=maybe", "start_date=yesterday", "start_date=2024-05-01T00:00:00Z&end_date=2024-04-01T00:00:00Z",
                "page_size=x"):
        answer = client.get(ROOT + "/requests.json?" + bad)
        assert answer.status_code == 400 and answer.get_json()[0]["code"] == 400


def test_a_georeport_client_reads_our_endpoint(app, app_config, client, key):
    from georeport import GeoReport

    created = post(client, **good(key)).get_json()[0]["service_request_id"]
    from server.extensions import db
    db.session.remove()
    with gunicorn_serving(app_config) as base:
        reader = GeoReport(base.removesuffix("/api/v1") + ROOT)
        codes = {s["service_code"] for s in reader.get_service_list()}
        assert codes == {"fume", "open_air_bbq", "outside_store", "waste_dumping"}
        for code in codes:  # every service has a definition, metadata or not (clients ask for it anyway)
            assert reader.get_service_definition(code) == {"service_code": code, "attributes": []}
        with pytest.raises(requests.HTTPError):
            reader.get_service_definition("noise")
        (listed,) = reader.get_service_requests(status="open")
        assert listed["service_request_id"] == created
        one = reader.get_service_request(created)
        assert one["service_code"] == "fume" and set(one) == FIELDS
        with pytest.raises(requests.HTTPError):
            reader.get_service_request("424242")


def test_a_partner_posts_a_point_far_from_any_shop_as_the_spec_writes_it(app, app_config, client, key, login_as):
    """GeoReport v2 "POST Service Request": form-encoded api_key, service_code, lat, long and a description,
    no district — the point's boundary decides it, with no registered shop anywhere near."""
    from server.extensions import db
    db.session.remove()
    with gunicorn_serving(app_config) as base:
        answer = requests.post(base.removesuffix("/api/v1") + ROOT + "/requests.json", timeout=10, data={
            "api_key": key, "service_code": "open_air_bbq", "lat": "35.4300", "long": "116.6200",
            "description": "背街小巷夜间露天烧烤，无证摊点", "address_string": "任城区后街"})
        assert answer.status_code == 201, answer.text
        assert answer.headers["Content-Type"].startswith("application/json")
        (created,) = answer.json()
        outside = requests.post(base.removesuffix("/api/v1") + ROOT + "/requests.json", timeout=10, data={
            "api_key": key, "service_code": "fume", "lat": "35.45", "long": "116.00", "description": "油烟"})
        assert outside.status_code == 400 and "区县" in outside.json()[0]["description"]
    _desk, staff = login_as("regulator", jurisdiction=["370811"])
    complaint = client.get(f"/api/v1/complaints/{created['service_request_id']}", headers=staff).get_json()
    assert complaint["district_code"] == "370811" and complaint["shop_id"] is None


def test_each_services_definition_and_an_unknown_one(client):
    for code in ("fume", "open_air_bbq", "outside_store", "waste_dumping"):
        assert client.get(f"{ROOT}/services/{code}.json").get_json() == {"service_code": code, "attributes": []}
    missing = client.get(f"{ROOT}/services/noise.json")
    assert missing.status_code == 404 and missing.get_json()[0]["code"] == 404


CRAFTED = ["/open311/v2/requests.json?page=99999999999999999999", "/open311/v2/requests.json?page=9223372036854775807",
           "/open311/v2/requests.json?page=-5&page_size=abc", "/open311/v2/requests.json?page_size=1e400",
           "/open311/v2/requests.json?end_date=0001-01-01T00:00:00Z",
           "/open311/v2/requests.json?start_date=0001-01-01T00:00:00%2B08:00&end_date=0002-01-01T00:00:00%2B08:00",
           "/open311/v2/requests.json?end_date=9999-12-31T23:59:59%2B08:00", "/open311/v2/requests.json?end_date=x",
           "/open311/v2/requests.json?service_request_id=99999999999999999999,1",
           "/open311/v2/requests.json?service_request_id=1,a", "/open311/v2/requests.json?status=pending",
           "/open311/v2/requests/99999999999.json", "/open311/v2/requests/9223372036854775808.json",
           "/open311/v2/requests/abc.json", "/open311/v2/requests/-1.json", "/open311/v2/requests/0.json",
           "/open311/v2/nothing.json", "/open311/v2/requests.xml", "/open311/v2/", "/open311/v2"]


def test_every_answer_under_open311_is_in_open311s_shape(client):
    for url in CRAFTED:
        response = client.get(url)
        body = response.get_json()
        if response.status_code == 200:
            assert isinstance(body, list), url
            continue
        assert response.status_code in (400, 404), (url, response.status_code, body)
        assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}, (url, body)
        assert body[0]["code"] == response.status_code and body[0]["description"], url
    posted = client.post("/open311/v2/requests.json", data={"api_key": "nope", "service_code": "fume"})
    assert posted.status_code == 403 and posted.get_json()[0]["code"] == 403
    assert client.get("/open311/v2/requests/99999999999.json").status_code == 404
    assert client.get("/open311/v2/requests.json?page=99999999999999999999").status_code == 400
