"""Inspections, rectification orders, cases."""
import marshmallow as ma

from server.clock import today
from server.models.inspection import CASE_STATUSES, RESULTS
from server.pagination import AreaArgs, PageArgs
from server.schemas import dump
from server.schemas.base import DateRangeArgs, Day, ShanghaiDateTime, StrictSchema, derived
from server.schemas.photos import AttachedPhotos, preload_attached
from server.services.compliance import case_overdue, order_overdue
from server.services.enforcement import cases, inspections
from server.validators import MAX_ID, DistrictCode, PhotoIds, Text


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
    located_in = ma.fields.String(allow_none=True, metadata={
        "description": "the district whose boundary holds the inspector's point (null outside them all)"})
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


class RectificationQuerySchema(PageArgs, AreaArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(["open", "submitted", "overdue", "closed"]))
    shop_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID), metadata={"description": "one shop's"})


class ResponseInSchema(StrictSchema):
    note = Text(minimum=1, required=True, max_length=1000)
    photo_ids = PhotoIds(minimum=1, required=True)


class ReviewInSchema(StrictSchema):
    accepted = ma.fields.Boolean(required=True)
    note = Text(1000, allow_none=True)
    reinspection_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))


class CaseInSchema(StrictSchema):
    source = ma.fields.String(required=True, validate=ma.validate.OneOf(["rectification", "handover", "hotline"]))
    source_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID),
                                  metadata={"description": "the order or slip (not for hotline)"})
    assignee_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    deadline = Day(allow_none=True, metadata={"description": "not for hotline: 5 working days after receipt"})
    external_case_no = Text(64, allow_none=True, metadata={"description": "运管服平台案件编号 / 12345 工单号"})
    note = Text(minimum=1, required=True, max_length=1000)
    # 12345 hotline tickets
    shop_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    district_code = DistrictCode(metadata={"description": "hotline: without it, the district of lat/lng"})
    received_at = ShanghaiDateTime()
    summary = Text(minimum=1, max_length=1000)
    lat = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(min=-90, max=90),
                          metadata={"description": "hotline: where the ticket says it happened (WGS-84)"})
    lng = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(min=-180, max=180))
    address = Text(200, allow_none=True, metadata={"description": "hotline: the ticket's address"})

    @ma.validates_schema
    def fields_of_the_source(self, data, **_kwargs):
        if ("lat" in data) != ("lng" in data):
            raise ma.ValidationError({"lat": ["lat 与 lng 须同时填写"]})
        if data.get("source") == "hotline":
            wanted = ("external_case_no", "received_at", "summary") + (() if "lat" in data else ("district_code",))
            missing = [name for name in wanted if not data.get(name)]
            extra = [name for name in ("source_id", "deadline") if name in data]
            if missing or extra:
                raise ma.ValidationError({**{name: ["热线工单必填"] for name in missing},
                                          **{name: ["热线工单不填此项"] for name in extra}})
        elif data.get("source"):
            if "source_id" not in data:
                raise ma.ValidationError({"source_id": ["必填项"]})
            extra = [name for name in ("shop_id", "district_code", "received_at", "summary", "lat", "lng", "address")
                     if name in data]
            if extra:
                raise ma.ValidationError({name: ["只用于 12345 热线工单"] for name in extra})


class CaseTransitionSchema(StrictSchema):
    to = ma.fields.String(required=True, validate=ma.validate.OneOf(
        ["assigned", "handled", "returned", "closed", "sent_back", "extended"]))
    note = Text(minimum=1, max_length=1000)
    reason = Text(minimum=1, max_length=1000, metadata={"description": "sent_back (回退) and extended"})
    days = ma.fields.Integer(validate=ma.validate.Range(min=1, max=10),
                             metadata={"description": "extended: working days, at most 10"})
    assignee_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    external_case_no = Text(64, allow_none=True)

    @ma.validates_schema
    def fields_of_the_move(self, data, **_kwargs):
        to = data.get("to")
        if to in ("sent_back", "extended"):
            if not data.get("reason"):
                raise ma.ValidationError({"reason": ["必须说明原因"]})
            if to == "extended" and "days" not in data:
                raise ma.ValidationError({"days": ["延期天数必填（不超过 10 个工作日）"]})
        elif to and not data.get("note"):
            raise ma.ValidationError({"note": ["必填项"]})


class FollowUpSchema(StrictSchema):
    satisfied = ma.fields.Boolean(required=True)
    note = Text(1000, allow_none=True)


class CaseEventSchema(ma.Schema):
    from_ = ma.fields.String(data_key="from", attribute="from_status", allow_none=True)
    to = ma.fields.String(attribute="to_status", required=True)
    actor_id = ma.fields.Integer(required=True)
    at = ShanghaiDateTime(required=True)
    note = ma.fields.String(allow_none=True)
    assignee_id = ma.fields.Integer(allow_none=True)


class CaseSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    shop_id = ma.fields.Integer(allow_none=True)
    source = ma.fields.String(required=True)
    source_id = ma.fields.Integer(allow_none=True)
    district_code = ma.fields.String(allow_none=True)
    received_at = ShanghaiDateTime(allow_none=True)
    summary = ma.fields.String(allow_none=True)
    lat = ma.fields.Float(allow_none=True, metadata={"description": "hotline: where it happened (WGS-84)"})
    lng = ma.fields.Float(allow_none=True)
    address = ma.fields.String(allow_none=True)
    card = derived(ma.fields.String, lambda case: cases.card(case), allow_none=True, metadata={
        "description": "12345 hotline: yellow (one working day or less left), red (overdue), else null"})
    calendar_note = ma.fields.String(allow_none=True)
    extended_days = ma.fields.Integer(allow_none=True)
    redo_count = ma.fields.Integer(required=True)
    satisfied = ma.fields.Boolean(allow_none=True)
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


class CaseQuerySchema(PageArgs, AreaArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(list(CASE_STATUSES) + ["overdue", "open"]),
                              metadata={"description": "a stored status, overdue, or open (not ended)"})
    sort = ma.fields.String(validate=ma.validate.OneOf(["-id", "deadline"]),
                            metadata={"description": "newest first (default) or nearest deadline first (a work queue)"})
    shop_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID), metadata={"description": "one shop's"})
