import marshmallow as ma

from server.clock import today
from server.schemas.base import Day, StrictSchema, derived
from server.validators import Name, Uscc, single_line


class CollectorCompanySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True)
    uscc = ma.fields.String(required=True)
    licence_no = ma.fields.String(required=True)
    licence_valid_until = Day(required=True)
    districts = ma.fields.List(ma.fields.String(), required=True)
    licence_valid = derived(ma.fields.Boolean, lambda company: company.licence_valid_on(today()), required=True,
                            metadata={"description": "licence valid today"})


class CollectorCompanyInSchema(StrictSchema):
    name = Name(100, required=True)
    uscc = Uscc(required=True, metadata={"description": "统一社会信用代码"})
    licence_no = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=64), single_line])
    licence_valid_until = Day(required=True)
    districts = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=16)), required=True,
                               validate=ma.validate.Length(min=1, max=32))


class CollectorCompanyPatchSchema(CollectorCompanyInSchema):
    """Any subset of the fields (used with ``partial=True``)."""
