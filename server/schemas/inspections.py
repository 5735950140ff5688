"""Inspections, rectification orders, cases."""
import marshmallow as ma

from server.clock import today
from server.models.inspection import CASE_STATUSES, RESULTS
from server.pagination import PageArgs
from server.schemas import dump
from server.schemas.base import DateRangeArgs, Day, ShanghaiDateTime, StrictSchema, derived
from server.schemas.photos import AttachedPhotos, preload_attached
from server.services.compliance import case_overdue, order_overdue
from server.services.enforcement import inspections
from server.validators import MAX_ID, PhotoIds, Text


class ItemInSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=8))
    result = ma.fields.String(required=True, validate=ma.validate.OneOf(RESULTS))
    note = Text(500, allow_none=True)
    photo_ids = PhotoIds(load_default=list)


class InspectionInSchema(StrictSchema):
    inspected_at = ShanghaiDateTime(required=True)
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
    photos = AttachedPhotos("rectification_event", "response")


def preload_orders(orders):
    """The photos of these orders' events, in one query (the events come with the orders)."""
    preload_attached("rectification_event", [event.id for order in orders if order for event in order.events])


class RectificationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    shop_id = ma.fields.Integer(required=True)
    inspection_id = ma.fields.Integer(required=True)
    items = ma.fields.List(ma.fields.String(), required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["open", "submitted", "closed"]))
    overdue = derived(ma.fields.Boolean, lambda order: order_overdue(order.status, order.deadline, today()),
                      required=True, metadata={"description": "open past its deadline"})
    deadline = Day(required=True)
    created_at = ShanghaiDateTime(required=True)
    acknowledged_at = ShanghaiDateTime(allow_none=True)
    closed_at = ShanghaiDateTime(allow_none=True)
    events = ma.fields.List(ma.fields.Nested(RectificationEventSchema), required=True)

    @ma.pre_dump(pass_collection=True)
    def _preload(self, data, many, **_kwargs):
        preload_orders(dump.objects(data, many))
        return data


class InspectionItemSchema(ma.Schema):
    code = ma.fields.String(required=True)
    result = ma.fields.String(required=True)
    note = ma.fields.String(allow_none=True)
    photos = AttachedPhotos("inspection", role=lambda item: item.code, record_id=lambda item: item.inspection_id)


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
    voided = derived(ma.fields.Boolean, lambda inspection: inspection.voided_at is not None, required=True)
    voided_at = ShanghaiDateTime(allow_none=True)
    void_reason = ma.fields.String(allow_none=True)
    items = ma.fields.List(ma.fields.Nested(InspectionItemSchema), required=True)
    rectification = ma.fields.Nested(RectificationSchema, allow_none=True)
    reinspection = derived(ma.fields.List, lambda inspection: dump.cached(
        "reinspection", inspection.id, lambda _ids: inspections.reinspections([inspection]), default=[]),
        cls_or_instance=ma.fields.Nested(ReinspectionSchema), required=True,
        metadata={"description": "the shop's open orders: their failed items, now"})

    @ma.pre_dump(pass_collection=True)
    def _preload(self, data, many, **_kwargs):
        page = dump.objects(data, many)
        preload_attached("inspection", [inspection.id for inspection in page])
        preload_orders([inspection.rectification for inspection in page])
        dump.preload("reinspection", [inspection.id for inspection in page],
                     lambda _ids: inspections.reinspections(page), default=[])
        return data


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
    from_ = ma.fields.String(data_key="from", attribute="from_status", allow_none=True)
    to = ma.fields.String(attribute="to_status", required=True)
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
    overdue = derived(ma.fields.Boolean, lambda case: case_overdue(case.status, case.deadline, today()), required=True)
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
