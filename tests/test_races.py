"""Two requests at once on one record, against a real gunicorn (2 workers × 4 threads): one
succeeds, the other answers 409 (or 422 for a used code), and the stored state is the success's.

On PostgreSQL this is the row lock every transition takes (``scope.locked``); on SQLite it is
``BEGIN IMMEDIATE``.  After the races the shops' stored facts and the audit chain still check out.
"""
import datetime as dt
import threading

import pytest
import requests
from sqlalchemy import func, select

from server.clock import SHANGHAI
from server.extensions import db
from server.models import (AuditEntry, Case, Cleaning, Complaint, Handover, Invitation, Rectification,
                           ShopChangeRequest, ShopMember, User)
from tests.helpers import gunicorn_serving, upload_photo
from tests.test_inspections import NEAR, items

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def server(app, app_config):
    db.session.remove()
    with gunicorn_serving(app_config, WEB_CONCURRENCY="2", GUNICORN_THREADS="4",
                          RATE_LIMIT_WRITES_PER_MINUTE="0") as base:
        yield base


def race(*calls):
    """Fire the calls (method, url, headers, json) at the same moment; the responses in order."""
    db.session.remove()  # the test's own session must not hold SQLite's write lock meanwhile
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def fire(index, method, url, headers, body):
        barrier.wait()
        results[index] = requests.request(method, url, headers=headers, json=body, timeout=60)

    threads = [threading.Thread(target=fire, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def one_wins(responses, ok=(200, 201), lost=(409,)):
    """Exactly one success and the others refused; the winner's index."""
    codes = [r.status_code for r in responses]
    assert sorted(c in ok for c in codes) == [False] * (len(codes) - 1) + [True], codes
    assert all(c in ok or c in lost for c in codes), [r.text for r in responses]
    return [c in ok for c in codes].index(True)


def now_text(hours_ago=1):
    return (dt.datetime.now(SHANGHAI) - dt.timedelta(hours=hours_ago)).replace(microsecond=0).isoformat()


def all_checks_pass(app):
    db.session.remove()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["facts", "check"]).exit_code == 0
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def start_slip(client, c, **changes):
    body = {"handed_over_at": now_text(), "waste_type": "kitchen_waste", "bins": 2, "declared_kg": 40,
            "collector_company_id": c.company_id, **changes}
    response = client.post(f"/api/v1/shops/{c.shop_id}/handovers", json=body, headers=c.owner)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def test_a_slip_confirmed_twice_or_confirmed_and_rejected_at_once(app, client, contracted, server):
    for second in ("confirm", "reject"):
        slip = start_slip(client, contracted)
        url = f"{server}/handovers/{slip}/"
        bodies = {"confirm": {"weighed_kg": 41}, "reject": {"reason": "未见实物"}}
        responses = race(("POST", url + "confirm", contracted.collector, bodies["confirm"]),
                         ("POST", url + second, contracted.collector, bodies[second]))
        winner = responses[one_wins(responses)].json()
        db.session.remove()
        stored = db.session.get(Handover, slip)
        assert stored.status == winner["status"]
        answers = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "handover", AuditEntry.object_id == slip,
            AuditEntry.action.in_(["handover.confirm", "handover.reject"])))
        assert answers == 1
    all_checks_pass(app)


