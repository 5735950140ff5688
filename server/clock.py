"""The one clock.  Every "now" in the code comes from :func:`utcnow`, so tests can freeze it.

Times are stored in UTC.  Business days (due dates, "today", date filters) are
Asia/Shanghai days: China has had no daylight saving since 1991, so a fixed +08:00
offset is exact for every date this system will see.
"""
import datetime as dt

UTC = dt.timezone.utc
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
# How far ahead of ours a client's clock may run: an event time up to this far in the future is
# accepted as "now" (handovers, inspections).
CLOCK_SLACK = dt.timedelta(minutes=5)

_frozen = None


def utcnow():
    """The current time, timezone-aware, in UTC (or the frozen time in tests)."""
    return _frozen if _frozen is not None else dt.datetime.now(UTC)


def freeze(at):
    """Stop the clock at ``at`` (an aware datetime); ``freeze(None)`` lets it run again."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(UTC) if at is not None else None


def to_shanghai(moment):
    """An aware datetime shown in Asia/Shanghai (+08:00)."""
    return moment.astimezone(SHANGHAI)


def business_date(moment=None):
    """The Asia/Shanghai calendar date of ``moment`` (default: now)."""
    return to_shanghai(moment or utcnow()).date()


def today():
    """Today's business date (Asia/Shanghai)."""
    return business_date()


def start_of_day(day):
    """The UTC instant at which the Shanghai business day ``day`` begins."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI).astimezone(UTC)


def end_of_day(day):
    """The UTC instant at which the Shanghai business day ``day`` ends (exclusive)."""
    return start_of_day(day + dt.timedelta(days=1))
