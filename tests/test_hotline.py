"""12345 hotline tickets as cases: working-day deadlines from the holiday calendar (National Day,
make-up working days, a year the calendar does not know), 回退 within 2 working days, one extension,
yellow and red cards on the right days, 重办 after a dissatisfied follow-up, scoping."""
import datetime as dt

import pytest

from server.clock import SHANGHAI
from tests.helpers import at, error_of


@pytest.fixture
def app_config(app_config):
    return {**app_config, "TOKEN_TTL_HOURS": 24 * 60}  # the clock moves weeks within a test


def ticket(number="12345-0001", received="2024-03-22T19:30:00+08:00", **changes):
    return {"source": "hotline", "external_case_no": number, "district_code": "370811", "received_at": received,
            "summary": "市民反映古槐路烧烤店油烟直排", "note": "12345 派单", **changes}


@pytest.fixture
def staff_at(login_as, frozen_clock):
    """``staff_at(moment)``: the clock set to ``moment``, then a regulator of 任城区, an inspector there
    (an assignee) and a regulator of another district logged in: their headers (the inspector himself)."""

    def make(moment):
        frozen_clock.set(moment)
        _regulator, regulator = login_as("regulator", jurisdiction=["370811"])
        handler, _handler_headers = login_as("inspector", jurisdiction=["370811"])
        _other, elsewhere = login_as("regulator", jurisdiction=["370812"])
        return regulator, handler, elsewhere

    return make


