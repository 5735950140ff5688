"""One clock, in UTC; business days are Asia/Shanghai days."""
import datetime as dt

import pytest

from server import clock

UTC = dt.timezone.utc


def test_utcnow_is_aware_utc():
    now = clock.utcnow()
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(0)


def test_frozen_clock_stops_and_advances(frozen_clock):
    assert clock.utcnow() == dt.datetime(2024, 3, 22, 1, 30, tzinfo=UTC)
    frozen_clock.advance(dt.timedelta(days=1))
    assert clock.utcnow() == dt.datetime(2024, 3, 23, 1, 30, tzinfo=UTC)


def test_business_date_is_the_shanghai_date(frozen_clock):
    frozen_clock.set(dt.datetime(2024, 3, 21, 16, 30, tzinfo=UTC))  # 00:30 on the 22nd in Jining
    assert clock.today() == dt.date(2024, 3, 22)
    assert clock.business_date(dt.datetime(2024, 3, 21, 15, 59, tzinfo=UTC)) == dt.date(2024, 3, 21)


def test_business_day_bounds_in_utc():
    assert clock.start_of_day(dt.date(2024, 3, 22)) == dt.datetime(2024, 3, 21, 16, 0, tzinfo=UTC)
    assert clock.end_of_day(dt.date(2024, 3, 22)) == dt.datetime(2024, 3, 22, 16, 0, tzinfo=UTC)
    assert clock.to_shanghai(dt.datetime(2024, 3, 22, 1, 30, tzinfo=UTC)).isoformat() == \
        "2024-03-22T09:30:00+08:00"


def test_freeze_refuses_naive_times():
    with pytest.raises(ValueError):
        clock.freeze(dt.datetime(2024, 1, 1))
