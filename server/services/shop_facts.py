"""Keeping ``shop_facts`` in step with the records, and reading the engine's facts from it.

Every flush that touches a shop's cleanings, slips, contracts, status changes, inspections or
rectification orders marks the shop stale; just before the commit the stale shops' rows are
rewritten from their records by set-based SQL, in the same transaction.  Writes that bypass
the ORM (bulk loads, retention) call :func:`mark_stale` or :func:`refresh_all` themselves.

The row holds what the records say *now*, without the date-dependent rules: those (the 48-hour
pending window, the 12-month failure window, contract and licence validity, overdue deadlines,
future status changes) are applied on reading by :class:`Reader`, which answers for today
only (:func:`facts_for`).  A row that cannot answer exactly — missing, or holding a time later than "now" (a
record dated a few minutes ahead within the clock slack, or a clock set back) — is left to
the records (:func:`server.services.compliance_facts.facts_bulk`).
"""
import datetime as dt
import json
from itertools import chain

from sqlalchemy import and_, case, event, func, select
from sqlalchemy.orm import Session

from server.clock import today, utcnow
from server.database import upsert
from server.extensions import db
from server.models.collector import CollectorCompany
from server.models.inspection import Inspection, InspectionItem, Rectification, RectificationEvent
from server.models.records import Cleaning, Handover
from server.models.shop import Contract, Shop, ShopStatusChange
from server.models.shop_facts import ShopFacts
from server.services.compliance import OPEN_ACTIONS, Facts, as_of_bounds, pending_window
from server.services.compliance_facts import (FAILED_ITEM, YEAR, _ids_filter, counting_slip, current, facts_bulk,
                                              live_inspection)

STALE = "shop_facts_stale"
BATCH = 2000


def _utc_text(moment):
    """A time as text that sorts as the time does (fixed width, UTC)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


# --- keeping the rows in step -----------------------------------------------------------------

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


def mark_stale(session, shop_ids):
    """These shops' facts are rewritten from their records before the transaction commits."""
    session.info.setdefault(STALE, set()).update(i for i in shop_ids if i is not None)


@event.listens_for(Session, "after_flush")
def _note_changes(session, _context):
    with session.no_autoflush:
        mark_stale(session, [_shop_of(session, obj) for obj in chain(session.new, session.dirty, session.deleted)])


@event.listens_for(Session, "before_commit", insert=True)
def _refresh_before_commit(session):
    session.flush()
    stale = session.info.pop(STALE, None)
    if stale:
        refresh(session, sorted(stale))


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction):
    if transaction.parent is None:  # a rolled-back savepoint keeps the outer transaction's marks
        session.info.pop(STALE, None)


