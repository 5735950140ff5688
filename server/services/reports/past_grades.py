"""Grade tallies per district as of a past day, graded once and kept (``grade_snapshots``).

The compliance engine judges a past day by what was known at its end, so the answer for it only
changes when something outside the dated records changes: a shop's own row (new, its scale,
registration, district, claim...), a working-day override, or records deleted by retention.  Those
writes mark the district (or everything) changed at commit (:func:`note_changes`, :func:`mark`);
a snapshot is used only when it was made after the district's last mark, else graded again.
"""
import datetime as dt
import json
from itertools import chain

from sqlalchemy import inspect, select

from server.clock import today, utcnow
from server.database import bookkeeping, upsert
from server.extensions import db
from server.models.counter import Counter
from server.models.grade_snapshot import GradeSnapshot
from server.models.shop import Shop
from server.models.workday import WorkdayOverride

CHANGED, EVERYTHING, MARKS = "grades-changed:", "*", "past_grade_marks"
# A write flushed (and marked) just before a snapshot's read began may commit after it.
MARGIN = dt.timedelta(seconds=30)


def note_changes(session, _context):
    """(after_flush) The districts whose past grades this flush may change."""
    marks = set()
    with session.no_autoflush:
        for obj in chain(session.new, session.dirty, session.deleted):
            if isinstance(obj, Shop) and (obj in session.new or obj in session.deleted or session.is_modified(obj)):
                marks.update(inspect(obj).attrs.district_code.history.deleted)  # the district it left, if it moved
                marks.add(obj.district_code)
            elif isinstance(obj, WorkdayOverride):
                marks.add(EVERYTHING)
    if marks:
        session.info.setdefault(MARKS, set()).update(marks)


def mark_everything(session):
    """Writes past the ORM that may change any past day (retention)."""
    session.info.setdefault(MARKS, set()).add(EVERYTHING)


def mark(session):
    """(a commit step) Stamp the marked districts with now."""
    marks = session.info.pop(MARKS, None)
    if not marks:
        return
    now = int(utcnow().timestamp() * 1000)
    statement = upsert(Counter, session)
    session.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"value": now}),
                    [{"name": CHANGED + code, "value": now} for code in sorted(marks)])


def forget(session, transaction):
    if transaction.parent is None:
        session.info.pop(MARKS, None)


def tallies(codes, day, grade):
    """``{code: tally}`` for these districts on a past ``day``: kept ones still valid, the rest from
    ``grade(missing_codes)`` (which returns the same shape) and kept.  A day not yet over (a period
    asked to end in the future) is graded every time: records may still arrive for it."""
    if day >= today():
        return grade(list(codes))
    marks = dict(db.session.execute(select(Counter.name, Counter.value).where(
        Counter.name.in_([CHANGED + code for code in (*codes, EVERYTHING)]))).all())
    everything = marks.get(CHANGED + EVERYTHING, 0)
    found = {}
    for snapshot in db.session.scalars(select(GradeSnapshot).where(GradeSnapshot.day == day,
                                                                   GradeSnapshot.district_code.in_(codes))):
        if snapshot.made_at.timestamp() * 1000 > max(everything, marks.get(CHANGED + snapshot.district_code, 0)):
            found[snapshot.district_code] = json.loads(snapshot.tally)
    missing = [code for code in codes if code not in found]
    if missing:
        started = utcnow() - MARGIN
        made = grade(missing)
        statement = upsert(GradeSnapshot, db.session)
        with bookkeeping(db.session):  # kept even when the request that made them only reads
            db.session.execute(statement.on_conflict_do_update(
                index_elements=["district_code", "day"],
                set_={"made_at": statement.excluded.made_at, "tally": statement.excluded.tally}),
                [{"district_code": code, "day": day, "made_at": started, "tally": json.dumps(made[code])}
                 for code in missing])
            db.session.commit()
        found.update(made)
    return found
