"""Purifier cleanings and kitchen-waste handover slips."""
import marshmallow as ma

from server.models.records import CLEANING_PARTS, HANDOVER_STATUSES, WASTE_TYPES
from server.pagination import AreaArgs, PageArgs
from server.schemas import dump
from server.schemas.base import Day, ShanghaiDateTime, StrictSchema
from server.schemas.photos import AttachedPhotos, preload_attached
from server.validators import MAX_ID, PhotoIds, Text, single_line

MAX_KG = 5000  # one slip, one vehicle: anything above is a typing error


class CleaningInSchema(StrictSchema):
    cleaned_on = Day(required=True)
    parts = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(CLEANING_PARTS)), required=True,
                           validate=ma.validate.Length(min=1, max=4))
    performed_by = ma.fields.String(required=True, validate=ma.validate.OneOf(["self", "company"]))
    company_name = Text(100, allow_none=True)
    before_photo_ids = PhotoIds(required=True)
    after_photo_ids = PhotoIds(required=True)
    invoice_photo_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    note = Text(500, allow_none=True)

    @ma.validates_schema
    def rules(self, data, **_kwargs):
        errors = {}
        if data.get("performed_by") == "company" and not (data.get("company_name") or "").strip():
            errors["company_name"] = ["由清洗公司完成时请填写公司名称"]
        for field, label in (("before_photo_ids", "清洗前"), ("after_photo_ids", "清洗后")):
            if field in data and not data[field]:
                errors[field] = [f"请至少上传一张{label}照片"]
        if errors:
            raise ma.ValidationError(errors)


class CleaningCorrectionSchema(CleaningInSchema):
    reason = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=500), single_line],
                              metadata={"description": "why the record is corrected"})


class CleaningSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    shop_id = ma.fields.Integer(required=True)
    cleaned_on = Day(required=True)
    parts = ma.fields.List(ma.fields.String(), required=True)
    performed_by = ma.fields.String(required=True)
    company_name = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    before_photos = AttachedPhotos("cleaning", "before")
    after_photos = AttachedPhotos("cleaning", "after")
    invoice_photos = AttachedPhotos("cleaning", "invoice")
    logged_by_id = ma.fields.Integer(required=True)
    received_at = ShanghaiDateTime(required=True)
    late_entry = ma.fields.Boolean(required=True)
    supersedes_id = ma.fields.Integer(allow_none=True)
    superseded_by = ma.fields.Integer(attribute="superseded_by_id", allow_none=True)
    correction_reason = ma.fields.String(allow_none=True)

    @ma.pre_dump(pass_collection=True)
    def _preload(self, data, many, **_kwargs):
        preload_attached("cleaning", [cleaning.id for cleaning in dump.objects(data, many)])
        return data


class RecordListArgs(PageArgs):
    include_superseded = ma.fields.Boolean(load_default=False,
                                           metadata={"description": "staff: include corrected old versions"})


kg = dict(allow_none=True, allow_nan=False, validate=ma.validate.Range(min=0, max=MAX_KG, min_inclusive=False))


class HandoverInSchema(StrictSchema):
    handed_over_at = ShanghaiDateTime(required=True)
    waste_type = ma.fields.String(required=True, validate=ma.validate.OneOf(WASTE_TYPES))
    bins = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=100))
    declared_kg = ma.fields.Float(**kg)
    weighed_kg = ma.fields.Float(**kg, metadata={"description": "collectors only"})
    collector_company_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    vehicle_plate = Text(16, allow_none=True)
    photo_ids = PhotoIds(load_default=list)


class HandoverCorrectionSchema(HandoverInSchema):
    reason = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=500), single_line],
                              metadata={"description": "why the record is corrected"})


class ConfirmSchema(StrictSchema):
    weighed_kg = ma.fields.Float(**kg, metadata={"description": "the collector's weighed quantity"})
    declared_kg = ma.fields.Float(**kg, metadata={"description": "the shop's figure, when the collector started"})
    photo_ids = PhotoIds(metadata={"description": "the answering party's photos (the scale, the bins): role weighing"})


class RejectSchema(StrictSchema):
    reason = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=500), single_line])


class SettleSchema(StrictSchema):
    accept = ma.fields.String(required=True, validate=ma.validate.OneOf(["declared", "weighed"]),
                              metadata={"description": "the figure that counts: the shop's declared or the weighed kg"})
    reason = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=500), single_line])


class HandoverSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    serial = ma.fields.String(required=True, metadata={"example": "JN20240322-000123"})
    version = ma.fields.Integer(required=True)
    shop_id = ma.fields.Integer(required=True)
    handed_over_at = ShanghaiDateTime(required=True)
    waste_type = ma.fields.String(required=True)
    bins = ma.fields.Integer(allow_none=True)
    declared_kg = ma.fields.Float(allow_none=True)
    weighed_kg = ma.fields.Float(allow_none=True)
    collector_company_id = ma.fields.Integer(required=True)
    vehicle_plate = ma.fields.String(allow_none=True)
    photos = AttachedPhotos("handover", "evidence")
    weighing_photos = AttachedPhotos("handover", "weighing")  # the answering party's, at confirmation
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(HANDOVER_STATUSES))
    started_by_party = ma.fields.String(required=True)
    started_by_id = ma.fields.Integer(required=True)
    answered_by_id = ma.fields.Integer(allow_none=True)
    answered_at = ShanghaiDateTime(allow_none=True)
    reject_reason = ma.fields.String(allow_none=True)
    settled_kg = ma.fields.Float(allow_none=True, metadata={"description": "the figure a disputed slip was settled on"})
    settled_by = ma.fields.Integer(attribute="settled_by_id", allow_none=True)
    settled_at = ShanghaiDateTime(allow_none=True)
    settle_reason = ma.fields.String(allow_none=True)
    received_at = ShanghaiDateTime(required=True)
    late_entry = ma.fields.Boolean(required=True)
    supersedes_id = ma.fields.Integer(allow_none=True)
    superseded_by = ma.fields.Integer(attribute="superseded_by_id", allow_none=True)
    correction_reason = ma.fields.String(allow_none=True)

    @ma.pre_dump(pass_collection=True)
    def _preload(self, data, many, **_kwargs):
        preload_attached("handover", [handover.id for handover in dump.objects(data, many)])
        return data


class HandoverQuerySchema(RecordListArgs, AreaArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(HANDOVER_STATUSES))
    sort = ma.fields.String(validate=ma.validate.OneOf(["-handed_over_at", "handed_over_at"]),
                            metadata={"description": "newest first (default) or oldest first (a work queue)"})
    has_open_case = ma.fields.Boolean(metadata={"description": "false: only slips not (yet) made a case"})
    company_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))
