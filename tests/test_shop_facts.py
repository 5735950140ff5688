"""shop_facts: today's facts kept in step with the records by every commit, read back exactly."""
import datetime as dt
import json
import random
import re
import threading
import time

import pytest
from sqlalchemy import select, update

from server.clock import today, utcnow
from server.extensions import db
from server.models import (Cleaning, CollectorCompany, Contract, Handover, Inspection, Rectification,
                           RectificationEvent, Shop, ShopFacts, ShopStatusChange)
from server.services import audit
from server.services.compliance import check_all, compliance_bulk, compliance_of, stored, sync
from tests.helpers import count_statements
from tests.test_cleanings import body as cleaning_body

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


def stored_answers(ids):
    """Shops whose facts today come from their stored row (not from the records)."""
    reader = stored.Reader(today())
    rows = db.session.execute(stored.with_facts(select(*stored.SHOP_COLUMNS).where(Shop.id.in_(ids))))
    return {row[0] for row in rows if reader.facts(row) is not None}


def assert_rows_match_the_records(shops):
    """Each stored row is what its shop's records say (summarised at the row's own time)."""
    for shop in shops:
        row = db.session.get(ShopFacts, shop.id)
        db.session.refresh(row)
        stored = {column.key: getattr(row, column.key) for column in ShopFacts.__table__.columns}
        assert stored == sync.summarise(db.session, [shop.id], now=row.refreshed_at)[shop.id], shop.id


def assert_in_step(shops):
    ids = [s.id for s in shops]
    assert stored_answers(ids) == set(ids)  # every shop answered from its row...
    bulk = compliance_bulk(ids)
    for shop in shops:  # ...and the same as the per-shop form from the records
        assert bulk[shop.id] == compliance_of(db.session.get(Shop, shop.id)), shop.id
    assert check_all(db.session) == (len(ids), [], [])


