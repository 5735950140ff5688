import marshmallow as ma

from server.schemas.base import DateRangeArgs, Day


class PeriodSchema(DateRangeArgs):
    """``from`` defaults to the first day of the quarter of ``to``, ``to`` to today."""


class KgSchema(ma.Schema):
    kitchen_waste = ma.fields.Float(required=True)
    waste_oil = ma.fields.Float(required=True)


class DistrictStatsSchema(ma.Schema):
    district_code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    shops = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True,
                           metadata={"description": "active, unclaimed (active shops not yet claimed)"})
    grades = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    overdue = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True,
                             metadata={"description": "shops overdue on purifier, waste, rectification at `to`"})
    inspections = ma.fields.Integer(required=True)
    rectifications = ma.fields.Dict(required=True, metadata={
        "description": "issued in the period, closed by `to`, closure_rate, mean_days_to_close"})
    waste_kg = ma.fields.Nested(KgSchema, required=True)
    hotline = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True, metadata={
        "description": "12345 tickets received in the period: received, closed_on_time, closed_late, yellow and "
                       "red (open ones at `to`), sent_back (回退), redo (重办 count)"})
    complaints = ma.fields.Dict(required=True, metadata={
        "description": "citizens' complaints filed in the period: received, by_category, linked (to a shop), "
                       "duplicates, median_hours_to_triage"})


class DistrictStatsPageSchema(ma.Schema):
    from_ = Day(data_key="from", required=True)
    to = Day(required=True)
    items = ma.fields.List(ma.fields.Nested(DistrictStatsSchema), required=True)


class CollectorStatsSchema(ma.Schema):
    collector_company_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    slips = ma.fields.Integer(required=True)
    waste_kg = ma.fields.Nested(KgSchema, required=True, metadata={"description": "confirmed and disputed slips"})
    disputed = ma.fields.Integer(required=True)
    rejected = ma.fields.Integer(required=True)
    pending = ma.fields.Integer(required=True)


class CollectorStatsPageSchema(ma.Schema):
    from_ = Day(data_key="from", required=True)
    to = Day(required=True)
    items = ma.fields.List(ma.fields.Nested(CollectorStatsSchema), required=True)
