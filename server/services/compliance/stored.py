"""Reading the engine's facts from ``shop_facts`` (the stored summary that ``sync`` keeps in step).

A row holds what the records say *now*, without the date-dependent rules: those (the 48-hour
pending window, the 12-month failure window, contract and licence validity, overdue deadlines,
future status changes) are applied on reading by :class:`Reader`, which answers for today
only (:func:`facts_for`).  A row that cannot answer exactly — missing, stale in this very
transaction, or holding a time later than "now" (a record dated a few minutes ahead within the
clock slack, or a clock set back) — is left to the records (:func:`from_records.facts_bulk`).
"""
import datetime as dt
import json

from sqlalchemy import select

from server.clock import start_of_day, today
from server.database import id_in, ids_param, prepared
from server.extensions import db
from server.models.collector import CollectorCompany
from server.models.shop import Shop
from server.models.shop_facts import ShopFacts
from server.services.compliance.from_records import YEAR, add_complaints, add_waste, facts_bulk
from server.services.compliance.rules import (Facts, as_of_bounds, current_settings, order_overdue, pending_window,
                                              slip_kg, waste_window)

# Session-info key: the shops whose records changed in this transaction (``sync`` marks them,
# and rewrites their rows just before the commit; until then they are read from the records).
STALE = "shop_facts_stale"


def utc_text(moment):
    """A time as text that sorts as the time does (fixed width, UTC)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


# --- reading ----------------------------------------------------------------------------------

FACT_COLUMNS = (ShopFacts.last_cleaned_on, ShopFacts.last_counted_slip_at, ShopFacts.last_pending_slip_at,
                ShopFacts.last_inspected_at, ShopFacts.lists, ShopFacts.valid_from, ShopFacts.recent_waste)
SHOP_COLUMNS = (Shop.id, Shop.registered_on, Shop.cooking_heads, Shop.purifier_installed,
                Shop.purifier_rated_efficiency, Shop.district_code)


def facts_for(shop_ids, as_of):
    """The engine's facts of these shops on ``as_of``: ``{shop_id: Facts}``.  ``shop_ids``: a list
    of ids or a ``select`` of shop ids."""
    if as_of != today():
        return facts_bulk(shop_ids, as_of)
    return facts_of_rows(stored_rows(shop_ids), as_of)


def stored_rows(shop_ids):
    if isinstance(shop_ids, list):
        return _stored_rows(db.session, ids=shop_ids).all()
    return db.session.execute(with_facts(select(*SHOP_COLUMNS).where(Shop.id.in_(shop_ids)))).all()


@prepared
def _stored_rows(dialect):
    return with_facts(select(*SHOP_COLUMNS).where(id_in(Shop.id, ids_param(), dialect)))


@prepared
def _licences(_dialect):
    return select(CollectorCompany.id, CollectorCompany.licence_valid_until)


def with_facts(statement):
    """``statement`` (a select starting with :data:`SHOP_COLUMNS`) with the stored facts joined."""
    return statement.add_columns(*FACT_COLUMNS).outerjoin(ShopFacts, ShopFacts.shop_id == Shop.id)


def facts_of_rows(rows, as_of):
    """``{shop_id: Facts}`` for rows of :func:`with_facts`: from the stored facts today where they
    can answer, from the records otherwise."""
    if as_of != today():
        return facts_bulk([row[0] for row in rows], as_of)
    reader = Reader(as_of)
    facts = {row[0]: reader.facts(row) for row in rows}
    missing = [shop_id for shop_id, found in facts.items() if found is None]
    add_complaints(facts, as_of, [shop_id for shop_id, found in facts.items() if found is not None])
    if missing:
        facts.update(facts_bulk(missing, as_of))
    if reader.waste_unknown:  # rows from before recent_waste: the window's slips from the records
        add_waste(facts, as_of, reader.waste_unknown)
    return facts


def read(rows, as_of):
    """``{shop_id: Facts or None}`` from the stored rows alone (``waste_kg`` None where the row does
    not hold the window's slips)."""
    reader = Reader(as_of)
    return {row[0]: reader.facts(row) for row in rows}


class Reader:
    """Turns stored rows into :class:`Facts` for today; ``None`` where the row cannot answer."""

    def __init__(self, as_of):
        self.as_of, self.moment = as_of, as_of_bounds(as_of)[1]
        self.as_of_text = as_of.isoformat()
        self.pending_since = self.moment - pending_window()
        self.failures_since = utc_text(self.moment - YEAR)
        # Shops whose records changed in this (uncommitted) transaction: their rows are not rewritten yet.
        self.stale = db.session.info.get(STALE, ())
        self.licences = {company_id: until.isoformat() if until else "" for company_id, until in _licences(db.session)}
        self.waste_since = utc_text(start_of_day(waste_window(as_of)))
        self.moment_text = utc_text(self.moment)
        self.kg_per_bin = current_settings()["kg_per_bin"]
        self.waste_unknown = []  # shops whose row predates recent_waste

    def facts(self, row):
        """``row``: from :func:`with_facts` (the fact columns are None where no row is stored)."""
        shop_id, registered_on, heads, installed, efficiency, district = row[:6]
        cleaned, counted, pending, inspected, lists, valid_from, recent_waste = row[-7:]
        if valid_from is None or valid_from > self.moment or shop_id in self.stale or (
                cleaned is not None and cleaned > self.as_of):
            return None
        facts = Facts(shop_id=shop_id, registered_on=registered_on, cooking_heads=heads, purifier_installed=installed,
                      rated_efficiency=efficiency, last_cleaned_on=cleaned, last_inspected_at=inspected,
                      district_code=district)
        if recent_waste is None:
            self.waste_unknown.append(shop_id)
        elif recent_waste != "[]":
            # Each stored slip: [handed over, weighed or declared kg, bins] (see summary.summarise).
            quantities = [slip_kg(kg, None, bins, self.kg_per_bin)
                          for at, kg, bins in json.loads(recent_waste) if self.waste_since <= at <= self.moment_text]
            if quantities:
                facts.waste_kg = round(sum(quantities), 2)
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
                facts.overdue_orders += order_overdue("open" if open_action else "submitted", deadline, as_of)
            failed = {}
            for code, inspection_id, at in lists["failures"]:
                if at > self.failures_since:
                    failed.setdefault(code, set()).add(inspection_id)
            facts.failures = {code: len(ids) for code, ids in failed.items()}
        return facts
