"""The compliance engine (分类+精准): statuses, grade, reasons and priority of a shop on a date.

The front door: callers import this package and nothing inside it.  Nothing stores a status.
:func:`compliance_of` derives it for one shop from its records; :func:`compliance_bulk` and
:func:`graded` for many shops at once, from the stored summary (``shop_facts``) where it can
answer for today and from the records by set-based SQL otherwise.  Every path feeds one rule
set (``rules.evaluate``), so the rules live in one module that imports no database code.

    rules         Facts, evaluate, grade_all, "overdue", settings, constants (no database code)
    standing      what lists filter and rank by (grade, statuses, flags, priority), and ``matches``
    from_records  the facts from the records: per shop (Python) and in bulk (SQL)
    stored        the facts from ``shop_facts``
    summary       a shop's ``shop_facts`` row from its records, whole or by the change a write made
    sync          keeping ``shop_facts`` in step with the records (a commit step)
    peers         the peer medians of kitchen waste behind the ``waste_low`` flag

The plausibility figure (kitchen waste of the last 30 days) slides with the date: ``shop_facts``
keeps the window's slips themselves (``recent_waste``) and the reader sums those in the window; the
peers' medians come from one city-wide aggregate over the slips (:mod:`peers`).

"As of" a date D: only records received by the end of D count (backdating cannot rewrite the
past), a correction counts from when it was made, answers (confirm/reject/void/review) count
from when they were given, voided inspections count for nothing, and a shop that is not active
on D (suspended/closed from an effective date, or not yet registered) is left out (grade null).
"""
from server.clock import today
from server.extensions import db
from server.services.compliance.from_records import facts_one
from server.services.compliance.peers import peers_for
from server.services.compliance.rules import (COUNTING_SLIP_STATUSES, FILTERS, FLAGS, MIN_EFFICIENCY, SCALE_NAMES,
                                              case_overdue, grade_all, order_overdue, scale_of)
from server.services.compliance.standing import Standing, Standings, matcher, matches, standing_of
from server.services.compliance.stored import SHOP_COLUMNS, facts_for, facts_of_rows, with_facts
from server.services.compliance.sync import (BY_SHOP, check_all, forget, mark_stale, note_changes,
                                             refresh_all, refresh_stale)

__all__ = ["COUNTING_SLIP_STATUSES", "FILTERS", "FLAGS", "MIN_EFFICIENCY", "SCALE_NAMES", "SHOP_COLUMNS",
           "BY_SHOP", "case_overdue", "check_all", "compliance_bulk", "compliance_of", "forget", "graded",
           "mark_stale", "matches", "note_changes", "order_overdue", "refresh_all", "refresh_stale",
           "scale_of", "Standing", "Standings", "matcher", "standing_of"]

CHUNK = 2000


def compliance_of(shop, as_of=None):
    """One shop, from its records (the per-shop form)."""
    as_of = as_of or today()
    facts = {shop.id: facts_one(shop, as_of)}
    return grade_all(facts, as_of, peers_for(facts, as_of))[shop.id]


def compliance_bulk(shop_ids, as_of=None):
    """Many shops at once: ``{shop_id: compliance}``.  ``shop_ids``: a list of ids or a ``select``
    of shop ids.  Today's facts come from ``shop_facts`` where it can answer, any other date's
    from the records."""
    as_of = as_of or today()
    facts = facts_for(shop_ids, as_of)
    return grade_all(facts, as_of, peers_for(facts, as_of))


def graded(statement, as_of=None, *, wanted=None):
    """``(row, compliance)`` for each row of ``statement`` — a ``select`` whose first columns are
    :data:`SHOP_COLUMNS`, followed by any columns the caller wants — read in chunks from the same
    query that found the shops (their stored facts joined), so a whole city streams in flat
    memory.  ``wanted``: only rows whose compliance :func:`matches` these filter values."""
    as_of = as_of or today()
    # On the Core connection: plain rows, without the ORM result layer (a third of the fetch time).
    result = db.session.connection().execute(with_facts(statement).execution_options(yield_per=CHUNK))
    for chunk in result.partitions():
        facts = facts_of_rows(chunk, as_of)
        grades = grade_all(facts, as_of, peers_for(facts, as_of))
        for row in chunk:
            compliance = grades[row[0]]
            if not wanted or matches(compliance, wanted):
                yield row, compliance
