"""Working days (工作日) for hotline deadlines: China's statutory holidays (法定节假日) and make-up
working days (调休) from the maintained ``chinese-calendar`` package, overridden by days an admin
entered (``workday_overrides``: ``flask --app wsgi workdays set``).

For a year the package does not know yet (it learns each year's arrangement when the State Council
publishes it, usually in November or December), Monday to Friday count as working days, a warning
is logged, and the answer says so — the caller stores the deadline with a note, so a later calendar
update never moves an existing deadline silently.
"""
import datetime as dt
import logging

import chinese_calendar
from sqlalchemy import select

from server.extensions import db
from server.models.workday import WorkdayOverride

log = logging.getLogger(__name__)

UNKNOWN_YEAR_NOTE = "{years} 年的法定节假日安排尚未收录，按周一至周五计算工作日"


def _overrides(first, last):
    return dict(db.session.execute(select(WorkdayOverride.day, WorkdayOverride.working)
                                   .where(WorkdayOverride.day.between(first, last))).all())


def _working(day, overrides, unknown):
    if day in overrides:
        return overrides[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        unknown.add(day.year)
        return day.weekday() < 5


def add(start, days):
    """The ``days``-th working day after ``start`` (``start`` itself not counted), and a note naming the
    years the calendar did not know (None when it knew them all)."""
    overrides = _overrides(start, start + dt.timedelta(days=days * 3 + 30))
    unknown, day, counted = set(), start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if _working(day, overrides, unknown):
            counted += 1
    return day, _note(unknown)


def between(start, end):
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` ≤ ``start``), and the note."""
    if end <= start:
        return 0, None
    overrides = _overrides(start, end)
    unknown = set()
    count = sum(1 for n in range(1, (end - start).days + 1)
                if _working(start + dt.timedelta(days=n), overrides, unknown))
    return count, _note(unknown)


def _note(unknown):
    if not unknown:
        return None
    years = "、".join(str(year) for year in sorted(unknown))
    log.warning("working days: the calendar does not know %s yet; counting Monday to Friday", years)
    return UNKNOWN_YEAR_NOTE.format(years=years)
