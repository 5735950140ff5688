"""Keeping ``shop_facts`` in step with the records.

Every flush that touches a shop's cleanings, slips, contracts, status changes, inspections or
rectification orders marks the shop stale (:func:`note_changes`); just before the commit the
stale shops' rows are rewritten from their records by set-based SQL, in the same transaction
(:func:`refresh_stale`, a step of :mod:`server.commit_pipeline`).  Writes that bypass the ORM
(bulk loads, retention) call :func:`mark_stale` or :func:`refresh_all` themselves.

One change is cheaper to bring in than to re-read: a transaction whose only change to a shop is new
slips that nobody has answered yet (a slip being started, the commonest write) moves the row's
``last_pending_slip_at`` and ``valid_from`` by one ``UPDATE`` (:func:`_bring_in_slips`) — nothing
else in the row can change with it (an unanswered slip is in no list and counts no waste).  Any
other change to the shop in the same transaction re-summarises it as before.
"""
import json
from itertools import chain

from sqlalchemy import and_, case, func, literal, or_, select, update

from server.clock import start_of_day, to_shanghai, today, utcnow
from server.database import in_ids, upsert
from server.models.inspection import Inspection, InspectionItem, Rectification, RectificationEvent
from server.models.records import Cleaning, Handover
from server.models.shop import Contract, Shop, ShopStatusChange
from server.models.shop_facts import ShopFacts
from server.services.compliance.from_records import (FAILED_ITEM, YEAR, counting_slip, current, facts_bulk,
                                                     live_inspection)
from server.services.compliance.rules import order_status_after, waste_window
from server.services.compliance.stored import STALE, read, stored_rows, utc_text

BATCH = 2000


# Records whose rows name their shop and feed its facts (items and events reach it through their parent).
BY_SHOP = (Cleaning, Handover, Inspection, Rectification, Contract, ShopStatusChange)


def _shop_of(session, obj):
    if isinstance(obj, BY_SHOP):
        return obj.shop_id
    if isinstance(obj, Shop):
        return obj.id
    if isinstance(obj, InspectionItem):
        inspection = session.get(Inspection, obj.inspection_id)
        return inspection.shop_id if inspection else None
    if isinstance(obj, RectificationEvent):
        order = session.get(Rectification, obj.rectification_id)
        return order.shop_id if order else None
    return None


# Session-info keys beside STALE (every shop touched, which the reader takes from its records until
# the commit): the shops to re-summarise, and {shop_id: [(handed_over_at, received_at)...]} for the
# shops whose only changes so far are new unanswered slips.
WHOLE, NEW_SLIPS = "shop_facts_whole", "shop_facts_new_slips"


def mark_stale(session, shop_ids):
    """These shops' facts are rewritten from their records before the transaction commits."""
    shop_ids = [i for i in shop_ids if i is not None]
    session.info.setdefault(STALE, set()).update(shop_ids)
    session.info.setdefault(WHOLE, set()).update(shop_ids)


def _new_unanswered_slip(session, obj):
    return (isinstance(obj, Handover) and obj in session.new and obj.status == "pending" and obj.answered_at is None
            and obj.superseded_at is None and obj.superseded_by_id is None and obj.supersedes_id is None)


def note_changes(session, _context):
    """(after_flush) The shops whose records this flush touched are stale."""
    with session.no_autoflush:
        touched = []
        for obj in chain(session.new, session.dirty, session.deleted):
            if _new_unanswered_slip(session, obj):
                session.info.setdefault(STALE, set()).add(obj.shop_id)
                session.info.setdefault(NEW_SLIPS, {}).setdefault(obj.shop_id, []).append(
                    (obj.handed_over_at, obj.received_at))
            else:
                touched.append(_shop_of(session, obj))
        mark_stale(session, touched)


def refresh_stale(session):
    """(a commit step) Rewrite the stale shops' rows in the committing transaction."""
    session.flush()
    stale, whole = session.info.pop(STALE, set()), session.info.pop(WHOLE, set())
    new_slips = {shop_id: slips for shop_id, slips in session.info.pop(NEW_SLIPS, {}).items()
                 if shop_id not in whole}
    whole |= stale - set(new_slips)
    if new_slips:
        _lock(session, sorted(set(new_slips) | whole))
        whole |= _bring_in_slips(session, new_slips)
    if whole:
        refresh(session, sorted(whole))


