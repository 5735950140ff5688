"""Collection contracts (收运合同) of a shop."""
import marshmallow as ma

from server.schemas.base import Day, StrictSchema, derived
from server.schemas.photos import attached
from server.validators import MAX_ID, single_line


class ContractInSchema(StrictSchema):
    collector_company_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    contract_no = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=64), single_line])
    valid_from = Day(required=True)
    valid_until = Day(required=True)
    photo_ids = ma.fields.List(ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID)), required=True,
                               validate=ma.validate.Length(min=1, max=10))

    @ma.validates_schema
    def period(self, data, **_kwargs):
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            raise ma.ValidationError("合同截止日期不能早于起始日期", "valid_until")


class ContractSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    shop_id = ma.fields.Integer(required=True)
    collector_company_id = ma.fields.Integer(required=True)
    contract_no = ma.fields.String(required=True)
    valid_from = Day(required=True)
    valid_until = Day(required=True)
    photo_ids = derived(ma.fields.List, lambda contract: [photo.id for photo in attached("contract", contract.id,
                                                                                         "contract")],
                        cls_or_instance=ma.fields.Integer(), required=True)
