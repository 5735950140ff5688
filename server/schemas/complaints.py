"""Citizen complaints: what a citizen files, what they and staff see, and staff's triage."""
import marshmallow as ma

from server.models.complaint import CATEGORIES, COMPLAINT_STATUSES
from server.pagination import AreaArgs, PageArgs
from server.schemas import dump
from server.schemas.base import ShanghaiDateTime, StrictSchema, derived
from server.schemas.photos import AttachedPhotos, preload_attached
from server.schemas.shops import validate_phone
from server.security import decrypt, mask_phone
from server.validators import MAX_ID, DistrictCode, PhotoIds, Text



class ComplaintInSchema(StrictSchema):
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(list(CATEGORIES)))
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1000),
                                   metadata={"description": "may span several lines"})
    district_code = DistrictCode()
    lat = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(min=-90, max=90))
    lng = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(min=-180, max=180))
    address = Text(200, allow_none=True)
    shop_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    photo_ids = PhotoIds()
    contact_phone = ma.fields.String(allow_none=True, validate=validate_phone)


class NearbyShopSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    distance_m = ma.fields.Float(required=True)


def _staff():
    viewer = dump.viewer()
    return viewer is not None and viewer.is_staff


class ComplaintSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(COMPLAINT_STATUSES))
    category = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    district_code = ma.fields.String(required=True)
    lat = ma.fields.Float(allow_none=True)
    lng = ma.fields.Float(allow_none=True)
    address = ma.fields.String(allow_none=True)
    shop_id = ma.fields.Integer(allow_none=True)
    possible_duplicate_of = ma.fields.Integer(attribute="possible_duplicate_of_id", allow_none=True)
    duplicate_of = ma.fields.Integer(attribute="duplicate_of_id", allow_none=True)
    case_id = ma.fields.Integer(allow_none=True)
    reply = ma.fields.String(allow_none=True, metadata={"description": "staff's public reply"})
    reason = derived(ma.fields.String, lambda c: c.reason if _staff() else None, allow_none=True,
                     metadata={"description": "why not the bureau's matter (staff only)"})
    contact_phone = derived(ma.fields.String, lambda c: mask_phone(decrypt(c.contact_phone_encrypted))
                            if _staff() and c.contact_phone_encrypted else None, allow_none=True,
                            metadata={"description": "masked, staff only"})
    photos = AttachedPhotos("complaint", "evidence")
    created_at = ShanghaiDateTime(required=True)
    updated_at = ShanghaiDateTime(required=True)

    @ma.pre_dump(pass_collection=True)
    def _preload(self, data, many, **_kwargs):
        preload_attached("complaint", [complaint.id for complaint in dump.objects(data, many)])
        return data


class ComplaintCreatedSchema(ComplaintSchema):
    nearby_shops = ma.fields.List(ma.fields.Nested(NearbyShopSchema), attribute="nearby", required=True)


class ComplaintQuerySchema(PageArgs, AreaArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(COMPLAINT_STATUSES))
    district_code = DistrictCode()
    sort = ma.fields.String(validate=ma.validate.OneOf(["-id", "id"]),
                            metadata={"description": "newest first (default) or oldest first (a work queue)"})
    category = ma.fields.String(validate=ma.validate.OneOf(list(CATEGORIES)))
    shop_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID),
                                metadata={"description": "a shop's complaints (its page)"})


class TriageSchema(StrictSchema):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(
        ["link_shop", "duplicate", "not_ours", "case", "close"]))
    shop_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    duplicate_of = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))
    reason = Text(500, minimum=1)
    reply = Text(500, minimum=1, metadata={"description": "the public reply the citizen sees"})

    @ma.validates_schema
    def needed(self, data, **_kwargs):
        needs = {"link_shop": "shop_id", "duplicate": "duplicate_of", "not_ours": "reason", "close": "reply"}
        field = needs.get(data.get("action"))
        if field and not data.get(field):
            raise ma.ValidationError({field: ["此操作必填"]})


class TriageResultSchema(ma.Schema):
    complaint = ma.fields.Nested(ComplaintSchema, required=True)
    case_id = ma.fields.Integer(allow_none=True)
