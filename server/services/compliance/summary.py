"""Summarising a shop's records into its ``shop_facts`` row, whole or by the part a change touched.

:func:`summarise` reads every kind of record (one set-based query per kind).  Two changes are cheaper
to bring in than that, and the row stays exactly what :func:`summarise` would say now:

- **new unanswered slips and new cleanings** (a slip being started, a cleaning logged: the commonest
  writes) raise only the last pending slip or the last cleaning and ``valid_from``, by one ``UPDATE``
  (:func:`bring_in_new_records`): such a slip is in no list and counts no waste, and cleanings are
  only ever summarised as their latest date;
- **answers to pending slips** (a confirmation, a dispute, a rejection: the other common write) move
  the slip columns by what the answer changes (:func:`bring_in_answers`): a counting answer raises the
  last counted slip and adds the slip to the waste window; the last pending slip is read again (one
  indexed row) only where the answered slip was it.  Nothing scales with the shop's history;
- **any other change to slips only** (a correction) rewrites the slip columns from the shop's slips
  (:func:`resummarise_slips`: two queries instead of nine).

Both apply to a row refreshed earlier the same business day and valid from no later than now, whose
other columns are then still current: its waste list starts at today's window, and its
``valid_from`` — the latest of its refresh and every record's times — is at most now, so the new one
is the latest of now and the slips' times.  Any other row is summarised whole.
"""
import json

from sqlalchemy import and_, bindparam, case, func, or_, select, update

from server.clock import start_of_day, to_shanghai, utcnow
from server.database import id_in, ids_param, in_ids, prepared
from server.models.inspection import Inspection, InspectionItem, Rectification, RectificationEvent
from server.models.records import Cleaning, Handover
from server.models.shop import Contract, Shop, ShopStatusChange
from server.models.shop_facts import ShopFacts
from server.services.compliance.from_records import FAILED_ITEM, YEAR, counting_slip, current, live_inspection
from server.services.compliance.rules import COUNTING_SLIP_STATUSES, order_status_after, waste_window
from server.services.compliance.stored import utc_text


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
        _later(rows[shop_id], *moments)

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
    _slip_facts(session, shop_ids, rows, now)
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
        row["recent_waste"] = _in_order(row["recent_waste"])
    return rows


def _later(row, *moments):
    """``valid_from`` moves to the latest of itself and ``moments``."""
    row["valid_from"] = max(m for m in (row["valid_from"], *moments) if m is not None)


def _slip_facts(session, shop_ids, rows, now):
    """The slip columns of ``rows``: the last counted and the last pending slip in force, and the
    plausibility window's kitchen waste."""
    answered, in_force = Handover.answered_at.is_not(None), current(Handover)
    for shop_id, counted, pending, received, superseded, answered_at in session.execute(
            select(Handover.shop_id,
                   func.max(case((and_(in_force, counting_slip(answered)), Handover.handed_over_at))),
                   func.max(case((and_(in_force, ~answered), Handover.handed_over_at))),
                   func.max(Handover.received_at), func.max(Handover.superseded_at), func.max(Handover.answered_at))
            .where(in_ids(Handover.shop_id, shop_ids, session)).group_by(Handover.shop_id)):
        rows[shop_id]["last_counted_slip_at"], rows[shop_id]["last_pending_slip_at"] = counted, pending
        _later(rows[shop_id], received, superseded, answered_at, counted, pending)
    # The plausibility window's kitchen waste (from the window's first day on the refresh's day: any
    # later window is covered, as a slip that starts counting rewrites these columns).
    for shop_id, at, settled, weighed, declared, bins in session.execute(
            select(Handover.shop_id, Handover.handed_over_at, Handover.settled_kg, Handover.weighed_kg,
                   Handover.declared_kg, Handover.bins)
            .where(in_ids(Handover.shop_id, shop_ids, session), in_force, counting_slip(answered),
                   Handover.waste_type == "kitchen_waste",
                   Handover.handed_over_at >= start_of_day(waste_window(to_shanghai(now).date())),
                   or_(Handover.weighed_kg.is_not(None), Handover.declared_kg.is_not(None), Handover.bins.is_not(None)))
            .order_by(Handover.shop_id, Handover.handed_over_at, Handover.id)):
        rows[shop_id]["recent_waste"].append(_waste_entry(at, settled if settled is not None else weighed, declared,
                                                          bins))


def _waste_entry(at, weighed, declared, bins):
    """A counted kitchen-waste slip as ``recent_waste`` keeps it: [handed over, weighed or declared kg, bins]."""
    kg = weighed if weighed is not None else declared
    return [utc_text(at), None if kg is None else float(kg), bins if kg is None else None]


def _in_order(entries):
    """``recent_waste`` as stored: by time, then by what each slip says (not by id, which the entries do
    not keep), so that a slip added by :func:`bring_in_answers` lands where :func:`summarise` puts it."""
    entries.sort(key=lambda e: (e[0], e[1] is None, e[1] or 0.0, e[2] or 0))
    return json.dumps(entries, separators=(",", ":"))


