"""Gathering the facts the compliance engine grades: per shop (Python over its records) and
in bulk (set-based SQL, one aggregate query per kind of record).  Both apply the same "as of"
rules; tests compare them on random data."""
import datetime as dt

from sqlalchemy import and_, bindparam, case, func, literal_column, or_, select

from server.clock import start_of_day, today
from server.database import id_in, ids_param, in_ids, prepared
from server.extensions import db
from server.models.complaint import STILL_OPEN, Complaint
from server.models.collector import CollectorCompany
from server.models.inspection import Inspection, InspectionItem, Rectification, RectificationEvent
from server.models.records import Cleaning, Handover
from server.models.shop import Contract, Shop, ShopStatusChange
from server.services.compliance.rules import (COUNTING_SLIP_STATUSES, Facts, as_of_bounds, current_settings,
                                              order_overdue, order_status_after, pending_window, slip_kg,
                                              waste_window)

YEAR = dt.timedelta(days=365)
# Literal, not a bound parameter, so the planner may use the partial index ix_inspection_items_failed.
FAILED_ITEM = InspectionItem.result == literal_column("'fail'")
RECENT_SLIPS = dt.timedelta(days=14)


def _base(shop):
    return Facts(shop_id=shop.id, registered_on=shop.registered_on, cooking_heads=shop.cooking_heads,
                 purifier_installed=shop.purifier_installed, rated_efficiency=shop.purifier_rated_efficiency,
                 district_code=shop.district_code)


# --- per shop --------------------------------------------------------------------------------

def facts_one(shop, as_of):
    cutoff, moment = as_of_bounds(as_of)
    facts = _base(shop)

    def known(row):
        return row.received_at < cutoff and (row.superseded_at is None or row.superseded_at >= cutoff)

    change = db.session.scalars(select(ShopStatusChange).where(
        ShopStatusChange.shop_id == shop.id, ShopStatusChange.effective_on <= as_of,
        ShopStatusChange.changed_at < cutoff).order_by(ShopStatusChange.id.desc())).first()
    facts.status = change.status if change else "active"

    cleaned = [c.cleaned_on for c in db.session.scalars(select(Cleaning).where(Cleaning.shop_id == shop.id))
               if known(c) and c.cleaned_on <= as_of]
    facts.last_cleaned_on = max(cleaned, default=None)

    def counts(slip):
        if not known(slip) or slip.handed_over_at > moment:
            return False
        if slip.answered_at is not None and slip.answered_at < cutoff:
            return slip.status in COUNTING_SLIP_STATUSES
        return slip.handed_over_at >= moment - pending_window()

    all_slips = db.session.scalars(select(Handover).where(Handover.shop_id == shop.id)).all()
    facts.last_handover_at = max((h.handed_over_at for h in all_slips if counts(h)), default=None)

    # Plausibility: kitchen waste confirmed (or disputed) by the cutoff, handed over in the window.
    since, kg_per_bin = start_of_day(waste_window(as_of)), current_settings()["kg_per_bin"]
    quantities = [slip_kg(h.weighed_kg, h.declared_kg, h.bins, kg_per_bin, h.settled_kg) for h in all_slips
                  if known(h) and h.waste_type == "kitchen_waste" and since <= h.handed_over_at <= moment
                  and h.answered_at is not None and h.answered_at < cutoff and h.status in COUNTING_SLIP_STATUSES]
    quantities = [kg for kg in quantities if kg is not None]
    facts.waste_kg = round(sum(quantities), 2) if quantities else None

    contracts = [c for c in db.session.scalars(select(Contract).where(Contract.shop_id == shop.id))
                 if c.recorded_at < cutoff]
    facts.any_contract = bool(contracts)
    facts.valid_contract = any(
        c.valid_from <= as_of <= c.valid_until and db.session.get(CollectorCompany, c.collector_company_id)
        .licence_valid_until >= as_of for c in contracts)

    inspections = {i.id: i for i in db.session.scalars(select(Inspection).where(Inspection.shop_id == shop.id))
                   if (i.voided_at is None or i.voided_at >= cutoff) and i.received_at < cutoff
                   and i.inspected_at <= moment}
    facts.last_inspected_at = max((i.inspected_at for i in inspections.values()), default=None)
    for order in db.session.scalars(select(Rectification).where(Rectification.shop_id == shop.id)):
        if order.created_at >= cutoff or order.inspection_id not in inspections:
            continue
        events = db.session.scalars(select(RectificationEvent).where(
            RectificationEvent.rectification_id == order.id, RectificationEvent.at < cutoff)
            .order_by(RectificationEvent.id)).all()
        if not events:
            continue
        action = events[-1].action
        deadline = [e.deadline for e in events if e.deadline is not None][-1]
        facts.open_orders += action != "accepted"
        facts.overdue_orders += order_overdue(order_status_after(action), deadline, as_of)
    recent = {i for i, inspection in inspections.items() if inspection.inspected_at > moment - YEAR}
    if recent:
        for code, inspection_id in db.session.execute(select(InspectionItem.code, InspectionItem.inspection_id).where(
                InspectionItem.inspection_id.in_(recent), InspectionItem.result == "fail")).all():
            facts.failures.setdefault(code, set()).add(inspection_id)
        facts.failures = {code: len(ids) for code, ids in facts.failures.items()}
    add_complaints({shop.id: facts}, as_of)
    return facts


