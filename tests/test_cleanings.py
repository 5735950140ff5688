"""Purifier cleanings: logged by members with before/after photos, corrected by new versions."""

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Cleaning
from tests.helpers import error_of, upload_photo


def body(client, headers, seeds=(1, 2), **changes):
    base = {"cleaned_on": "2024-03-20", "parts": ["purifier", "hood"], "performed_by": "self",
            "before_photo_ids": [upload_photo(client, headers, seeds[0])],
            "after_photo_ids": [upload_photo(client, headers, seeds[1])]}
    base.update(changes)
    return base


@pytest.fixture
def shop(make_shop, frozen_clock):
    return make_shop()


def log(client, shop_id, headers, json):
    return client.post(f"/api/v1/shops/{shop_id}/cleanings", json=json, headers=headers)


def count():
    return db.session.scalar(select(func.count()).select_from(Cleaning))


def test_a_member_logs_a_cleaning_with_photos(client, shop):
    data, _, headers = shop
    response = log(client, data["id"], headers, body(client, headers, note="清洗公司上门"))
    assert response.status_code == 201
    cleaning = response.get_json()
    assert cleaning["cleaned_on"] == "2024-03-20" and cleaning["parts"] == ["hood", "purifier"]
    assert len(cleaning["before_photos"]) == 1 and len(cleaning["after_photos"]) == 1
    assert cleaning["late_entry"] is False and cleaning["received_at"] == "2024-03-22T09:30:00+08:00"
    assert cleaning["superseded_by"] is None
    listed = client.get(f"/api/v1/shops/{data['id']}/cleanings", headers=headers).get_json()
    assert [c["id"] for c in listed["items"]] == [cleaning["id"]]


def test_staff_of_the_shop_may_log_too(client, shop, login_as):
    data, _, manager = shop
    code = client.post(f"/api/v1/shops/{data['id']}/members/invite", headers=manager).get_json()["code"]
    _, cook = login_as()
    client.post("/api/v1/shops/join", json={"code": code}, headers=cook)
    # The cook's record may use the manager's photos: both are members.
    payload = body(client, manager)
    assert log(client, data["id"], cook, payload).status_code == 201


@pytest.mark.parametrize("changes,field", [
    ({"cleaned_on": "2024-03-23"}, "cleaned_on"),          # tomorrow in Jining
    ({"cleaned_on": "2023-03-01"}, "cleaned_on"),          # more than a year before registration
    ({"parts": []}, "parts"),
    ({"parts": ["engine"]}, "parts.0"),
    ({"performed_by": "company"}, "company_name"),
    ({"before_photo_ids": []}, "before_photo_ids"),
    ({"after_photo_ids": [999999]}, "after_photo_ids"),
    ({"note": "x" * 10_000}, "note"),
    ({"cleaned_on": "yesterday"}, "cleaned_on"),
    ({"extra": True}, "extra"),
])
def test_bad_cleanings_are_422_and_nothing_is_written(client, shop, changes, field):
    data, _, headers = shop
    assert field in error_of(log(client, data["id"], headers, body(client, headers, **changes)), 422)["fields"]
    assert count() == 0


def test_photos_must_come_from_a_member(client, shop, login_as):
    data, _, headers = shop
    _, stranger = login_as()
    payload = body(client, headers, after_photo_ids=[upload_photo(client, stranger, 77)])
    assert "after_photo_ids" in error_of(log(client, data["id"], headers, payload), 422)["fields"]
    assert count() == 0


def test_outsiders_cannot_log(client, shop, login_as):
    data, _, headers = shop
    payload = body(client, headers)
    _, stranger = login_as()
    error_of(log(client, data["id"], stranger, payload), 404)
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    error_of(log(client, data["id"], inspector, payload), 403)
    assert count() == 0


def test_an_entry_more_than_7_days_late_is_flagged(client, shop):
    data, _, headers = shop
    late = log(client, data["id"], headers, body(client, headers, cleaned_on="2024-03-14")).get_json()
    on_time = log(client, data["id"], headers, body(client, headers, (3, 4), cleaned_on="2024-03-15")).get_json()
    assert late["late_entry"] is True and on_time["late_entry"] is False


def test_a_correction_is_a_new_version_and_the_old_stays(client, shop, login_as):
    data, _, headers = shop
    first = log(client, data["id"], headers, body(client, headers)).get_json()
    fixed = client.post(f"/api/v1/cleanings/{first['id']}/corrections", headers=headers,
                        json=dict(body(client, headers, (5, 6), cleaned_on="2024-03-19"), reason="日期填错"))
    assert fixed.status_code == 201
    new = fixed.get_json()
    assert new["supersedes_id"] == first["id"] and new["correction_reason"] == "日期填错"
    listed = client.get(f"/api/v1/shops/{data['id']}/cleanings", headers=headers).get_json()["items"]
    assert [c["id"] for c in listed] == [new["id"]]
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    history = client.get(f"/api/v1/shops/{data['id']}/cleanings?include_superseded=true",
                         headers=inspector).get_json()["items"]
    assert {c["id"]: c["superseded_by"] for c in history} == {first["id"]: new["id"], new["id"]: None}
    assert count() == 2
    again = client.post(f"/api/v1/cleanings/{first['id']}/corrections", headers=headers,
                        json=dict(body(client, headers, (7, 8)), reason="再改"))
    error_of(again, 409)


def test_only_the_logger_or_the_manager_corrects(client, shop, login_as):
    data, _, manager = shop
    code = client.post(f"/api/v1/shops/{data['id']}/members/invite", headers=manager).get_json()["code"]
    _, cook = login_as()
    client.post("/api/v1/shops/join", json={"code": code}, headers=cook)
    first = log(client, data["id"], manager, body(client, manager)).get_json()
    error_of(client.post(f"/api/v1/cleanings/{first['id']}/corrections", headers=cook,
                         json=dict(body(client, cook, (9, 10)), reason="x")), 403)
    by_cook = log(client, data["id"], cook, body(client, cook, (11, 12))).get_json()
    assert client.post(f"/api/v1/cleanings/{by_cook['id']}/corrections", headers=manager,
                       json=dict(body(client, manager, (13, 14)), reason="负责人更正")).status_code == 201
    missing_reason = client.post(f"/api/v1/cleanings/{first['id']}/corrections", headers=manager,
                                 json=body(client, manager, (15, 16)))
    assert "reason" in error_of(missing_reason, 422)["fields"]


def test_cleaning_photos_are_served_to_staff_in_jurisdiction(client, shop, login_as):
    data, _, headers = shop
    cleaning = log(client, data["id"], headers, body(client, headers)).get_json()
    photo_id = cleaning["after_photos"][0]["id"]
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    assert client.get(f"/api/v1/photos/{photo_id}", headers=inspector).status_code == 200
    _, far = login_as("inspector", jurisdiction=["370883"])
    error_of(client.get(f"/api/v1/photos/{photo_id}", headers=far), 404)


def test_reused_photos_are_flagged_on_the_record(client, shop):
    data, _, headers = shop
    first = log(client, data["id"], headers, body(client, headers, (20, 21))).get_json()
    reused = log(client, data["id"], headers, body(client, headers, (22, 21))).get_json()
    assert first["after_photos"][0]["reused"] is False
    assert reused["after_photos"][0]["reused"] is True
    assert reused["after_photos"][0]["reused_photo_id"] == first["after_photos"][0]["id"]