def test_stored_facts_follow_every_kind_of_write_as_the_days_pass(city, frozen_clock, make_company):
    rnd = random.Random(20261124)
    spare_company = make_company(["370811"], valid_until=dt.date(2024, 3, 30))
    shops = [city.shop(n + 1, heads=rnd.choice([1, 3, 6]), registered=dt.date(2023, rnd.randint(6, 12), 1),
                       contract=n % 2 == 0) for n in range(12)]
    for shop in shops:
        city.cleaning(shop, today() - rnd.randint(0, 80) * DAY)
        for _ in range(rnd.randint(0, 3)):
            city.slip(shop, utcnow() - rnd.randint(2, 120) * HOUR, status=rnd.choice(["confirmed", "pending"]),
                      received=utcnow(), kg=rnd.choice([None, 5, 80]))
    assert_in_step(shops)
    grades, answered_orders = set(), 0
    for day in range(14):
        frozen_clock.advance(DAY + rnd.randint(0, 5) * HOUR)
        for shop in rnd.sample(shops, 6):
            kind = rnd.choice(["cleaning", "correction", "slip", "answer", "inspection", "void", "order", "status",
                               "contract"])
            if kind == "cleaning":
                city.cleaning(shop, today() - rnd.randint(0, 3) * DAY)
            elif kind == "correction":
                old = db.session.scalars(select(Cleaning).where(Cleaning.shop_id == shop.id,
                                                                Cleaning.superseded_at.is_(None))).first()
                if old:
                    new = Cleaning(shop_id=shop.id, cleaned_on=old.cleaned_on - rnd.randint(1, 40) * DAY,
                                   parts=["purifier"], performed_by="self", logged_by_id=old.logged_by_id,
                                   received_at=utcnow(), supersedes_id=old.id)
                    db.session.add(new)
                    db.session.flush()
                    old.superseded_by_id, old.superseded_at = new.id, utcnow()
                    city.save()
            elif kind == "slip":
                city.slip(shop, utcnow() - rnd.randint(0, 60) * HOUR, status="pending", received=utcnow(),
                          kg=rnd.choice([None, 3, 90]))
            elif kind == "answer":
                slip = db.session.scalars(select(Handover).where(Handover.shop_id == shop.id,
                                                                 Handover.status == "pending")).first()
                if slip:
                    slip.status, slip.answered_at = rnd.choice(["confirmed", "rejected", "disputed"]), utcnow()
                    city.save()
            elif kind == "inspection":
                city.inspection(shop, utcnow() - HOUR, fails=rnd.sample(["P1", "W2"], rnd.randint(1, 2)),
                                deadline=today() + rnd.randint(-2, 3) * DAY)
            elif kind == "void":
                inspection = db.session.scalars(select(Inspection).where(Inspection.shop_id == shop.id,
                                                                         Inspection.voided_at.is_(None))).first()
                if inspection:
                    inspection.voided_at = utcnow()
                    city.save()
            elif kind == "order":  # any standing order of the city that is not closed yet
                order = db.session.scalars(
                    select(Rectification).join(Inspection, Inspection.id == Rectification.inspection_id)
                    .where(Inspection.voided_at.is_(None), Rectification.status != "closed")
                    .order_by(Rectification.id)).first()
                if order:
                    action = rnd.choice(["acknowledged", "submitted", "accepted", "rejected"])
                    db.session.add(RectificationEvent(
                        rectification_id=order.id, action=action, actor_id=1, at=utcnow(),
                        deadline=today() + rnd.randint(-1, 4) * DAY if action == "rejected" else None))
                    if action == "accepted":
                        order.status = "closed"
                    answered_orders += 1
                    city.save()
            elif kind == "status":
                db.session.add(ShopStatusChange(shop_id=shop.id, status=rnd.choice(["suspended", "active"]),
                                                reason="r", effective_on=today() + rnd.randint(-1, 3) * DAY,
                                                changed_by_id=1, changed_at=utcnow()))
                city.save()
            else:  # a contract with a company whose licence lapses on 2024-03-30
                db.session.add(Contract(shop_id=shop.id, collector_company_id=spare_company.id, contract_no="B",
                                        valid_from=today() - DAY, valid_until=today() + 5 * DAY, recorded_by_id=1,
                                        recorded_at=utcnow()))
                city.save()
            assert_rows_match_the_records(shops)
        assert_in_step(shops)
        grades |= {c["grade"] for c in compliance_bulk([s.id for s in shops]).values()}
    assert len(grades) >= 2 and answered_orders >= 5  # the data really varied


def test_a_company_licence_lapsing_needs_no_rewrite(city, frozen_clock):
    shop = city.shop()
    city.slip(shop, utcnow() - HOUR, received=utcnow())
    assert compliance_bulk([shop.id])[shop.id]["waste"]["status"] == "ok"
    db.session.execute(update(CollectorCompany).values(licence_valid_until=today() - DAY))
    db.session.commit()
    assert compliance_bulk([shop.id])[shop.id]["waste"]["status"] == "contract_expired"
    assert stored_answers([shop.id]) == {shop.id}


def test_uncommitted_changes_are_graded_from_the_records(city):
    shop = city.shop()
    before = compliance_bulk([shop.id])[shop.id]
    assert before["purifier"]["status"] == "overdue"  # never cleaned since 2024-01-01
    db.session.add(Cleaning(shop_id=shop.id, cleaned_on=today(), parts=["purifier"], performed_by="self",
                            logged_by_id=1, received_at=utcnow()))
    db.session.flush()  # in this transaction, not committed: the stored row is behind
    assert stored_answers([shop.id]) == set()
    assert compliance_bulk([shop.id])[shop.id]["purifier"]["status"] == "ok"
    db.session.rollback()
    assert compliance_bulk([shop.id])[shop.id] == before
    assert stored_answers([shop.id]) == {shop.id}