def _ids(column, shop_ids):
    return in_ids(column, shop_ids, db.session)


# --- bulk -------------------------------------------------------------------------------------

def current(model, cutoff=None):
    """The record versions known at ``cutoff`` (received before it, not yet superseded); with no
    cutoff, the versions in force now."""
    if cutoff is None:
        return model.superseded_at.is_(None)
    return and_(model.received_at < cutoff, or_(model.superseded_at.is_(None), model.superseded_at >= cutoff))


def counting_slip(answered):
    """An answered slip counts as a handover when confirmed or disputed (a rejected one never)."""
    return and_(answered, Handover.status.in_(COUNTING_SLIP_STATUSES))


def live_inspection(cutoff=None, moment=None):
    """Inspections that stand (not voided) at ``cutoff`` and took place by ``moment``."""
    if cutoff is None:
        return Inspection.voided_at.is_(None)
    return and_(or_(Inspection.voided_at.is_(None), Inspection.voided_at >= cutoff), Inspection.received_at < cutoff,
                Inspection.inspected_at <= moment)


def waste_kg_sql(kg_per_bin):
    return func.coalesce(Handover.settled_kg, Handover.weighed_kg, Handover.declared_kg, Handover.bins * kg_per_bin)


# Stated literally, as ix_handovers_waste_window's condition, so the planner may use that index.
KITCHEN_WASTE = Handover.waste_type == literal_column("'kitchen_waste'")
COUNTED_LITERALLY = Handover.status.in_([literal_column("'confirmed'"), literal_column("'disputed'")])


def waste_sums(shop_ids, as_of):
    """The plausibility window's kitchen waste: a ``select`` of ``(shop_id, kg)`` for the shops with
    data among ``shop_ids`` (a list, a ``select`` of ids, or None for every shop) — the same rules as
    :func:`facts_one`, in one aggregate."""
    cutoff, moment = as_of_bounds(as_of)
    kg = waste_kg_sql(current_settings()["kg_per_bin"])
    # Today nothing was received or superseded after the cutoff (the end of today): the versions in
    # force are those not superseded, the index's own condition.
    in_force = Handover.superseded_at.is_(None) if as_of == today() else current(Handover, cutoff)
    per_shop = (select(Handover.shop_id, func.sum(kg).label("kg"))
                .where(in_force, KITCHEN_WASTE, COUNTED_LITERALLY,
                       Handover.handed_over_at >= start_of_day(waste_window(as_of)),
                       Handover.handed_over_at <= moment, kg.is_not(None),
                       Handover.answered_at.is_not(None), Handover.answered_at < cutoff)
                .group_by(Handover.shop_id))
    if shop_ids is not None:
        per_shop = per_shop.where(_ids(Handover.shop_id, shop_ids))
    return per_shop


def add_waste(facts, as_of, shop_ids=None):
    """Fill ``waste_kg`` of these facts (``{shop_id: Facts}``; only of ``shop_ids`` when given) from
    the records."""
    ids = list(facts) if shop_ids is None else list(shop_ids)
    if ids:
        for shop_id, kg in db.session.execute(waste_sums(ids, as_of)):
            facts[shop_id].waste_kg = round(float(kg), 2)
    return facts


def add_complaints(facts, as_of, shop_ids=None):
    """Fill ``open_complaints`` (complaints linked to the shop, filed by the cutoff, still open) — read
    live from the complaints, never stored: a triage changes it without touching the shop's records."""
    ids = list(facts) if shop_ids is None else list(shop_ids)
    if ids:
        cutoff, _moment = as_of_bounds(as_of)
        for shop_id, count in _open_complaints(db.session, ids=ids, cutoff=cutoff):
            facts[shop_id].open_complaints = count
    return facts


@prepared
def _open_complaints(dialect):
    return (select(Complaint.shop_id, func.count())
            .where(id_in(Complaint.shop_id, ids_param(), dialect), Complaint.status.in_(STILL_OPEN),
                   Complaint.created_at < bindparam("cutoff", type_=Complaint.created_at.type))
            .group_by(Complaint.shop_id))


