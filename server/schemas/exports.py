import marshmallow as ma

from server.schemas.base import DateRangeArgs, Day, StrictSchema
from server.schemas.shops import ComplianceFilters, ShopFilters


class ExportQuerySchema(DateRangeArgs, ComplianceFilters):
    district_code = ma.fields.String(validate=ma.validate.Length(max=16))
    as_of = Day()


class GeoJSONQuerySchema(StrictSchema, ShopFilters):
    pass