def test_slips_of_one_day_started_and_answered_at_once_are_all_in_the_waste_tallies(app, client, contracted,
                                                                                     make_shop, server):
    """The day's tally row is added to by upserts: eight slips at once (two shops, one district, one
    day) and then their answers at once leave it equal to the slips (``facts check`` compares)."""
    other = make_shop()
    assert client.post(f"/api/v1/shops/{other.shop_id}/contract", headers=contracted.regulator, json={
        "collector_company_id": contracted.company_id, "contract_no": "HT-2", "valid_from": "2024-01-01",
        "valid_until": "2099-12-31", "photo_ids": [upload_photo(client, contracted.regulator, 901)]}).status_code == 201
    body = {"handed_over_at": now_text(), "waste_type": "kitchen_waste", "declared_kg": 12.34,
            "collector_company_id": contracted.company_id}
    made = race(*[("POST", f"{server}/shops/{shop_id}/handovers", headers, body)
                  for shop_id, headers in [(contracted.shop_id, contracted.owner), (other.shop_id, other.owner)] * 4])
    assert [r.status_code for r in made] == [201] * 8, [r.text for r in made]
    answered = race(*[("POST", f"{server}/handovers/{r.json()['id']}/confirm", contracted.collector,
                       {"weighed_kg": 10 + n}) for n, r in enumerate(made)])
    assert [r.status_code for r in answered] == [200] * 8, [r.text for r in answered]
    regulator = client.get("/api/v1/stats/collectors", headers=contracted.regulator).get_json()["items"]
    assert regulator[0]["slips"] == 8 and regulator[0]["waste_kg"]["kitchen_waste"] == sum(10 + n for n in range(8))
    all_checks_pass(app)


def test_two_corrections_of_one_cleaning_leave_one_current_version(app, client, make_shop, server):
    made = make_shop()
    shop_id, owner = made.shop_id, made.owner
    today = dt.datetime.now(SHANGHAI).date().isoformat()
    body = {"cleaned_on": today, "parts": ["purifier"], "performed_by": "self",
            "before_photo_ids": [upload_photo(client, owner, 1)], "after_photo_ids": [upload_photo(client, owner, 2)]}
    cleaning = client.post(f"/api/v1/shops/{shop_id}/cleanings", json=body, headers=owner).get_json()["id"]
    corrections = [dict(body, reason=f"更正 {n}", before_photo_ids=[upload_photo(client, owner, 10 + n)],
                        after_photo_ids=[upload_photo(client, owner, 20 + n)]) for n in range(2)]
    url = f"{server}/cleanings/{cleaning}/corrections"
    one_wins(race(("POST", url, owner, corrections[0]), ("POST", url, owner, corrections[1])))
    db.session.remove()
    current = db.session.scalar(select(func.count()).select_from(Cleaning).where(
        Cleaning.shop_id == shop_id, Cleaning.superseded_by_id.is_(None)))
    assert current == 1
    all_checks_pass(app)


@pytest.fixture
def answered_order(client, make_shop, login_as):
    made = make_shop()
    shop_id, owner = made.shop_id, made.owner
    _, inspector = login_as("inspector", jurisdiction=["370811"])

    def make(answer=True):
        filed = client.post(f"/api/v1/shops/{shop_id}/inspections", headers=inspector, json={
            "inspected_at": now_text(), **NEAR, "items": items(client, inspector, ["P2"])})
        order = filed.get_json()["rectification"]["id"]
        if answer:
            response = client.post(f"/api/v1/rectifications/{order}/responses", headers=owner,
                                   json={"note": "已整改", "photo_ids": [upload_photo(client, owner, 300 + order)]})
            assert response.status_code == 200
        return order

    return shop_id, owner, inspector, make


def test_an_order_reviewed_twice_or_answered_twice_at_once(app, client, answered_order, server):
    shop_id, owner, inspector, make = answered_order
    order = make()
    url = f"{server}/rectifications/{order}/review"
    responses = race(("POST", url, inspector, {"accepted": True}), ("POST", url, inspector, {"accepted": False}))
    winner = responses[one_wins(responses)].json()
    db.session.remove()
    assert db.session.get(Rectification, order).status == winner["status"]

    order = make(answer=False)
    url = f"{server}/rectifications/{order}/responses"
    bodies = [{"note": f"答复 {n}", "photo_ids": [upload_photo(client, owner, 400 + n)]} for n in range(2)]
    one_wins(race(("POST", url, owner, bodies[0]), ("POST", url, owner, bodies[1])))
    db.session.remove()
    assert db.session.get(Rectification, order).status == "submitted"
    all_checks_pass(app)


