"""Keeping ``waste_tallies`` equal to the slips in force.

Every flush that adds, changes or deletes a slip notes what the slip counted for before and after
(:func:`note_changes`, after_flush, while the attributes' history still holds the old values).
Just before the commit the differences are added to the rows by upserts that add to what is
stored (:func:`apply`, a commit step), so two transactions adding slips to the same day never
lose each other's.  A shop moved to another district takes its totals along.  Writes that bypass
the ORM call :func:`subtract` (retention) or :func:`rebuild` (bulk loads); :func:`check` compares
every row with the slips.
"""
import datetime as dt
from collections import defaultdict

from sqlalchemy import BigInteger, cast, delete, func, insert, inspect, select

from server.clock import business_date
from server.database import business_day, id_in, ids_param, in_ids, prepared, upsert
from server.models.records import Handover
from server.models.shop import Shop
from server.models.tallies import WasteTally

DELTAS, MOVES = "waste_tally_deltas", "waste_tally_moves"
KEY = ("day", "collector_company_id", "waste_type", "status")
TALLIED = ("shop_id", "handed_over_at", "collector_company_id", "waste_type", "status", "settled_kg", "weighed_kg",
           "declared_kg", "superseded_by_id")


def _centi(slip):
    kg = next((slip[name] for name in ("settled_kg", "weighed_kg", "declared_kg") if slip[name] is not None), 0)
    return round(float(kg or 0) * 100)


def _state(obj, before):
    """The tallied attributes of a slip as the database had them (``before``) or as flushed now."""
    attrs, values = inspect(obj).attrs, {}
    for name in TALLIED:
        history = attrs[name].history
        held = (history.deleted or history.unchanged) if before else (history.added or history.unchanged)
        values[name] = held[0] if held else getattr(obj, name)
    return values


def _count(deltas, slip, sign):
    if slip["superseded_by_id"] is not None:
        return
    key = (slip["shop_id"], business_date(slip["handed_over_at"]), slip["collector_company_id"],
           slip["waste_type"], slip["status"])
    _add(deltas, key, sign, sign * _centi(slip))


def note_changes(session, _context):
    """(after_flush) What this flush's slips counted for before, subtracted; what they count for now, added."""
    deltas = session.info.setdefault(DELTAS, defaultdict(lambda: [0, 0]))
    with session.no_autoflush:
        for obj in session.new:
            if isinstance(obj, Handover):
                _count(deltas, _state(obj, before=False), +1)
        for obj in session.dirty:
            if isinstance(obj, Handover) and session.is_modified(obj):
                _count(deltas, _state(obj, before=True), -1)
                _count(deltas, _state(obj, before=False), +1)
            elif isinstance(obj, Shop):
                moved = inspect(obj).attrs.district_code.history
                if moved.deleted and moved.added:
                    session.info.setdefault(MOVES, {}).setdefault(obj.id, moved.deleted[0])
        for obj in session.deleted:
            if isinstance(obj, Handover):
                _count(deltas, _state(obj, before=True), -1)


def forget(session, transaction):
    """(after_transaction_end) Differences not applied end with their transaction."""
    if transaction.parent is None:
        session.info.pop(DELTAS, None)
        session.info.pop(MOVES, None)