def _bring_in_slips(session, new_slips):
    """Move each shop's row by its new unanswered slips; returns the shops whose row is missing or
    from an earlier day (to be re-summarised)."""
    now, missing = utcnow(), set()
    today_began = start_of_day(to_shanghai(now).date())
    for shop_id, slips in new_slips.items():
        latest_slip = max(at for at, _ in slips)
        moment = max(now, latest_slip, *(received for _, received in slips if received is not None))
        pending = literal(latest_slip, ShopFacts.last_pending_slip_at.type)
        result = session.execute(
            # Re-summarised instead: a row refreshed on an earlier day (its waste list starts at an earlier
            # window) or valid only from later than now (a clock set back).  So the row stays exactly what
            # a summary made now would be: its valid_from, the latest of now and every record's times.
            update(ShopFacts).where(ShopFacts.shop_id == shop_id, ShopFacts.refreshed_at >= today_began,
                                    ShopFacts.valid_from <= now).values(
                last_pending_slip_at=case((or_(ShopFacts.last_pending_slip_at.is_(None),
                                               ShopFacts.last_pending_slip_at < pending), pending),
                                          else_=ShopFacts.last_pending_slip_at),
                valid_from=moment, refreshed_at=now).execution_options(synchronize_session=False))
        if result.rowcount == 0:
            missing.add(shop_id)
    return missing


def forget(session, transaction):
    """(after_transaction_end) A transaction's marks end with it."""
    if transaction.parent is None:
        for key in (STALE, WHOLE, NEW_SLIPS):
            session.info.pop(key, None)
    elif transaction.nested:
        # A savepoint's end keeps the outer transaction's marks; if it was rolled back, slips noted in it
        # may be gone, so their shops are re-summarised instead.
        mark_stale(session, list(session.info.pop(NEW_SLIPS, {})))