def facts_bulk(shop_ids, as_of):
    """``shop_ids``: a list of ids or a ``select`` of shop ids.  One query per kind of record."""
    cutoff, moment = as_of_bounds(as_of)
    shops = db.session.execute(select(Shop.id, Shop.registered_on, Shop.cooking_heads, Shop.purifier_installed,
                                      Shop.purifier_rated_efficiency, Shop.district_code)
                               .where(_ids(Shop.id, shop_ids))).all()
    facts = {shop.id: Facts(shop_id=shop.id, registered_on=shop.registered_on, cooking_heads=shop.cooking_heads,
                            purifier_installed=shop.purifier_installed, rated_efficiency=shop.purifier_rated_efficiency,
                            district_code=shop.district_code) for shop in shops}
    if not facts:
        return facts
    add_waste(facts, as_of)
    add_complaints(facts, as_of)

    latest_change = (select(ShopStatusChange.shop_id, func.max(ShopStatusChange.id).label("last_id"))
                     .where(_ids(ShopStatusChange.shop_id, shop_ids), ShopStatusChange.effective_on <= as_of,
                            ShopStatusChange.changed_at < cutoff)
                     .group_by(ShopStatusChange.shop_id).subquery())
    for shop_id, status in db.session.execute(select(ShopStatusChange.shop_id, ShopStatusChange.status)
                                              .join(latest_change, ShopStatusChange.id == latest_change.c.last_id)):
        facts[shop_id].status = status

    for shop_id, last in db.session.execute(
            select(Cleaning.shop_id, func.max(Cleaning.cleaned_on))
            .where(_ids(Cleaning.shop_id, shop_ids), current(Cleaning, cutoff), Cleaning.cleaned_on <= as_of)
            .group_by(Cleaning.shop_id)):
        facts[shop_id].last_cleaned_on = last

    answered = and_(Handover.answered_at.is_not(None), Handover.answered_at < cutoff)
    counting = or_(counting_slip(answered),
                   and_(~answered, Handover.handed_over_at >= moment - pending_window()))

    def last_slips(ids, since=None):
        statement = (select(Handover.shop_id, func.max(Handover.handed_over_at))
                     .where(_ids(Handover.shop_id, ids), current(Handover, cutoff),
                            Handover.handed_over_at <= moment, counting).group_by(Handover.shop_id))
        if since is not None:
            statement = statement.where(Handover.handed_over_at > since)
        for shop_id, last in db.session.execute(statement):
            facts[shop_id].last_handover_at = last

    # Most shops hand over every few days: read the last weeks' slips (an index range per shop) and
    # go back further only for the shops that had none.
    last_slips(shop_ids, since=moment - RECENT_SLIPS)
    missing = [shop_id for shop_id, f in facts.items() if f.last_handover_at is None]
    if missing:
        last_slips(missing)

    valid = and_(Contract.valid_from <= as_of, Contract.valid_until >= as_of,
                 CollectorCompany.licence_valid_until >= as_of)
    for shop_id, valid_count in db.session.execute(
            select(Contract.shop_id, func.sum(case((valid, 1), else_=0)))
            .join(CollectorCompany, CollectorCompany.id == Contract.collector_company_id)
            .where(_ids(Contract.shop_id, shop_ids), Contract.recorded_at < cutoff)
            .group_by(Contract.shop_id)):
        facts[shop_id].any_contract, facts[shop_id].valid_contract = True, bool(valid_count)

    live = live_inspection(cutoff, moment)
    for shop_id, last in db.session.execute(
            select(Inspection.shop_id, func.max(Inspection.inspected_at))
            .where(_ids(Inspection.shop_id, shop_ids), live).group_by(Inspection.shop_id)):
        facts[shop_id].last_inspected_at = last

    for shop_id, code, times in db.session.execute(
            select(Inspection.shop_id, InspectionItem.code, func.count(func.distinct(Inspection.id)))
            .join(InspectionItem, InspectionItem.inspection_id == Inspection.id)
            .where(_ids(Inspection.shop_id, shop_ids), live, Inspection.inspected_at > moment - YEAR,
                   FAILED_ITEM)
            .group_by(Inspection.shop_id, InspectionItem.code)):
        facts[shop_id].failures[code] = times

    # Orders of these shops whose inspection stands, then their events up to the cutoff (two queries).
    orders = dict(db.session.execute(
        select(Rectification.id, Rectification.shop_id).join(Inspection, Inspection.id == Rectification.inspection_id)
        .where(_ids(Rectification.shop_id, shop_ids), Rectification.created_at < cutoff, live)).all())
    state = {}  # order id → [last action, last deadline]
    order_ids = list(orders)
    for start in range(0, len(order_ids), 5000):
        for order_id, action, deadline in db.session.execute(
                select(RectificationEvent.rectification_id, RectificationEvent.action, RectificationEvent.deadline)
                .where(RectificationEvent.rectification_id.in_(order_ids[start:start + 5000]),
                       RectificationEvent.at < cutoff)
                .order_by(RectificationEvent.id)):
            last = state.setdefault(order_id, [None, None])
            last[0] = action
            if deadline is not None:
                last[1] = deadline
    for order_id, (action, deadline) in state.items():
        shop = facts[orders[order_id]]
        shop.open_orders += action != "accepted"
        shop.overdue_orders += order_overdue(order_status_after(action), deadline, as_of)
    return facts