def test_a_record_from_a_clock_ahead_is_graded_from_the_records(city, frozen_clock):
    shop = city.shop()
    city.slip(shop, utcnow() + 3 * dt.timedelta(minutes=1), status="pending", received=utcnow())  # clock slack
    assert stored_answers([shop.id]) == set()
    assert compliance_bulk([shop.id])[shop.id] == compliance_of(db.session.get(Shop, shop.id))
    frozen_clock.advance(5 * dt.timedelta(minutes=1))
    assert stored_answers([shop.id]) == {shop.id}
    assert compliance_bulk([shop.id])[shop.id]["waste"]["last_handover_at"] is not None


def test_missing_rows_fall_back_and_the_commands_refresh_and_check(app, city):
    shops = [city.shop(n) for n in (1, 2, 3)]
    city.cleaning(shops[0], today() - 3 * DAY)
    expected = compliance_bulk([s.id for s in shops])
    db.session.execute(ShopFacts.__table__.delete())  # as right after the upgrade to 0014
    db.session.commit()
    assert stored_answers([s.id for s in shops]) == set()
    assert compliance_bulk([s.id for s in shops]) == expected
    runner = app.test_cli_runner()
    result = runner.invoke(args=["facts", "check"])
    assert result.exit_code == 0 and "3 家店铺今日按记录实时计算" in result.output
    result = runner.invoke(args=["facts", "refresh"])
    assert result.exit_code == 0 and "已更新 3 家店铺" in result.output
    assert stored_answers([s.id for s in shops]) == {s.id for s in shops}
    result = runner.invoke(args=["facts", "check"])
    assert result.exit_code == 0 and "共核对 3 家店铺" in result.output
    # A row changed behind the app's back is found.
    db.session.execute(update(ShopFacts).where(ShopFacts.shop_id == shops[0].id).values(last_cleaned_on=today()))
    db.session.commit()
    result = runner.invoke(args=["facts", "check"])
    assert result.exit_code == 1 and f"[{shops[0].id}]" in result.output


def test_the_api_keeps_the_facts_in_step(client, make_shop, frozen_clock):
    shop, _, owner = make_shop()
    assert stored_answers([shop["id"]]) == {shop["id"]}
    first = client.post(f"/api/v1/shops/{shop['id']}/cleanings", headers=owner,
                        json=cleaning_body(client, owner, cleaned_on="2024-03-20"))
    assert first.status_code == 201, first.get_json()
    assert db.session.get(ShopFacts, shop["id"]).last_cleaned_on == dt.date(2024, 3, 20)
    fixed = client.post(f"/api/v1/cleanings/{first.get_json()['id']}/corrections", headers=owner,
                        json=dict(cleaning_body(client, owner, (3, 4), cleaned_on="2024-03-18"), reason="日期填错"))
    assert fixed.status_code == 201, fixed.get_json()
    db.session.expire_all()
    assert db.session.get(ShopFacts, shop["id"]).last_cleaned_on == dt.date(2024, 3, 18)
    body = client.get(f"/api/v1/shops/{shop['id']}", headers=owner).get_json()
    assert body["compliance"]["purifier"]["last_cleaned_on"] == "2024-03-18"
    assert stored_answers([shop["id"]]) == {shop["id"]}
    assert check_all(db.session)[1:] == ([], [])