def _lock(session, shop_ids):
    """On PostgreSQL, one refresher per shop at a time, and it reads after the previous one committed:
    otherwise two transactions adding records to one shop would each summarise without the other's,
    and the later upsert would drop the earlier's record.  (SQLite writers are serialised by BEGIN
    IMMEDIATE already.)  NO KEY: records may still be inserted.  In id order, so two never deadlock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Shop.id).where(in_ids(Shop.id, shop_ids, session)).order_by(Shop.id)
                        .with_for_update(key_share=True))


def summarise(session, shop_ids, now=None):
    """``{shop_id: row values}`` from the shops' records (set-based, one query per kind).  Facts
    are taken from the versions in force; ``valid_from`` from every version and answer."""
    now = now or utcnow()
    rows = {shop_id: {"shop_id": shop_id, "last_cleaned_on": None, "last_counted_slip_at": None,
                      "last_pending_slip_at": None, "last_inspected_at": None, "valid_from": now,
                      "refreshed_at": now, "lists": {"statuses": [], "contracts": [], "orders": [], "failures": []},
                      "recent_waste": []}
            for shop_id in session.scalars(select(Shop.id).where(in_ids(Shop.id, shop_ids, session)))}
    if not rows:
        return rows

    def changed(shop_id, *moments):
        row = rows[shop_id]
        row["valid_from"] = max(m for m in (row["valid_from"], *moments) if m is not None)

    for shop_id, effective_on, status, changed_at in session.execute(
            select(ShopStatusChange.shop_id, ShopStatusChange.effective_on, ShopStatusChange.status,
                   ShopStatusChange.changed_at)
            .where(in_ids(ShopStatusChange.shop_id, shop_ids, session)).order_by(ShopStatusChange.id)):
        rows[shop_id]["lists"]["statuses"].append([effective_on.isoformat(), status])
        changed(shop_id, changed_at)
    in_force = current(Cleaning)
    for shop_id, last, received, superseded in session.execute(
            select(Cleaning.shop_id, func.max(case((in_force, Cleaning.cleaned_on))), func.max(Cleaning.received_at),
                   func.max(Cleaning.superseded_at))
            .where(in_ids(Cleaning.shop_id, shop_ids, session)).group_by(Cleaning.shop_id)):
        rows[shop_id]["last_cleaned_on"] = last
        changed(shop_id, received, superseded)
    answered, in_force = Handover.answered_at.is_not(None), current(Handover)
    for shop_id, counted, pending, received, superseded, answered_at in session.execute(
            select(Handover.shop_id,
                   func.max(case((and_(in_force, counting_slip(answered)), Handover.handed_over_at))),
                   func.max(case((and_(in_force, ~answered), Handover.handed_over_at))),
                   func.max(Handover.received_at), func.max(Handover.superseded_at), func.max(Handover.answered_at))
            .where(in_ids(Handover.shop_id, shop_ids, session)).group_by(Handover.shop_id)):
        rows[shop_id]["last_counted_slip_at"], rows[shop_id]["last_pending_slip_at"] = counted, pending
        changed(shop_id, received, superseded, answered_at, counted, pending)
    # The plausibility window's kitchen waste (from the window's first day on the refresh's day: any
    # later window is covered, as a new slip rewrites the row).
    for shop_id, at, weighed, declared, bins in session.execute(
            select(Handover.shop_id, Handover.handed_over_at, Handover.weighed_kg, Handover.declared_kg, Handover.bins)
            .where(in_ids(Handover.shop_id, shop_ids, session), in_force, counting_slip(answered),
                   Handover.waste_type == "kitchen_waste",
                   Handover.handed_over_at >= start_of_day(waste_window(to_shanghai(now).date())),
                   or_(Handover.weighed_kg.is_not(None), Handover.declared_kg.is_not(None), Handover.bins.is_not(None)))
            .order_by(Handover.shop_id, Handover.handed_over_at, Handover.id)):
        kg = weighed if weighed is not None else declared
        rows[shop_id]["recent_waste"].append([utc_text(at), None if kg is None else float(kg), bins if kg is None else None])
    for shop_id, valid_from, valid_until, company_id, recorded_at in session.execute(
            select(Contract.shop_id, Contract.valid_from, Contract.valid_until, Contract.collector_company_id,
                   Contract.recorded_at)
            .where(in_ids(Contract.shop_id, shop_ids, session)).order_by(Contract.id)):
        rows[shop_id]["lists"]["contracts"].append([valid_from.isoformat(), valid_until.isoformat(), company_id])
        changed(shop_id, recorded_at)
    live = live_inspection()
    for shop_id, last, received, voided in session.execute(
            select(Inspection.shop_id, func.max(case((live, Inspection.inspected_at))),
                   func.max(Inspection.received_at), func.max(Inspection.voided_at))
            .where(in_ids(Inspection.shop_id, shop_ids, session)).group_by(Inspection.shop_id)):
        rows[shop_id]["last_inspected_at"] = last
        changed(shop_id, received, voided, last)
    for shop_id, code, inspection_id, at in session.execute(
            select(Inspection.shop_id, InspectionItem.code, Inspection.id, Inspection.inspected_at)
            .join(InspectionItem, InspectionItem.inspection_id == Inspection.id)
            .where(in_ids(Inspection.shop_id, shop_ids, session), live, Inspection.inspected_at > now - YEAR,
                   FAILED_ITEM)
            .order_by(Inspection.id, InspectionItem.code)):
        rows[shop_id]["lists"]["failures"].append([code, inspection_id, utc_text(at)])
    orders = {}
    for order_id, shop_id, created_at in session.execute(
            select(Rectification.id, Rectification.shop_id, Rectification.created_at)
            .join(Inspection, Inspection.id == Rectification.inspection_id)
            .where(in_ids(Rectification.shop_id, shop_ids, session), live)):
        orders[order_id] = shop_id
        changed(shop_id, created_at)
    state = {}  # order id → [last action, last deadline]
    for order_id, action, deadline, at in session.execute(
            select(RectificationEvent.rectification_id, RectificationEvent.action, RectificationEvent.deadline,
                   RectificationEvent.at)
            .where(in_ids(RectificationEvent.rectification_id, list(orders), session))
            .order_by(RectificationEvent.id)):
        last = state.setdefault(order_id, [None, None])
        last[0] = action
        if deadline is not None:
            last[1] = deadline
        changed(orders[order_id], at)
    for order_id, (action, deadline) in sorted(state.items()):
        if action != "accepted":
            rows[orders[order_id]]["lists"]["orders"].append(
                [order_status_after(action) == "open", deadline.isoformat()])
    for row in rows.values():
        row["lists"] = json.dumps(row["lists"], separators=(",", ":")) if any(row["lists"].values()) else None
        row["recent_waste"] = json.dumps(row["recent_waste"], separators=(",", ":"))
    return rows


def refresh(session, shop_ids):
    """Rewrite these shops' rows from their records (in the caller's transaction)."""
    shop_ids = list(shop_ids)
    for start in range(0, len(shop_ids), BATCH):
        batch = shop_ids[start:start + BATCH]
        _lock(session, batch)
        rows = list(summarise(session, batch).values())
        if rows:
            statement = upsert(ShopFacts, session)
            session.execute(statement.on_conflict_do_update(
                index_elements=["shop_id"],
                set_={column: statement.excluded[column] for column in rows[0] if column != "shop_id"}), rows)


def _all_shop_ids(session):
    """Every shop's id, a batch at a time."""
    last_id = 0
    while ids := session.scalars(select(Shop.id).where(Shop.id > last_id).order_by(Shop.id).limit(BATCH)).all():
        yield ids
        last_id = ids[-1]


def refresh_all(session, echo=None):
    """Every shop's row, in batches (after a bulk load, or to check nothing drifted)."""
    done = 0
    for ids in _all_shop_ids(session):
        refresh(session, ids)
        session.commit()
        done += len(ids)
        if echo:
            echo(f"… {done} 家店铺")
    return done


def check_all(session):
    """``(checked, missing, differing)``: every shop's stored facts against its records, for today."""
    as_of, checked, missing, differing = today(), 0, [], []
    for ids in _all_shop_ids(session):
        stored = read(stored_rows(ids), as_of)
        for shop_id, facts in facts_bulk(ids, as_of).items():
            if stored[shop_id] is None:
                missing.append(shop_id)
            elif stored[shop_id] != facts:
                differing.append(shop_id)
        checked += len(ids)
    return checked, missing, differing