def summarise(session, shop_ids, now=None):
    """``{shop_id: row values}`` from the shops' records (set-based, one query per kind).  Facts
    are taken from the versions in force; ``valid_from`` from every version and answer."""
    now = now or utcnow()
    rows = {shop_id: {"shop_id": shop_id, "last_cleaned_on": None, "last_counted_slip_at": None,
                      "last_pending_slip_at": None, "last_inspected_at": None, "valid_from": now,
                      "refreshed_at": now, "lists": {"statuses": [], "contracts": [], "orders": [], "failures": []}}
            for shop_id in session.scalars(select(Shop.id).where(_ids_filter(Shop.id, shop_ids)))}
    if not rows:
        return rows

    def changed(shop_id, *moments):
        row = rows[shop_id]
        row["valid_from"] = max(m for m in (row["valid_from"], *moments) if m is not None)

    for shop_id, effective_on, status, changed_at in session.execute(
            select(ShopStatusChange.shop_id, ShopStatusChange.effective_on, ShopStatusChange.status,
                   ShopStatusChange.changed_at)
            .where(_ids_filter(ShopStatusChange.shop_id, shop_ids)).order_by(ShopStatusChange.id)):
        rows[shop_id]["lists"]["statuses"].append([effective_on.isoformat(), status])
        changed(shop_id, changed_at)
    in_force = current(Cleaning)
    for shop_id, last, received, superseded in session.execute(
            select(Cleaning.shop_id, func.max(case((in_force, Cleaning.cleaned_on))), func.max(Cleaning.received_at),
                   func.max(Cleaning.superseded_at))
            .where(_ids_filter(Cleaning.shop_id, shop_ids)).group_by(Cleaning.shop_id)):
        rows[shop_id]["last_cleaned_on"] = last
        changed(shop_id, received, superseded)
    answered, in_force = Handover.answered_at.is_not(None), current(Handover)
    for shop_id, counted, pending, received, superseded, answered_at in session.execute(
            select(Handover.shop_id,
                   func.max(case((and_(in_force, counting_slip(answered)), Handover.handed_over_at))),
                   func.max(case((and_(in_force, ~answered), Handover.handed_over_at))),
                   func.max(Handover.received_at), func.max(Handover.superseded_at), func.max(Handover.answered_at))
            .where(_ids_filter(Handover.shop_id, shop_ids)).group_by(Handover.shop_id)):
        rows[shop_id]["last_counted_slip_at"], rows[shop_id]["last_pending_slip_at"] = counted, pending
        changed(shop_id, received, superseded, answered_at, counted, pending)
    for shop_id, valid_from, valid_until, company_id, recorded_at in session.execute(
            select(Contract.shop_id, Contract.valid_from, Contract.valid_until, Contract.collector_company_id,
                   Contract.recorded_at)
            .where(_ids_filter(Contract.shop_id, shop_ids)).order_by(Contract.id)):
        rows[shop_id]["lists"]["contracts"].append([valid_from.isoformat(), valid_until.isoformat(), company_id])
        changed(shop_id, recorded_at)
    live = live_inspection()
    for shop_id, last, received, voided in session.execute(
            select(Inspection.shop_id, func.max(case((live, Inspection.inspected_at))),
                   func.max(Inspection.received_at), func.max(Inspection.voided_at))
            .where(_ids_filter(Inspection.shop_id, shop_ids)).group_by(Inspection.shop_id)):
        rows[shop_id]["last_inspected_at"] = last
        changed(shop_id, received, voided, last)
    for shop_id, code, inspection_id, at in session.execute(
            select(Inspection.shop_id, InspectionItem.code, Inspection.id, Inspection.inspected_at)
            .join(InspectionItem, InspectionItem.inspection_id == Inspection.id)
            .where(_ids_filter(Inspection.shop_id, shop_ids), live, Inspection.inspected_at > now - YEAR,
                   FAILED_ITEM)
            .order_by(Inspection.id, InspectionItem.code)):
        rows[shop_id]["lists"]["failures"].append([code, inspection_id, _utc_text(at)])
    orders = {}
    for order_id, shop_id, created_at in session.execute(
            select(Rectification.id, Rectification.shop_id, Rectification.created_at)
            .join(Inspection, Inspection.id == Rectification.inspection_id)
            .where(_ids_filter(Rectification.shop_id, shop_ids), live)):
        orders[order_id] = shop_id
        changed(shop_id, created_at)
    state = {}  # order id → [last action, last deadline]
    for order_id, action, deadline, at in session.execute(
            select(RectificationEvent.rectification_id, RectificationEvent.action, RectificationEvent.deadline,
                   RectificationEvent.at)
            .where(_ids_filter(RectificationEvent.rectification_id, list(orders))).order_by(RectificationEvent.id)):
        last = state.setdefault(order_id, [None, None])
        last[0] = action
        if deadline is not None:
            last[1] = deadline
        changed(orders[order_id], at)
    for order_id, (action, deadline) in sorted(state.items()):
        if action != "accepted":
            rows[orders[order_id]]["lists"]["orders"].append([action in OPEN_ACTIONS, deadline.isoformat()])
    for row in rows.values():
        row["lists"] = json.dumps(row["lists"], separators=(",", ":")) if any(row["lists"].values()) else None
    return rows


def refresh(session, shop_ids):
    """Rewrite these shops' rows from their records (in the caller's transaction)."""
    shop_ids = list(shop_ids)
    for start in range(0, len(shop_ids), BATCH):
        batch = shop_ids[start:start + BATCH]
        if session.get_bind().dialect.name == "postgresql":
            # One refresher per shop at a time, and it reads after the previous one committed:
            # otherwise two transactions adding records to one shop would each summarise without
            # the other's, and the later upsert would drop the earlier's record.  (SQLite writers
            # are serialised by BEGIN IMMEDIATE already.)  NO KEY: records may still be inserted.
            session.execute(select(Shop.id).where(_ids_filter(Shop.id, batch)).order_by(Shop.id)
                            .with_for_update(key_share=True))
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
        stored = _read(_stored_rows(ids), as_of)
        for shop_id, facts in facts_bulk(ids, as_of).items():
            if stored[shop_id] is None:
                missing.append(shop_id)
            elif stored[shop_id] != facts:
                differing.append(shop_id)
        checked += len(ids)
    return checked, missing, differing