@pytest.mark.parametrize("other", ["cleaning", "confirmed slip", "pending slip", "answer"])
def test_two_writers_to_one_shop_leave_both_records_in_its_facts(app, city, monkeypatch, other):
    """PostgreSQL lets two transactions add records to one shop at once.  Each refresh must read
    after the other committed, or the later upsert drops the earlier's record.  Beside a status
    change (summarised whole): a cleaning, an answered slip (only the slip columns rewritten), a
    pending one and an answer to one (brought in by an UPDATE) must not be overwritten by the summary."""
    if db.engine.dialect.name != "postgresql":
        return  # SQLite serialises writers (BEGIN IMMEDIATE): the race cannot happen
    shop = city.shop()
    barrier = threading.Barrier(2, timeout=1.5)
    summarise = sync.summarise

    def summarise_together(*args, **kwargs):
        try:  # without the lock both writers get here before either commits
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # with it, the other one is waiting for our commit
        return summarise(*args, **kwargs)

    monkeypatch.setattr(sync, "summarise", summarise_together)

    def then_together(update_row):
        def wrapper(*args, **kwargs):
            missing = update_row(*args, **kwargs)
            try:  # without the lock the other one summarises now, before this record is committed
                barrier.wait()
                time.sleep(0.3)  # ...and has read the records before this commit
            except threading.BrokenBarrierError:
                pass
            return missing
        return wrapper

    monkeypatch.setattr(sync, "bring_in_new_records", then_together(sync.bring_in_new_records))
    monkeypatch.setattr(sync, "resummarise_slips", then_together(sync.resummarise_slips))
    monkeypatch.setattr(sync, "bring_in_answers", then_together(sync.bring_in_answers))
    errors = []

    def write(record):
        try:
            with app.app_context():
                if callable(record):
                    record()
                else:
                    db.session.add(record)
                audit.record("test.record", "shop", shop.id)
                db.session.commit()
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    suspension = ShopStatusChange(shop_id=shop.id, status="suspended", reason="r", effective_on=today() + DAY,
                                  changed_by_id=1, changed_at=utcnow())
    if other == "cleaning":
        record = Cleaning(shop_id=shop.id, cleaned_on=today() - DAY, parts=["purifier"], performed_by="self",
                          logged_by_id=1, received_at=utcnow())
    else:
        record = Handover(serial="RACE-1", shop_id=shop.id, collector_company_id=1, contract_id=1, started_by_id=1,
                          handed_over_at=utcnow() - HOUR, waste_type="kitchen_waste",
                          status="pending" if other == "answer" else other.split()[0],
                          started_by_party="shop", received_at=utcnow(),
                          answered_at=utcnow() if other == "confirmed slip" else None)
    if other == "answer":
        db.session.add(record)
        audit.record("test.record", "shop", shop.id)
        db.session.commit()
        slip_id = record.id

        def record():
            slip = db.session.get(Handover, slip_id)
            slip.status, slip.answered_at = "confirmed", utcnow()

    writers = [threading.Thread(target=write, args=(each,)) for each in (suspension, record)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    db.session.expire_all()
    row = db.session.get(ShopFacts, shop.id)
    kept = {"cleaning": row.last_cleaned_on, "confirmed slip": row.last_counted_slip_at,
            "pending slip": row.last_pending_slip_at, "answer": row.last_counted_slip_at}[other]
    assert kept is not None and "suspended" in (row.lists or "")  # neither was dropped
    assert check_all(db.session)[1:] == ([], [])


def summary_of_cleanings(statement):
    return re.search(r"\bFROM cleanings\b", statement) is not None and "max(" in statement


def summary_of_slips(statement):
    return re.search(r"\bFROM handovers\b", statement) is not None and "max(" in statement


def _start_slip(client, c, when):
    response = client.post(f"/api/v1/shops/{c.shop_id}/handovers", headers=c.owner, json={
        "handed_over_at": when, "waste_type": "kitchen_waste", "declared_kg": 60, "collector_company_id": c.company_id})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def test_a_started_slip_moves_the_row_by_its_own_change(frozen_clock, client, contracted):
    """A new unanswered slip is brought into the row by one UPDATE, not a re-read of the shop's records;
    the row is still exactly what a summary would say, and any other change re-summarises."""
    c = contracted
    shop = db.session.get(Shop, c.shop_id)
    with count_statements() as seen:
        first = _start_slip(client, c, "2024-03-22T08:00:00+08:00")
    assert not any(summary_of_cleanings(s) or summary_of_slips(s) for s in seen), seen
    assert any(s.startswith("UPDATE shop_facts") for s in seen), seen
    assert_rows_match_the_records([shop])
    assert db.session.get(ShopFacts, c.shop_id).last_pending_slip_at == dt.datetime(2024, 3, 22, 0, 0, tzinfo=dt.UTC)
    # An earlier slip leaves the last pending time where it is; a later one moves it.
    frozen_clock.advance(HOUR)
    _start_slip(client, c, "2024-03-21T20:00:00+08:00")
    assert_rows_match_the_records([shop])
    frozen_clock.advance(HOUR)
    _start_slip(client, c, "2024-03-22T10:45:00+08:00")
    assert_rows_match_the_records([shop])
    assert db.session.get(ShopFacts, c.shop_id).last_pending_slip_at == dt.datetime(2024, 3, 22, 2, 45, tzinfo=dt.UTC)
    # Answering reads none of the shop's other records (the pending time falls back to the others, the
    # slip counts and joins the waste window: see the next test); a correction reads its slips again.
    with count_statements() as seen:
        response = client.post(f"/api/v1/handovers/{first}/confirm", headers=c.collector, json={"weighed_kg": 61})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert not any(summary_of_cleanings(s) for s in seen), seen
    assert_rows_match_the_records([shop])
    row = db.session.get(ShopFacts, c.shop_id)
    assert (row.last_counted_slip_at, row.last_pending_slip_at, json.loads(row.recent_waste)) == (
        dt.datetime(2024, 3, 22, 0, 0, tzinfo=dt.UTC), dt.datetime(2024, 3, 22, 2, 45, tzinfo=dt.UTC),
        [["2024-03-22T00:00:00.000000+00:00", 61.0, None]])
    fixed = client.post(f"/api/v1/handovers/{first}/corrections", headers=c.owner, json={
        "handed_over_at": "2024-03-22T07:30:00+08:00", "waste_type": "kitchen_waste", "declared_kg": 55,
        "collector_company_id": c.company_id, "reason": "时间填错"})
    assert fixed.status_code == 201, fixed.get_data(as_text=True)
    assert_rows_match_the_records([shop])
    assert json.loads(db.session.get(ShopFacts, c.shop_id).recent_waste) == []  # the new version is pending
    # Next day, the row of yesterday is re-summarised rather than moved (its waste window is yesterday's).
    frozen_clock.advance(DAY)
    with count_statements() as seen:
        _start_slip(client, c, "2024-03-23T09:00:00+08:00")
    assert any(summary_of_cleanings(s) for s in seen), seen
    assert_rows_match_the_records([shop])
    assert check_all(db.session)[1:] == ([], [])


def test_a_slip_rolled_back_with_its_savepoint_leaves_no_trace_in_the_row(city):
    shop = city.shop()
    before = db.session.get(ShopFacts, shop.id).last_pending_slip_at
    savepoint = db.session.begin_nested()
    db.session.add(Handover(serial="SP-1", shop_id=shop.id, collector_company_id=1, contract_id=1, started_by_id=1,
                            handed_over_at=utcnow() - HOUR, waste_type="kitchen_waste", status="pending",
                            started_by_party="shop", received_at=utcnow()))
    db.session.flush()
    savepoint.rollback()
    audit.record("test.record", "shop", shop.id)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ShopFacts, shop.id).last_pending_slip_at == before
    assert_rows_match_the_records([shop])


