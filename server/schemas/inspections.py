"""Inspections, rectification orders, cases."""
import marshmallow as ma

from server.models.inspection import CASE_STATUSES, RESULTS
from server.pagination import PageArgs
from server.schemas.base import DateRangeArgs, Day, ShanghaiDateTime, StrictSchema
from server.schemas.records import PhotoRefSchema
from server.validators import MAX_ID, PhotoIds, Text


class ItemInSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=8))
    result = ma.fields.String(required=True, validate=ma.validate.OneOf(RESULTS))
    note = Text(500, allow_none=True)
    photo_ids = PhotoIds(load_default=list)


class InspectionInSchema(StrictSchema):
    inspected_at = ma.fields.AwareDateTime(required=True)
    lat = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(min=-90, max=90))
    lng = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(min=-180, max=180))
    co_inspector_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    items = ma.fields.List(ma.fields.Nested(ItemInSchema), required=True, validate=ma.validate.Length(min=1, max=50))
    note = Text(1000, allow_none=True)


class VoidSchema(StrictSchema):
    reason = Text(minimum=1, required=True, max_length=500)


class RectificationEventSchema(ma.Schema):
    action = ma.fields.String(required=True)
    actor_id = ma.fields.Integer(required=True)
    at = ShanghaiDateTime(required=True)
    note = ma.fields.String(allow_none=True)
    deadline = Day(allow_none=True)
    reinspection_id = ma.fields.Integer(allow_none=True)
    photos = ma.fields.List(ma.fields.Nested(PhotoRefSchema), required=True)


class RectificationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    shop_id = ma.fields.Integer(required=True)
    inspection_id = ma.fields.Integer(required=True)
    items = ma.fields.List(ma.fields.String(), required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["open", "submitted", "closed"]))
    overdue = ma.fields.Boolean(required=True, metadata={"description": "open past its deadline"})
    deadline = Day(required=True)
    created_at = ShanghaiDateTime(required=True)
    acknowledged_at = ShanghaiDateTime(allow_none=True)
    closed_at = ShanghaiDateTime(allow_none=True)
    events = ma.fields.List(ma.fields.Nested(RectificationEventSchema), required=True)


class InspectionItemSchema(ma.Schema):
    code = ma.fields.String(required=True)
    result = ma.fields.String(required=True)
    note = ma.fields.String(allow_none=True)
    photos = ma.fields.List(ma.fields.Nested(PhotoRefSchema), required=True)


class ReinspectionSchema(ma.Schema):
    rectification_id = ma.fields.Integer(required=True)
    items = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(allow_none=True), required=True)


class InspectionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    shop_id = ma.fields.Integer(required=True)
    inspector_id = ma.fields.Integer(required=True)
    co_inspector_id = ma.fields.Integer(allow_none=True)
    inspected_at = ShanghaiDateTime(required=True)
    received_at = ShanghaiDateTime(required=True)
    late_entry = ma.fields.Boolean(required=True)
    lat = ma.fields.Float(required=True)
    lng = ma.fields.Float(required=True)
    distance_m = ma.fields.Float(required=True)
    far_from_shop = ma.fields.Boolean(required=True)
    checklist_version_id = ma.fields.Integer(required=True)
    note = ma.fields.String(allow_none=True)
    voided = ma.fields.Boolean(required=True)
    voided_at = ShanghaiDateTime(allow_none=True)
    void_reason = ma.fields.String(allow_none=True)
    items = ma.fields.List(ma.fields.Nested(InspectionItemSchema), required=True)
    rectification = ma.fields.Nested(RectificationSchema, allow_none=True)
    reinspection = ma.fields.List(ma.fields.Nested(ReinspectionSchema), required=True,
                                  metadata={"description": "the shop's open orders: their failed items, now"})


class InspectionQuerySchema(PageArgs, DateRangeArgs):
    district_code = ma.fields.String(validate=ma.validate.Length(max=16))


class RectificationQuerySchema(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(["open", "submitted", "overdue", "closed"]))


class ResponseInSchema(StrictSchema):
    note = Text(minimum=1, required=True, max_length=1000)
    photo_ids = PhotoIds(minimum=1, required=True)


class ReviewInSchema(StrictSchema):
    accepted = ma.fields.Boolean(required=True)
    note = Text(1000, allow_none=True)
    reinspection_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))


class CaseInSchema(StrictSchema):
    source = ma.fields.String(required=True, validate=ma.validate.OneOf(["rectification", "handover"]))
    source_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    assignee_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    deadline = Day(allow_none=True)
    external_case_no = Text(64, allow_none=True, metadata={"description": "运管服平台案件编号"})
    note = Text(minimum=1, required=True, max_length=1000)


class CaseTransitionSchema(StrictSchema):
    to = ma.fields.String(required=True, validate=ma.validate.OneOf(["assigned", "handled", "returned", "closed"]))
    note = Text(minimum=1, required=True, max_length=1000)
    assignee_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    external_case_no = Text(64, allow_none=True)


class CaseEventSchema(ma.Schema):
    from_ = ma.fields.String(data_key="from", allow_none=True)
    to = ma.fields.String(required=True)
    actor_id = ma.fields.Integer(required=True)
    at = ShanghaiDateTime(required=True)
    note = ma.fields.String(allow_none=True)
    assignee_id = ma.fields.Integer(allow_none=True)


class CaseSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    shop_id = ma.fields.Integer(required=True)
    source = ma.fields.String(required=True)
    source_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(CASE_STATUSES))
    overdue = ma.fields.Boolean(required=True)
    assignee_id = ma.fields.Integer(allow_none=True)
    deadline = Day(allow_none=True)
    external_case_no = ma.fields.String(allow_none=True)
    returned_count = ma.fields.Integer(required=True)
    created_by_id = ma.fields.Integer(required=True)
    created_at = ShanghaiDateTime(required=True)
    closed_at = ShanghaiDateTime(allow_none=True)
    events = ma.fields.List(ma.fields.Nested(CaseEventSchema), required=True)


class CaseQuerySchema(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(list(CASE_STATUSES) + ["overdue"]))
