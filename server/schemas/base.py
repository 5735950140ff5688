"""Schema conventions: unknown fields are refused, times carry an offset."""
import datetime as dt
import functools

import marshmallow as ma

from server.clock import to_shanghai, today

FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
# The longest period one list, export or statistics request may cover (a year and a day).
MAX_RANGE_DAYS = 366


class StrictSchema(ma.Schema):
    """Refuses unknown fields, so a typo never silently drops data."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class ShanghaiDateTime(ma.fields.AwareDateTime):
    """ISO 8601 with offset in and out; shown in Asia/Shanghai (+08:00).  Like a :class:`Day`, a
    time read in lies in 2000–2099 (Asia/Shanghai): year 1 is a typo, and arithmetic on it overflows."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            day = to_shanghai(moment).date()
        except OverflowError:
            day = None
        if day is None or not FIRST_DAY <= day <= LAST_DAY:
            raise ma.ValidationError(f"时间应在 {FIRST_DAY} 到 {LAST_DAY} 之间")
        return moment

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return to_shanghai(value).isoformat()


class Day(ma.fields.Date):
    """A calendar day (YYYY-MM-DD) between 2000 and 2099: year 1 or 9999 is a typo, and date
    arithmetic on it (due dates, windows) would overflow."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", ma.validate.Range(
            min=FIRST_DAY, max=LAST_DAY, error=f"日期应在 {FIRST_DAY} 到 {LAST_DAY} 之间"))
        super().__init__(**kwargs)


class DateRangeArgs(StrictSchema):
    """``from``/``to`` (both inclusive) of a list, export or statistics, at most a year apart."""

    from_ = Day(data_key="from")
    to = Day()

    @ma.validates_schema
    def _bounded(self, data, **_kwargs):
        start, end = data.get("from_"), data.get("to")
        if start is None:
            return
        end = end or today()
        if end < start:
            raise ma.ValidationError("结束日期不能早于开始日期", "to")
        if (end - start).days >= MAX_RANGE_DAYS:
            raise ma.ValidationError(f"日期范围不能超过 {MAX_RANGE_DAYS} 天，请分段查询或导出", "from")


@functools.cache
def _derived_class(field_class):
    class Derived(field_class):
        def __init__(self, getter, **kwargs):
            super().__init__(**kwargs)
            self.getter = getter

        def get_value(self, obj, attr, accessor=None, default=ma.missing):
            return self.getter(obj)

    Derived.__name__ = "Derived" + field_class.__name__
    return Derived


def derived(field_class, getter, **kwargs):
    """An output field whose value is ``getter(obj)``, documented as a ``field_class`` (the
    OpenAPI document keeps its type, which ``fields.Method`` would lose)."""
    return _derived_class(field_class)(getter, **kwargs)