# --- reading ----------------------------------------------------------------------------------

FACT_COLUMNS = (ShopFacts.last_cleaned_on, ShopFacts.last_counted_slip_at, ShopFacts.last_pending_slip_at,
                ShopFacts.last_inspected_at, ShopFacts.lists, ShopFacts.valid_from)
SHOP_COLUMNS = (Shop.id, Shop.registered_on, Shop.cooking_heads, Shop.purifier_installed,
                Shop.purifier_rated_efficiency)


def facts_for(shop_ids, as_of):
    """The engine's facts of these shops on ``as_of``: ``{shop_id: Facts}``.  ``shop_ids``: a list
    of ids or a ``select`` of shop ids."""
    if as_of != today():
        return facts_bulk(shop_ids, as_of)
    return facts_of_rows(_stored_rows(shop_ids), as_of)


def _stored_rows(shop_ids):
    return db.session.execute(with_facts(select(*SHOP_COLUMNS).where(_ids_filter(Shop.id, shop_ids)))).all()


def with_facts(statement):
    """``statement`` (a select starting with :data:`SHOP_COLUMNS`) with the stored facts joined."""
    return statement.add_columns(*FACT_COLUMNS).outerjoin(ShopFacts, ShopFacts.shop_id == Shop.id)


def facts_of_rows(rows, as_of):
    """``{shop_id: Facts}`` for rows of :func:`with_facts`: from the stored facts today where they
    can answer, from the records otherwise."""
    if as_of != today():
        return facts_bulk([row[0] for row in rows], as_of)
    facts = _read(rows, as_of)
    missing = [shop_id for shop_id, found in facts.items() if found is None]
    if missing:
        facts.update(facts_bulk(missing, as_of))
    return facts


def _read(rows, as_of):
    """``{shop_id: Facts or None}`` from the stored rows alone."""
    reader = Reader(as_of)
    return {row[0]: reader.facts(row) for row in rows}


class Reader:
    """Turns stored rows into :class:`Facts` for today; ``None`` where the row cannot answer."""

    def __init__(self, as_of):
        self.as_of, self.moment = as_of, as_of_bounds(as_of)[1]
        self.as_of_text = as_of.isoformat()
        self.pending_since = self.moment - pending_window()
        self.failures_since = _utc_text(self.moment - YEAR)
        # Shops whose records changed in this (uncommitted) transaction: their rows are not rewritten yet.
        self.stale = db.session.info.get(STALE, ())
        self.licences = {company_id: until.isoformat() if until else "" for company_id, until in db.session.execute(
            select(CollectorCompany.id, CollectorCompany.licence_valid_until))}

    def facts(self, row):
        """``row``: from :func:`with_facts` (the fact columns are None where no row is stored)."""
        shop_id, registered_on, heads, installed, efficiency = row[:5]
        cleaned, counted, pending, inspected, lists, valid_from = row[-6:]
        if valid_from is None or valid_from > self.moment or shop_id in self.stale or (
                cleaned is not None and cleaned > self.as_of):
            return None
        facts = Facts(shop_id=shop_id, registered_on=registered_on, cooking_heads=heads, purifier_installed=installed,
                      rated_efficiency=efficiency, last_cleaned_on=cleaned, last_inspected_at=inspected)
        if pending is not None and pending >= self.pending_since and (counted is None or pending > counted):
            facts.last_handover_at = pending
        else:
            facts.last_handover_at = counted
        if lists:
            lists = json.loads(lists)
            as_of = self.as_of_text
            for effective_on, status in lists["statuses"]:
                if effective_on <= as_of:
                    facts.status = status
            contracts = lists["contracts"]
            facts.any_contract = bool(contracts)
            facts.valid_contract = any(start <= as_of <= until and self.licences.get(company, "") >= as_of
                                       for start, until, company in contracts)
            for open_action, deadline in lists["orders"]:
                facts.open_orders += 1
                facts.overdue_orders += open_action and deadline < as_of
            failed = {}
            for code, inspection_id, at in lists["failures"]:
                if at > self.failures_since:
                    failed.setdefault(code, set()).add(inspection_id)
            facts.failures = {code: len(ids) for code, ids in failed.items()}
        return facts