def test_a_logged_cleaning_moves_the_row_by_its_own_change(frozen_clock, client, make_shop):
    shop, _, owner = make_shop()
    with count_statements() as seen:
        first = client.post(f"/api/v1/shops/{shop['id']}/cleanings", headers=owner,
                            json=cleaning_body(client, owner, cleaned_on="2024-03-20"))
    assert first.status_code == 201, first.get_json()
    assert not any(summary_of_cleanings(s) or summary_of_slips(s) for s in seen), seen
    row = db.session.get(ShopFacts, shop["id"])
    assert row.last_cleaned_on == dt.date(2024, 3, 20)
    assert_rows_match_the_records([db.session.get(Shop, shop["id"])])
    # An earlier date leaves the last cleaning where it is.
    earlier = client.post(f"/api/v1/shops/{shop['id']}/cleanings", headers=owner,
                          json=cleaning_body(client, owner, (3, 4), cleaned_on="2024-03-02"))
    assert earlier.status_code == 201, earlier.get_json()
    db.session.expire_all()
    assert db.session.get(ShopFacts, shop["id"]).last_cleaned_on == dt.date(2024, 3, 20)
    assert_rows_match_the_records([db.session.get(Shop, shop["id"])])
    # A correction may lower it: summarised whole.
    with count_statements() as seen:
        fixed = client.post(f"/api/v1/cleanings/{first.get_json()['id']}/corrections", headers=owner,
                            json=dict(cleaning_body(client, owner, (5, 6), cleaned_on="2024-03-01"), reason="日期填错"))
    assert fixed.status_code == 201, fixed.get_json()
    assert any(summary_of_cleanings(s) for s in seen), seen
    db.session.expire_all()
    assert db.session.get(ShopFacts, shop["id"]).last_cleaned_on == dt.date(2024, 3, 2)
    assert_rows_match_the_records([db.session.get(Shop, shop["id"])])