def apply(session):
    """(a commit step, after the shops' facts are refreshed — on PostgreSQL that locked the shops,
    so their district is read as the last committed move left it)."""
    session.flush()
    deltas, moves = session.info.pop(DELTAS, None) or {}, session.info.pop(MOVES, None) or {}
    if not any(counts != [0, 0] for counts in deltas.values()) and not moves:
        return
    shop_ids = sorted({key[0] for key in deltas} | set(moves))
    district = dict(_districts(session, ids=shop_ids).all())
    totals = defaultdict(lambda: [0, 0])
    for (shop_id, *key), (slips, centi) in deltas.items():
        if moves.get(shop_id, district[shop_id]) == district[shop_id]:
            _add(totals, (district[shop_id], *key), slips, centi)
    for shop_id, was in moves.items():
        if was == district[shop_id]:
            continue
        # The shop's slips now (this transaction's changes included) go to its new district; what
        # they were before this transaction leaves the old one.
        now = {tuple(key): counts for *key, counts in _grouped(session, Handover.shop_id == shop_id, by_district=False)}
        mine = {tuple(key): counts for (shop, *key), counts in deltas.items() if shop == shop_id}
        for key in now.keys() | mine.keys():
            (slips, centi), (own_slips, own_centi) = now.get(key, (0, 0)), mine.get(key, (0, 0))
            _add(totals, (district[shop_id], *key), slips, centi)
            _add(totals, (was, *key), own_slips - slips, own_centi - centi)
    _store(session, totals)


def _add(totals, key, slips, centi):
    counts = totals[key]
    counts[0] += slips
    counts[1] += centi


def _store(session, totals):
    rows = [{"district_code": key[0], **dict(zip(KEY, key[1:])), "slips": slips, "centi_kg": centi}
            for key, (slips, centi) in sorted(totals.items()) if slips or centi]  # one order: no deadlock
    if rows:
        _add_to_tallies(session, rows=rows)


@prepared
def _districts(dialect):
    return select(Shop.id, Shop.district_code).where(id_in(Shop.id, ids_param(), dialect))


@prepared
def _add_to_tallies(dialect):
    statement = upsert(WasteTally.__table__, dialect)
    return statement.on_conflict_do_update(
        index_elements=["district_code", *KEY],
        set_={"slips": WasteTally.slips + statement.excluded.slips,
              "centi_kg": WasteTally.centi_kg + statement.excluded.centi_kg})


def _grouped(session, *where, by_district=True):
    """``[(district?, day, company, waste type, status, [slips, centi_kg])]`` of the slips in force."""
    day = business_day(Handover.handed_over_at, session)
    keys = [Shop.district_code] if by_district else []
    keys += [day, Handover.collector_company_id, Handover.waste_type, Handover.status]
    counted = func.coalesce(Handover.settled_kg, Handover.weighed_kg, Handover.declared_kg, 0)
    centi = func.sum(cast(func.round(counted * 100), BigInteger))
    statement = (select(*keys, func.count(Handover.id), centi).join(Shop, Shop.id == Handover.shop_id)
                 .where(Handover.superseded_by_id.is_(None), *where).group_by(*keys))
    grouped = []
    for *district, day, company, waste_type, status, slips, centi in session.execute(statement):
        grouped.append((*district, _day(day), company, waste_type, status, [slips, int(centi or 0)]))
    return grouped


def _day(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def subtract(session, slip_ids):
    """These slips are about to be deleted past the ORM (retention): take them out of the totals."""
    totals = defaultdict(lambda: [0, 0])
    for *key, (slips, centi) in _grouped(session, in_ids(Handover.id, list(slip_ids), session)):
        _add(totals, tuple(key), -slips, -centi)
    _store(session, totals)


def rebuild(session):
    """Every row again from the slips (after a bulk load); in the caller's transaction."""
    session.execute(delete(WasteTally))
    rows = [{"district_code": district, **dict(zip(KEY, key)), "slips": slips, "centi_kg": centi}
            for district, *key, (slips, centi) in _grouped(session)]
    for start in range(0, len(rows), 5000):
        session.execute(insert(WasteTally), rows[start:start + 5000])
    return len(rows)


def check(session):
    """``(rows, differing keys)``: the stored totals against the slips."""
    made = {tuple(key): tuple(counts) for *key, counts in _grouped(session)}
    stored = {(r.district_code, r.day, r.collector_company_id, r.waste_type, r.status): (r.slips, r.centi_kg)
              for r in session.scalars(select(WasteTally)) if r.slips or r.centi_kg}
    return len(made), sorted(key for key in made.keys() | stored.keys() if made.get(key) != stored.get(key))
