import marshmallow as ma

from server.schemas.base import DateRangeArgs, Day


class ExportQuerySchema(DateRangeArgs):
    district_code = ma.fields.String(validate=ma.validate.Length(max=16))
    grade = ma.fields.String(validate=ma.validate.OneOf(["A", "B", "C"]))
    purifier_status = ma.fields.String(validate=ma.validate.OneOf(
        ["ok", "due_soon", "overdue", "never_cleaned", "no_purifier"]))
    waste_status = ma.fields.String(validate=ma.validate.OneOf(["ok", "overdue", "no_contract", "contract_expired"]))
    as_of = Day()