def test_an_answer_moves_the_row_by_its_own_change(frozen_clock, client, contracted):
    """Confirming, disputing or rejecting a slip brings the answer into the row without a summary of
    the shop's slips (the last pending slip is read again only when the answered one was it).  Two slips
    handed over at the same moment land in one order whichever is answered first, as a summary puts them."""
    c = contracted
    shop = db.session.get(Shop, c.shop_id)

    def slip(when, kg=60, waste_type="kitchen_waste"):
        response = client.post(f"/api/v1/shops/{c.shop_id}/handovers", headers=c.owner, json={
            "handed_over_at": when, "waste_type": waste_type, "declared_kg": kg, "collector_company_id": c.company_id})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["id"]

    def answer(slip_id, action="confirm", **body):
        with count_statements() as seen:
            response = client.post(f"/api/v1/handovers/{slip_id}/{action}", headers=c.collector, json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert not any(summary_of_slips(s) or summary_of_cleanings(s) for s in seen), seen
        assert_rows_match_the_records([shop])
        return db.session.get(ShopFacts, c.shop_id)

    first, twin = slip("2024-03-22T08:00:00+08:00", kg=60), slip("2024-03-22T08:00:00+08:00", kg=40)
    last = slip("2024-03-22T09:00:00+08:00")
    old, oil = slip("2024-02-01T08:00:00+08:00"), slip("2024-03-21T08:00:00+08:00", waste_type="waste_oil")
    row = answer(twin, weighed_kg=40)  # the later id first: it must still sort before the 60 kg one
    row = answer(first, weighed_kg=60)
    assert json.loads(row.recent_waste) == [["2024-03-22T00:00:00.000000+00:00", 40.0, None],
                                            ["2024-03-22T00:00:00.000000+00:00", 60.0, None]]
    assert row.last_pending_slip_at == dt.datetime(2024, 3, 22, 1, 0, tzinfo=dt.UTC)
    row = answer(old, weighed_kg=61)  # outside the waste window: counts, but adds no waste
    row = answer(oil, weighed_kg=5)  # not kitchen waste
    assert len(json.loads(row.recent_waste)) == 2
    assert row.last_counted_slip_at == dt.datetime(2024, 3, 22, 0, 0, tzinfo=dt.UTC)
    row = answer(last, "reject", reason="没有收到")  # the last pending slip: it falls back to none
    assert (row.last_pending_slip_at, len(json.loads(row.recent_waste))) == (None, 2)
    again, later = slip("2024-03-22T07:00:00+08:00"), slip("2024-03-22T09:10:00+08:00")
    row = answer(later, weighed_kg=10)  # disputed (60 declared): it counts, and the pending one falls back
    assert db.session.get(Handover, later).status == "disputed"
    assert row.last_pending_slip_at == dt.datetime(2024, 3, 21, 23, 0, tzinfo=dt.UTC)
    assert row.last_counted_slip_at == dt.datetime(2024, 3, 22, 1, 10, tzinfo=dt.UTC)
    assert check_all(db.session)[1:] == ([], [])