def test_one_case_per_record_and_close_or_return_not_both(app, client, contracted, login_as, server):
    slip = start_slip(client, contracted, declared_kg=40)
    assert client.post(f"/api/v1/handovers/{slip}/confirm", json={"weighed_kg": 90},
                       headers=contracted.collector).get_json()["status"] == "disputed"
    inspector_user, inspector = login_as("inspector", jurisdiction=["370811"])
    inspector_id = inspector_user.id
    body = {"source": "handover", "source_id": slip, "note": "称重差异过大"}
    responses = race(("POST", f"{server}/cases", inspector, body), ("POST", f"{server}/cases", inspector, body))
    case = responses[one_wins(responses)].json()["id"]
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.source_id == slip)) == 1
    for to, note in (("assigned", "转办"), ("handled", "已处置")):
        moved = client.post(f"/api/v1/cases/{case}/transitions", headers=inspector,
                            json={"to": to, "note": note, "assignee_id": inspector_id})
        assert moved.status_code == 200, moved.get_data(as_text=True)
    url = f"{server}/cases/{case}/transitions"
    responses = race(("POST", url, inspector, {"to": "closed", "note": "结案"}),
                     ("POST", url, inspector, {"to": "returned", "note": "退回重办"}))
    winner = responses[one_wins(responses)].json()
    db.session.remove()
    stored = db.session.get(Case, case)
    assert stored.status == winner["status"] and (stored.closed_at is not None) == (stored.status == "closed")
    all_checks_pass(app)


def test_a_change_request_approved_and_rejected_at_once(app, client, make_shop, login_as, server):
    made = make_shop()
    shop_id, owner = made.shop_id, made.owner
    asked = client.patch(f"/api/v1/shops/{shop_id}", json={"cooking_heads": 7}, headers=owner)
    assert asked.status_code == 202
    request_id = db.session.scalar(select(ShopChangeRequest.id).where(ShopChangeRequest.shop_id == shop_id))
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    url = f"{server}/change-requests/{request_id}/decision"
    responses = race(("POST", url, regulator, {"approved": True}), ("POST", url, regulator, {"approved": False}))
    one_wins(responses)
    db.session.remove()
    decided = db.session.get(ShopChangeRequest, request_id)
    heads = client.get(f"/api/v1/shops/{shop_id}", headers=regulator).get_json()["cooking_heads"]
    assert (decided.status, heads) in (("approved", 7), ("rejected", 3))
    all_checks_pass(app)


def test_a_claim_code_claimed_by_two_owners_at_once_makes_one_manager(app, client, login_as, server):
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    from tests.helpers import shop_body
    shop_id = client.post("/api/v1/shops", json=shop_body(77), headers=inspector).get_json()["id"]
    code = client.post(f"/api/v1/shops/{shop_id}/claim-code", headers=inspector).get_json()["code"]
    (_, first), (_, second) = login_as(), login_as()
    one_wins(race(("POST", f"{server}/shops/claim", first, {"code": code}),
                  ("POST", f"{server}/shops/claim", second, {"code": code})), lost=(409, 422))
    db.session.remove()
    managers = db.session.scalar(select(func.count()).select_from(ShopMember).where(
        ShopMember.shop_id == shop_id, ShopMember.role == "manager"))
    assert managers == 1
    all_checks_pass(app)


def test_one_user_redeeming_two_invitations_at_once_consumes_one(app, client, login_as, server):
    _, admin = login_as("admin", jurisdiction=None)
    codes = [client.post("/api/v1/invitations", headers=admin, json={
        "role": role, "jurisdiction": ["370811"], "display_name": "新同事"}).get_json()["code"]
        for role in ("inspector", "regulator")]
    user, headers = login_as()
    user_id = user.id
    responses = race(*[("POST", f"{server}/auth/redeem-invitation", headers, {"code": code}) for code in codes])
    winner = responses[one_wins(responses)].json()
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.used_at.is_not(None))) == 1
    assert db.session.get(User, user_id).role == winner["role"]
    all_checks_pass(app)


