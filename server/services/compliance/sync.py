"""Keeping ``shop_facts`` in step with the records.

Every flush that touches a shop's cleanings, slips, contracts, status changes, inspections or
rectification orders marks the shop stale (:func:`note_changes`); just before the commit the
stale shops' rows are rewritten from their records by set-based SQL, in the same transaction
(:func:`refresh_stale`, a step of :mod:`server.commit_pipeline`).  Writes that bypass the ORM
(bulk loads, retention) call :func:`mark_stale` or :func:`refresh_all` themselves.

Some changes are cheaper to bring in (see :mod:`.summary`): new unanswered slips and new cleanings
move the row by one ``UPDATE``, and so do answers to slips (after reading the row); other changes to
slips only rewrite the slip columns.  Any other change to the shop in the same transaction summarises
it whole.
"""
from itertools import chain

from sqlalchemy import inspect, select

from server.clock import today
from server.database import in_ids, upsert
from server.models.inspection import Inspection, InspectionItem, Rectification, RectificationEvent
from server.models.records import Cleaning, Handover
from server.models.shop import Contract, Shop, ShopStatusChange
from server.models.shop_facts import ShopFacts
from server.services.compliance.from_records import facts_bulk
from server.services.compliance.stored import STALE, read, stored_rows
from server.services.compliance.summary import (bring_in_answers, bring_in_new_records, resummarise_slips,
                                               summarise)

__all__ = ["BY_SHOP", "check_all", "forget", "mark_stale", "note_changes", "refresh", "refresh_all",
           "refresh_stale", "summarise"]

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
# the commit): the shops to summarise whole, the shops whose only changes are to their slips,
# {shop_id: {column: latest value..., "moment": latest time}} of the shops whose only changes are new
# records that can only raise a last-time column (see summary.bring_in_new_records), and
# {shop_id: [answer, ...]} of the shops whose only changes are answers (see summary.bring_in_answers).
WHOLE, SLIPS, NEW, ANSWERED = "shop_facts_whole", "shop_facts_slips", "shop_facts_new", "shop_facts_answered"
# What answering a slip may change (handovers.confirm / reject); a change to anything else is no answer.
ANSWER_COLUMNS = frozenset({"status", "answered_by_id", "answered_at", "weighed_kg", "declared_kg", "reject_reason"})


def mark_stale(session, shop_ids):
    """These shops' facts are rewritten from their records before the transaction commits."""
    shop_ids = [i for i in shop_ids if i is not None]
    session.info.setdefault(STALE, set()).update(shop_ids)
    session.info.setdefault(WHOLE, set()).update(shop_ids)


def _raises_a_last_time(session, obj):
    """``(column, value, moments)`` for a new first version that only moves one last-time column: an
    unanswered slip (the last pending slip) or a cleaning (the last cleaning); else None."""
    if not isinstance(obj, (Handover, Cleaning)) or obj not in session.new or obj.supersedes_id is not None \
            or obj.superseded_at is not None or obj.superseded_by_id is not None:
        return None
    if isinstance(obj, Handover) and obj.status == "pending" and obj.answered_at is None:
        return "last_pending_slip_at", obj.handed_over_at, (obj.handed_over_at, obj.received_at)
    if isinstance(obj, Cleaning):
        return "last_cleaned_on", obj.cleaned_on, (obj.received_at,)
    return None


def _answer(obj):
    """``(handed_over_at, status, waste_type, weighed_kg, declared_kg, bins, answered_at)`` when this
    flush answers a slip in force that was pending and changes nothing else of it; else None."""
    state = inspect(obj)
    if set(state.mapper.column_attrs.keys()) - state.unmodified - ANSWER_COLUMNS \
            or obj.superseded_at is not None or obj.superseded_by_id is not None \
            or state.attrs.answered_at.history.deleted != [None] or obj.answered_at is None \
            or state.attrs.status.history.deleted != ["pending"]:
        return None
    return (obj.handed_over_at, obj.status, obj.waste_type, obj.weighed_kg, obj.declared_kg, obj.bins,
            obj.answered_at)


def note_changes(session, _context):
    """(after_flush) The shops whose records this flush touched are stale."""
    with session.no_autoflush:
        touched = []
        for obj in chain(session.new, session.dirty, session.deleted):
            raised = _raises_a_last_time(session, obj)
            if raised:
                column, value, moments = raised
                found = session.info.setdefault(NEW, {}).setdefault(obj.shop_id, {})
                found[column] = max(found.get(column, value), value)
                found["moment"] = max(m for m in (found.get("moment"), *moments) if m is not None)
            elif isinstance(obj, Handover) and obj not in session.new and obj not in session.deleted \
                    and (answer := _answer(obj)):
                session.info.setdefault(ANSWERED, {}).setdefault(obj.shop_id, []).append(answer)
            elif isinstance(obj, Handover) and obj not in session.deleted:
                session.info.setdefault(SLIPS, set()).add(obj.shop_id)
            else:
                touched.append(_shop_of(session, obj))
                continue
            session.info.setdefault(STALE, set()).add(obj.shop_id)
        mark_stale(session, touched)


def refresh_stale(session):
    """(a commit step) Rewrite the stale shops' rows in the committing transaction."""
    session.flush()
    stale, whole = session.info.pop(STALE, set()), session.info.pop(WHOLE, set())
    slips, new = session.info.pop(SLIPS, set()) - whole, session.info.pop(NEW, {})
    answered = session.info.pop(ANSWERED, {})
    slips |= set(answered) & set(new)  # a new slip and an answer: the slip columns re-read
    whole |= {shop_id for shop_id in slips if "last_cleaned_on" in new.get(shop_id, {})}  # a cleaning too
    slips -= whole
    new = {shop_id: found for shop_id, found in new.items() if shop_id not in whole | slips}  # slips: re-read
    answered = {shop_id: found for shop_id, found in answered.items() if shop_id not in whole | slips}
    whole |= stale - slips - set(new) - set(answered)
    if slips or new or answered:
        _lock(session, sorted(slips | set(new) | set(answered) | whole))
        whole |= bring_in_new_records(session, new) if new else set()
        whole |= bring_in_answers(session, answered) if answered else set()
        whole |= resummarise_slips(session, slips) if slips else set()
    if whole:
        refresh(session, sorted(whole))


def forget(session, transaction):
    """(after_transaction_end) A transaction's marks end with it."""
    if transaction.parent is None:
        for key in (STALE, WHOLE, SLIPS, NEW, ANSWERED):
            session.info.pop(key, None)
    elif transaction.nested:
        # A savepoint's end keeps the outer transaction's marks; if it was rolled back, new records noted
        # in it may be gone, so their shops are summarised whole instead.
        mark_stale(session, [*session.info.pop(NEW, {}), *session.info.pop(ANSWERED, {})])


def _lock(session, shop_ids):
    """On PostgreSQL, one refresher per shop at a time, and it reads after the previous one committed:
    otherwise two transactions adding records to one shop would each summarise without the other's,
    and the later upsert would drop the earlier's record.  (SQLite writers are serialised by BEGIN
    IMMEDIATE already.)  NO KEY: records may still be inserted.  In id order, so two never deadlock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Shop.id).where(in_ids(Shop.id, shop_ids, session)).order_by(Shop.id)
                        .with_for_update(key_share=True))


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


