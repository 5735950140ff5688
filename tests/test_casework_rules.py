"""Casework that cannot be gamed: a complaint's shop lies in its district, a red card is not laundered
by a late extension, duplicates point to a root that is not itself a duplicate.  (The races with
nothing to lock are in test_races.py.)"""
import pytest
from sqlalchemy import select

from server.extensions import db
from server.models.complaint import Complaint
from tests.helpers import at, error_of
from tests.test_complaints import body
from tests.test_hotline import move, open_ticket

YANZHOU = (35.5532, 116.8286)  # a point in 兖州区, far from 任城区's shops


@pytest.fixture
def app_config(app_config):
    return {**app_config, "TOKEN_TTL_HOURS": 24 * 60}  # the clock moves weeks within a test


@pytest.fixture
def two_districts(login_as, make_shop):
    """A shop in 任城区 (370811) and one in 兖州区 (370812), a citizen, the two districts' regulators
    and a city-wide one."""
    rencheng = make_shop().shop
    yanzhou = make_shop(name="兖州羊汤馆", district_code="370812", address="济宁市兖州区建设路8号",
                        lat=YANZHOU[0], lng=YANZHOU[1]).shop
    _citizen, citizen = login_as()
    _r, here = login_as("regulator", jurisdiction=["370811"])
    _y, there = login_as("regulator", jurisdiction=["370812"])
    _c, city = login_as("regulator", jurisdiction=None)
    return rencheng, yanzhou, citizen, here, there, city


def post(client, headers, **changes):
    return client.post("/api/v1/complaints", json=body(**changes), headers=headers)


def test_a_complaint_naming_a_shop_of_another_district_is_refused_or_takes_the_shops(client, two_districts):
    rencheng, yanzhou, citizen, here, there, _city = two_districts
    refused = error_of(post(client, citizen, shop_id=yanzhou["id"], district_code="370811"), 422)
    assert "shop_id" in refused["fields"]
    # Near 任城区's shop but naming 兖州区's, no district given: the complaint is 兖州区's, where the flag is.
    taken = post(client, citizen, shop_id=yanzhou["id"])
    assert taken.status_code == 201 and taken.get_json()["district_code"] == "370812"
    complaint = taken.get_json()["id"]
    assert client.get(f"/api/v1/complaints/{complaint}", headers=there).status_code == 200
    error_of(client.get(f"/api/v1/complaints/{complaint}", headers=here), 404)
    flagged = client.get(f"/api/v1/shops/{yanzhou['id']}", headers=there).get_json()
    assert "open_complaint" in [f["code"] for f in flagged["compliance"]["flags"]]
    same = post(client, citizen, shop_id=rencheng["id"], district_code="370811")
    assert same.status_code == 201 and same.get_json()["district_code"] == "370811"


def test_triage_into_a_case_checks_the_shops_district_as_linking_does(client, two_districts):
    _rencheng, yanzhou, citizen, _here, _there, city = two_districts
    complaint = post(client, citizen).get_json()  # 任城区, by the nearest shop
    for action in ("link_shop", "case"):
        refused = client.post(f"/api/v1/complaints/{complaint['id']}/triage", headers=city,
                              json={"action": action, "shop_id": yanzhou["id"], "reply": "已受理"})
        assert "shop_id" in error_of(refused, 422)["fields"], action
    db.session.remove()
    stored = db.session.get(Complaint, complaint["id"])
    assert stored.status == "open" and stored.shop_id is None and stored.case_id is None


def test_an_extension_after_the_deadline_is_409_and_the_red_card_stays(client, login_as, frozen_clock):
    frozen_clock.set(at(2024, 3, 22, 20, 0))
    _r, regulator = login_as("regulator", jurisdiction=["370811"])
    case = open_ticket(client, regulator)  # due Friday 2024-03-29
    frozen_clock.set(at(2024, 3, 29, 17, 0))  # the last day: still in time to ask
    on_time = open_ticket(client, regulator, number="12345-0002", received="2024-03-22T19:30:00+08:00")
    assert move(client, regulator, on_time["id"], to="extended", reason="需协调", days=2).status_code == 200
    frozen_clock.set(at(2024, 4, 1, 9, 0))  # Monday after the deadline
    refused = error_of(move(client, regulator, case["id"], to="extended", reason="补延期", days=10), 409)
    assert "已过" in refused["message"]
    (seen,) = [c for c in client.get("/api/v1/cases?status=overdue", headers=regulator).get_json()["items"]
               if c["id"] == case["id"]]
    assert seen["card"] == "red" and seen["deadline"] == "2024-03-29" and seen["extended_days"] is None


def test_duplicates_point_to_a_root_never_to_each_other(client, two_districts):
    _rencheng, _yanzhou, citizen, here, _there, _city = two_districts
    a, b, c, d = (post(client, citizen, lat_offset=0.0001 * n).get_json()["id"] for n in range(4))

    def mark(complaint, original):
        return client.post(f"/api/v1/complaints/{complaint}/triage", headers=here,
                           json={"action": "duplicate", "duplicate_of": original})

    assert mark(a, b).status_code == 200
    crosswise = error_of(mark(b, a), 422)  # B of A would leave nobody handling the matter
    assert "duplicate_of" in crosswise["fields"]
    assert mark(c, a).get_json()["complaint"]["duplicate_of"] == b  # A repeats B: C repeats B too
    assert mark(b, d).status_code == 200  # B turns out to repeat D: A and C now repeat D
    db.session.remove()
    rows = {row.id: row for row in db.session.scalars(select(Complaint).where(Complaint.id.in_([a, b, c, d])))}
    assert {ident: (rows[ident].status, rows[ident].duplicate_of_id) for ident in (a, b, c)} == {
        a: ("duplicate", d), b: ("duplicate", d), c: ("duplicate", d)}
    assert rows[d].status == "open"
    error_of(mark(d, d), 422)