def open_ticket(client, headers, **changes):
    response = client.post("/api/v1/cases", json=ticket(**changes), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def move(client, headers, case_id, **body):
    return client.post(f"/api/v1/cases/{case_id}/transitions", json=body, headers=headers)


def listed(client, headers, case_id):
    (found,) = [c for c in client.get("/api/v1/cases?per_page=100", headers=headers).get_json()["items"]
                if c["id"] == case_id]
    return found


@pytest.mark.parametrize("received, deadline", [
    ("2024-03-22T19:30:00+08:00", "2024-03-29"),  # a Friday evening: Monday is the first working day
    ("2025-09-26T10:00:00+08:00", "2025-10-10"),  # make-up Sunday 9-28 counts, 10-01…10-08 do not
    ("2025-10-09T10:00:00+08:00", "2025-10-15"),  # make-up Saturday 10-11 counts
    ("2024-04-03T10:00:00+08:00", "2024-04-11"),  # 清明 4-4…4-6 off, make-up Sunday 4-7 counts
    ("2024-03-21T16:30:00Z", "2024-03-29"),       # Thursday in UTC, 00:30 on Friday in Jining: Friday counts
])
def test_the_deadline_is_the_fifth_working_day_after_receipt(client, staff_at, frozen_clock, received, deadline):
    regulator, _handler, _elsewhere = staff_at(dt.datetime(2025, 12, 1, 9, 0, tzinfo=SHANGHAI))
    case = open_ticket(client, regulator, received=received)
    assert case["deadline"] == deadline and case["source"] == "hotline" and case["status"] == "accepted"
    assert case["shop_id"] is None and case["district_code"] == "370811" and case["calendar_note"] is None


def test_a_year_the_calendar_does_not_know_counts_weekdays_and_says_so(app, client, staff_at, frozen_clock):
    regulator, _handler, _elsewhere = staff_at(dt.datetime(2026, 12, 28, 12, 0, tzinfo=SHANGHAI))
    first = open_ticket(client, regulator, number="T-1", received="2026-12-28T09:00:00+08:00")
    assert first["deadline"] == "2027-01-04" and "2027" in first["calendar_note"]  # 1-1 counted as a weekday
    result = app.test_cli_runner().invoke(args=["workdays", "set", "2027-01-01", "--holiday", "--note", "元旦"])
    assert result.exit_code == 0, result.output
    second = open_ticket(client, regulator, number="T-2", received="2026-12-28T09:00:00+08:00")
    assert second["deadline"] == "2027-01-05"  # the admin's day overrides the weekday guess
    assert listed(client, regulator, first["id"])["deadline"] == "2027-01-04"  # stored: never moved silently
    assert "2027-01-01  休息日  元旦" in app.test_cli_runner().invoke(args=["workdays", "list"]).output


def test_send_back_only_within_two_working_days(client, staff_at, frozen_clock):
    regulator, _handler, _elsewhere = staff_at(at(2024, 3, 22, 20, 0))
    early = open_ticket(client, regulator, number="A")
    late = open_ticket(client, regulator, number="B")
    frozen_clock.set(at(2024, 3, 26, 17, 0))  # Tuesday: Monday and Tuesday are 2 working days
    error_of(move(client, regulator, early["id"], to="sent_back"), 422)  # a reason is required
    sent_back = move(client, regulator, early["id"], to="sent_back", reason="属住建部门职责，非城管事项")
    assert sent_back.status_code == 200 and sent_back.get_json()["status"] == "sent_back"
    assert sent_back.get_json()["card"] is None and sent_back.get_json()["overdue"] is False
    error_of(move(client, regulator, early["id"], to="assigned", note="x"), 409)  # it has ended
    frozen_clock.set(at(2024, 3, 27, 9, 0))  # Wednesday: the third working day
    error = error_of(move(client, regulator, late["id"], to="sent_back", reason="迟了"), 409)
    assert "2 个工作日" in error["message"]


def test_one_extension_of_at_most_ten_working_days(client, staff_at, frozen_clock):
    regulator, _handler, _elsewhere = staff_at(at(2024, 3, 22, 20, 0))
    case = open_ticket(client, regulator)
    error_of(move(client, regulator, case["id"], to="extended", reason="需协调", days=11), 422)
    error_of(move(client, regulator, case["id"], to="extended", reason="需协调"), 422)
    extended = move(client, regulator, case["id"], to="extended", reason="需联合住建部门处置", days=3).get_json()
    assert extended["deadline"] == "2024-04-03" and extended["status"] == "accepted" and extended["extended_days"] == 3
    again = error_of(move(client, regulator, case["id"], to="extended", reason="再延", days=1), 409)
    assert "一次" in again["message"]


def test_yellow_then_red_cards_on_the_right_days(client, staff_at, frozen_clock):
    regulator, _handler, _elsewhere = staff_at(at(2024, 3, 22, 20, 0))
    case = open_ticket(client, regulator)  # deadline Friday 2024-03-29
    for day, card in ((27, None), (28, "yellow"), (29, "yellow"), (30, "red")):
        frozen_clock.set(at(2024, 3, day, 10, 0))
        seen = listed(client, regulator, case["id"])
        assert seen["card"] == card, (day, seen)
        assert seen["overdue"] is (card == "red")
    assert [c["id"] for c in client.get("/api/v1/cases?status=overdue", headers=regulator).get_json()["items"]] \
        == [case["id"]]
    frozen_clock.set(at(2024, 3, 29, 20, 0))
    monday = open_ticket(client, regulator, number="M", received="2024-03-29T09:00:00+08:00")  # due Mon 4-8
    frozen_clock.set(at(2024, 4, 3, 10, 0))  # Wednesday; 4-4…4-6 off; 4-7 (Sunday) is a make-up working day
    assert monday["deadline"] == "2024-04-08" and listed(client, regulator, monday["id"])["card"] is None
    frozen_clock.set(at(2024, 4, 7, 10, 0))  # the make-up Sunday: one working day (Monday) left
    assert listed(client, regulator, monday["id"])["card"] == "yellow"


def test_a_dissatisfied_follow_up_reopens_the_case_as_redo(client, staff_at, frozen_clock):
    regulator, handler, _elsewhere = staff_at(at(2024, 3, 22, 20, 0))
    case = open_ticket(client, regulator)
    error_of(client.post(f"/api/v1/cases/{case['id']}/follow-up", json={"satisfied": True}, headers=regulator), 409)
    for to in ("assigned", "handled", "closed"):
        assert move(client, regulator, case["id"], to=to, note=to, assignee_id=handler.id).status_code == 200
    unhappy = client.post(f"/api/v1/cases/{case['id']}/follow-up", json={"satisfied": False, "note": "油烟仍在"},
                          headers=regulator).get_json()
    assert unhappy["status"] == "assigned" and unhappy["redo_count"] == 1 and unhappy["satisfied"] is False
    assert unhappy["events"][-1]["from"] == "closed" and unhappy["events"][-1]["to"] == "assigned"
    error_of(client.post(f"/api/v1/cases/{case['id']}/follow-up", json={"satisfied": True}, headers=regulator), 409)
    frozen_clock.advance(dt.timedelta(days=1))
    for to in ("handled", "closed"):
        assert move(client, regulator, case["id"], to=to, note=to).status_code == 200
    happy = client.post(f"/api/v1/cases/{case['id']}/follow-up", json={"satisfied": True}, headers=regulator)
    assert happy.get_json()["satisfied"] is True and happy.get_json()["status"] == "closed"
    error_of(client.post(f"/api/v1/cases/{case['id']}/follow-up", json={"satisfied": False}, headers=regulator), 409)


def test_hotline_tickets_are_scoped_validated_and_counted(client, staff_at, frozen_clock, make_shop):
    regulator, _handler, elsewhere = staff_at(at(2024, 3, 22, 20, 0))
    error_of(client.post("/api/v1/cases", json=ticket(), headers=elsewhere), 403)  # another district's ticket
    case = open_ticket(client, regulator)
    error_of(move(client, elsewhere, case["id"], to="assigned", note="x"), 404)
    assert case["id"] not in [c["id"] for c in client.get("/api/v1/cases", headers=elsewhere).get_json()["items"]]
    error_of(client.post("/api/v1/cases", json=ticket(), headers=regulator), 409)  # the same ticket twice
    error = error_of(client.post("/api/v1/cases", json=ticket(number="X", source_id=3),
                                 headers=regulator), 422)
    assert set(error["fields"]) >= {"source_id"}
    error_of(client.post("/api/v1/cases", json={"source": "hotline", "note": "x"}, headers=regulator), 422)
    error_of(client.post("/api/v1/cases", json=ticket(number="F", received="2024-03-23T09:00:00+08:00"),
                         headers=regulator), 422)  # received in the future
    shop = make_shop().shop
    with_shop = open_ticket(client, regulator, number="S", shop_id=shop["id"])
    assert with_shop["shop_id"] == shop["id"]
    error_of(client.post("/api/v1/cases", json=ticket(number="S2", shop_id=shop["id"], district_code="370812"),
                         headers=elsewhere), 404)  # a shop they cannot see
    frozen_clock.set(at(2024, 3, 30, 10, 0))  # both past their deadline: red
    negative = client.get("/api/v1/exports/negative-list.csv", headers=regulator).get_data(as_text=True)
    assert "S" in negative and shop["name"] in negative
    stats = client.get("/api/v1/stats/districts?from=2024-03-01&to=2024-03-30", headers=regulator).get_json()
    (district,) = [d for d in stats["items"] if d["district_code"] == "370811"]
    assert district["hotline"] == {"received": 2, "closed_on_time": 0, "closed_late": 0, "yellow": 0, "red": 2,
                                   "sent_back": 0, "redo": 0}


def test_the_hotline_ledger_lists_tickets_with_their_cards(client, staff_at, frozen_clock):
    regulator, _handler, elsewhere = staff_at(at(2024, 3, 22, 20, 0))
    case = open_ticket(client, regulator, number="12345-LEDGER")
    move(client, regulator, case["id"], to="extended", reason="需协调", days=2)
    frozen_clock.set(at(2024, 4, 3, 10, 0))  # past the extended deadline (4-2)
    text = client.get("/api/v1/exports/hotline-cases.csv", headers=regulator).get_data(as_text=True)
    assert "12345-LEDGER" in text and "红牌" in text and "2024-04-02" in text
    assert "12345-LEDGER" not in client.get("/api/v1/exports/hotline-cases.csv", headers=elsewhere) \
        .get_data(as_text=True)
