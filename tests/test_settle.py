"""Settling a disputed slip (POST /handovers/{id}/settle): a regulator of the shop's district accepts the
declared or the weighed figure with a reason; the slip is confirmed, the accepted figure counts in the
tallies and the shop's facts, it is audited; anything but a disputed slip without an open case is 409,
and nobody else may settle."""
import datetime as dt

from sqlalchemy import select

from server.clock import SHANGHAI
from server.extensions import db
from server.models import AuditEntry
from tests.helpers import error_of
from tests.test_races import all_checks_pass


def disputed_slip(client, c, declared=40, weighed=90):
    at = (dt.datetime.now(SHANGHAI) - dt.timedelta(hours=2)).replace(microsecond=0).isoformat()
    made = client.post(f"/api/v1/shops/{c.shop_id}/handovers", headers=c.owner, json={
        "handed_over_at": at, "waste_type": "kitchen_waste", "bins": 2, "declared_kg": declared,
        "collector_company_id": c.company_id})
    assert made.status_code == 201, made.get_data(as_text=True)
    confirmed = client.post(f"/api/v1/handovers/{made.get_json()['id']}/confirm", json={"weighed_kg": weighed},
                            headers=c.collector).get_json()
    assert confirmed["status"] == "disputed"
    return confirmed["id"]


def kitchen_kg(client, headers):
    today = dt.datetime.now(SHANGHAI).date().isoformat()
    rows = client.get(f"/api/v1/stats/districts?from={today}&to={today}", headers=headers).get_json()["items"]
    return {r["district_code"]: r["waste_kg"]["kitchen_waste"] for r in rows}["370811"]


def settle(client, headers, slip, accept="declared", reason="复核监控录像，按申报数量"):
    return client.post(f"/api/v1/handovers/{slip}/settle", json={"accept": accept, "reason": reason}, headers=headers)


def test_a_regulator_settles_on_the_declared_figure_and_the_tallies_follow(app, client, contracted):
    slip = disputed_slip(client, contracted)
    assert kitchen_kg(client, contracted.regulator) == 90.0  # a disputed slip counts its weighed figure
    settled = settle(client, contracted.regulator, slip)
    assert settled.status_code == 200, settled.get_data(as_text=True)
    body = settled.get_json()
    assert body["status"] == "confirmed" and body["settled_kg"] == 40.0 and body["settle_reason"].startswith("复核")
    assert body["settled_by"] is not None and body["settled_at"] and body["weighed_kg"] == 90.0  # evidence kept
    assert kitchen_kg(client, contracted.regulator) == 40.0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "handover.settle"))
    assert "采信申报数量 40 kg" in entry.summary
    error_of(settle(client, contracted.regulator, slip), 409)  # once
    listed = client.get("/api/v1/handovers?status=disputed", headers=contracted.regulator).get_json()
    assert slip not in [h["id"] for h in listed["items"]]  # it has left the disputed queue
    all_checks_pass(app)


def test_settling_on_the_weighed_figure_and_who_may_not(app, client, contracted, login_as):
    slip = disputed_slip(client, contracted, declared=10, weighed=30)
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    _, elsewhere = login_as("regulator", jurisdiction=["370812"])
    error_of(settle(client, inspector, slip), 403)
    error_of(settle(client, contracted.owner, slip), 403)
    error_of(settle(client, contracted.collector, slip), 403)
    error_of(settle(client, elsewhere, slip), 404)  # another district's slip: not there at all
    error_of(client.post(f"/api/v1/handovers/{slip}/settle", json={"accept": "average", "reason": "x"},
                         headers=contracted.regulator), 422)
    error_of(client.post(f"/api/v1/handovers/{slip}/settle", json={"accept": "weighed"},
                         headers=contracted.regulator), 422)
    assert settle(client, contracted.regulator, slip, accept="weighed").get_json()["settled_kg"] == 30.0
    assert kitchen_kg(client, contracted.regulator) == 30.0
    all_checks_pass(app)


def test_a_slip_made_a_case_is_settled_in_the_case_not_here(app, client, contracted, login_as):
    slip = disputed_slip(client, contracted)
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    case = client.post("/api/v1/cases", json={"source": "handover", "source_id": slip, "note": "称重差异过大"},
                       headers=inspector)
    assert case.status_code == 201
    assert "已立案" in error_of(settle(client, contracted.regulator, slip), 409)["message"]
    pending = disputed_slip(client, contracted)
    settle(client, contracted.regulator, pending)
    refused = client.post("/api/v1/cases", json={"source": "handover", "source_id": pending, "note": "x"},
                          headers=inspector)
    assert refused.status_code == 409  # settled: nothing left to escalate