def _move_rows(session, values_by_shop, now, raised=()):
    """UPDATE each shop's row with its values, where the row is one the cheaper paths may move (see the
    module's docstring); returns the shops whose row was not moved (to be summarised whole).  The
    columns named in ``raised`` only move up (their value is a candidate for the last time)."""
    since, missing = start_of_day(to_shanghai(now).date()), set()
    for shop_id, values in values_by_shop.items():
        # (UPDATE reserves the columns' own names for its parameters.)
        result = _move_row(session, tuple(values), tuple(raised), the_shop=shop_id, moved_at=now, since=since,
                           **{"to_" + name: value for name, value in values.items()})
        if result.rowcount == 0:
            missing.add(shop_id)
    return missing


@prepared
def _move_row(_dialect, names, raised):
    """The UPDATE of :func:`_move_rows` for one set of columns (a handful of sets occur)."""
    values = {}
    for name in names:
        column = getattr(ShopFacts, name)
        value = bindparam("to_" + name, type_=column.type)
        values[name] = case((or_(column.is_(None), column < value), value), else_=column) if name in raised else value
    now = bindparam("moved_at", type_=ShopFacts.refreshed_at.type)
    return (update(ShopFacts).where(ShopFacts.shop_id == bindparam("the_shop"),
                                    ShopFacts.refreshed_at >= bindparam("since", type_=ShopFacts.refreshed_at.type),
                                    ShopFacts.valid_from <= now)
            .values({**values, "refreshed_at": now}))


def bring_in_new_records(session, new):
    """Move each shop's row by its new records: ``{shop_id: {column: latest value..., "moment": latest
    time}}``, each column a last time that the new records can only raise; returns the shops whose row
    could not be moved (to be summarised whole)."""
    now, values_by_shop, raised = utcnow(), {}, set()
    for shop_id, found in new.items():
        values = values_by_shop[shop_id] = {"valid_from": max(now, found["moment"])}
        for name, latest in found.items():
            if name != "moment":
                values[name] = latest
                raised.add(name)
    return _move_rows(session, values_by_shop, now, sorted(raised))


def resummarise_slips(session, shop_ids):
    """Rewrite these shops' slip columns from their slips; returns the shops whose row could not be
    rewritten so (to be summarised whole)."""
    now = utcnow()
    rows = {shop_id: {"last_counted_slip_at": None, "last_pending_slip_at": None, "recent_waste": [],
                      "valid_from": now} for shop_id in shop_ids}
    _slip_facts(session, list(shop_ids), rows, now)
    for row in rows.values():
        row["recent_waste"] = _in_order(row["recent_waste"])
    return _move_rows(session, rows, now)


def bring_in_answers(session, answered):
    """Move each shop's row by answers to its slips: ``{shop_id: [(handed_over_at, status, waste_type,
    weighed_kg, declared_kg, bins, answered_at), ...]}``, each slip in force and unanswered until this
    transaction; returns the shops whose row could not be moved (to be summarised whole)."""
    now = utcnow()
    window = utc_text(start_of_day(waste_window(to_shanghai(now).date())))
    stored = {shop_id: (counted, pending, waste) for shop_id, counted, pending, waste
              in _slip_columns(session, ids=sorted(answered))}
    values_by_shop, whole = {}, set()
    for shop_id, slips in answered.items():
        if stored.get(shop_id, (None, None, None))[2] is None:  # no row, or one from before recent_waste
            whole.add(shop_id)
            continue
        counted, pending, waste = stored[shop_id]
        waste, latest, was_last_pending = json.loads(waste), now, False
        for at, status, waste_type, weighed, declared, bins, answered_at in slips:
            latest = max(latest, at, answered_at)
            was_last_pending = was_last_pending or (pending is not None and at >= pending)
            if status in COUNTING_SLIP_STATUSES:
                counted = at if counted is None else max(counted, at)
                entry = _waste_entry(at, weighed, declared, bins)
                if waste_type == "kitchen_waste" and entry[0] >= window and (entry[1], entry[2]) != (None, None):
                    waste.append(entry)
        if was_last_pending:
            pending = _last_pending(session, the_shop=shop_id).scalar()
        values_by_shop[shop_id] = {"last_counted_slip_at": counted, "last_pending_slip_at": pending,
                                   "recent_waste": _in_order(waste), "valid_from": latest}
    return whole | _move_rows(session, values_by_shop, now)


@prepared
def _slip_columns(dialect):
    return select(ShopFacts.shop_id, ShopFacts.last_counted_slip_at, ShopFacts.last_pending_slip_at,
                  ShopFacts.recent_waste).where(id_in(ShopFacts.shop_id, ids_param(), dialect))


@prepared
def _last_pending(_dialect):
    """A shop's last pending slip in force: read backwards along ix_handovers_shop_facts."""
    return (select(Handover.handed_over_at)
            .where(Handover.shop_id == bindparam("the_shop"), current(Handover), Handover.answered_at.is_(None))
            .order_by(Handover.handed_over_at.desc()).limit(1))