def test_parallel_wrong_passwords_are_checked_at_most_the_limit(app, client, server):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["create-admin", "--username", "boss"], env={"ADMIN_PASSWORD": "Very-Strong-Pass-2026!"})
    assert created.exit_code == 0, created.output
    db.session.remove()
    responses = race(*[("POST", f"{server}/auth/password-login", {}, {"username": "boss", "password": f"wrong-{n}"})
                       for n in range(60)])
    codes = [r.status_code for r in responses]
    assert codes.count(401) <= 10 and codes.count(401) + codes.count(429) == 60, codes


def test_one_photo_attached_to_two_records_at_once_backs_one(app, client, make_shop, server):
    made = make_shop()
    today = dt.datetime.now(SHANGHAI).date().isoformat()
    shared = upload_photo(client, made.owner, 5)
    bodies = [{"cleaned_on": today, "parts": ["purifier"], "performed_by": "self",
               "before_photo_ids": [upload_photo(client, made.owner, 6 + n)], "after_photo_ids": [shared]}
              for n in range(2)]
    url = f"{server}/shops/{made.shop_id}/cleanings"
    one_wins(race(("POST", url, made.owner, bodies[0]), ("POST", url, made.owner, bodies[1])), lost=(422,))
    all_checks_pass(app)


def test_one_hotline_ticket_entered_at_once_from_several_desks_makes_one_case(app, client, login_as, server):
    desks = [login_as("regulator", jurisdiction=["370811"])[1] for _ in range(4)]  # one desk each: no shared token
    for round_ in range(6):
        number = f"12345-RACE-{round_}"
        body = {"source": "hotline", "external_case_no": number, "district_code": "370811",
                "received_at": now_text(), "summary": "市民反映油烟直排", "note": "12345 派单"}
        one_wins(race(*[("POST", f"{server}/cases", headers, body) for headers in desks * 2]))
        db.session.remove()
        assert db.session.scalar(select(func.count()).select_from(Case).where(
            Case.source == "hotline", Case.external_case_no == number)) == 1
    all_checks_pass(app)


def test_twenty_complaints_from_one_citizen_at_once_store_the_daily_ten(app, client, make_shop, login_as, server):
    make_shop()
    citizen, headers = login_as()
    citizen_id = citizen.id
    body = {"category": "fume", "description": "油烟直排", "lat": 35.4151, "lng": 116.5872}
    responses = race(*[("POST", f"{server}/complaints", headers, body)] * 20)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 10 + [429] * 10, [r.text for r in responses if r.status_code not in (201, 429)]
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Complaint).where(Complaint.user_id == citizen_id)) == 10


def test_two_complaints_marked_duplicates_of_each_other_at_once(app, client, make_shop, login_as, server):
    make_shop()
    _citizen, citizen = login_as()
    desks = [login_as("inspector", jurisdiction=["370811"])[1] for _ in range(2)]
    ids = []
    for offset in (0, 0.0002):
        filed = client.post("/api/v1/complaints", headers=citizen, json={
            "category": "fume", "description": "油烟直排", "lat": 35.4151 + offset, "lng": 116.5872})
        ids.append(filed.get_json()["id"])
    a, b = ids
    for _round in range(4):  # crosswise, at once: one marks, the other finds it done (never 503, never both)
        responses = race(("POST", f"{server}/complaints/{a}/triage", desks[0], {"action": "duplicate", "duplicate_of": b}),
                         ("POST", f"{server}/complaints/{b}/triage", desks[1], {"action": "duplicate", "duplicate_of": a}))
        one_wins(responses, lost=(409, 422))
        db.session.remove()
        rows = db.session.scalars(select(Complaint).where(Complaint.id.in_(ids))).all()
        assert sorted(row.status for row in rows) == ["duplicate", "open"]
        (copy,) = [row for row in rows if row.status == "duplicate"]
        (root,) = [row for row in rows if row.status == "open"]
        assert copy.duplicate_of_id == root.id
        db.session.execute(Complaint.__table__.update().where(Complaint.id.in_(ids))
                           .values(status="open", duplicate_of_id=None))
        db.session.commit()
    all_checks_pass(app)
