"""Shops, members, codes, status, change requests, the roster import (contracts: schemas.contracts)."""
import re

import marshmallow as ma

from server.models.shop import STATUSES
from server.pagination import PageArgs
from server.schemas import dump
from server.schemas.base import Day, ShanghaiDateTime, StrictSchema, derived
from server.security import decrypt, mask_phone
from server.services import places, scope
from server.services.compliance import FLAGS, MIN_EFFICIENCY, compliance_bulk, scale_of
from server.services.roster import change_requests
from server.validators import MAX_ID, Name, Upload, Uscc, single_line

PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def validate_phone(value):
    if not PHONE.match(value):
        raise ma.ValidationError("电话格式不正确：11 位手机号或带区号的固定电话")


class PurifierInSchema(StrictSchema):
    installed = ma.fields.Boolean(required=True)
    model = ma.fields.String(allow_none=True, validate=[ma.validate.Length(max=100), single_line])
    rated_efficiency = ma.fields.Float(allow_none=True, allow_nan=False, validate=ma.validate.Range(min=0, max=100),
                                       metadata={"description": "rated removal efficiency, %"})


class ShopInSchema(StrictSchema):
    name = Name(100, required=True)
    uscc = Uscc(required=True, metadata={"description": "统一社会信用代码 (GB 32100-2015)"})
    address = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), single_line])
    district_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=16))
    street = ma.fields.String(allow_none=True, validate=[ma.validate.Length(max=64), single_line])
    lat = ma.fields.Float(required=True, allow_nan=False)
    lng = ma.fields.Float(required=True, allow_nan=False)
    cooking_heads = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=500),
                                      metadata={"description": "基准灶头数"})
    open_air_bbq = ma.fields.Boolean(load_default=False)
    contact_name = ma.fields.String(allow_none=True, validate=[ma.validate.Length(max=64), single_line])
    contact_phone = ma.fields.String(allow_none=True, validate=validate_phone)
    purifier = ma.fields.Nested(PurifierInSchema, required=True)


class ShopPatchSchema(ShopInSchema):
    """Any subset of the profile; ``uscc`` is immutable and refused."""

    @ma.validates_schema
    def uscc_immutable(self, data, **_kwargs):
        if "uscc" in data:
            raise ma.ValidationError("统一社会信用代码不可修改", "uscc")


class PurifierSchema(ma.Schema):
    installed = ma.fields.Boolean(required=True)
    model = ma.fields.String(allow_none=True)
    rated_efficiency = ma.fields.Float(allow_none=True)
    min_efficiency = ma.fields.Float(required=True, metadata={"description": "minimum for the shop's scale, %"})
    undersized = ma.fields.Boolean(required=True)


def _purifier(shop):
    minimum = MIN_EFFICIENCY[scale_of(shop.cooking_heads)]
    efficiency = shop.purifier_rated_efficiency
    return {"installed": shop.purifier_installed, "model": shop.purifier_model, "rated_efficiency": efficiency,
            "min_efficiency": minimum,
            "undersized": bool(shop.purifier_installed and efficiency is not None and efficiency < minimum)}


def _contact_phone(shop):
    """In full for the shop's members and staff in jurisdiction; masked (138****1234) for others."""
    phone = decrypt(shop.contact_phone_encrypted)
    viewer = dump.viewer()
    if viewer.covers(shop.district_code):
        return phone
    member = dump.cached("member_of", shop.id, lambda ids: scope.member_of(viewer, ids), default=False)
    return phone if member else mask_phone(phone)


def _distance(shop):
    """Metres from the point a ``near=`` list or the patrol list was asked for (given by the service)."""
    distance = dump.cached("distance_m", shop.id, lambda _ids: {})
    return ma.missing if distance is None else round(distance, 1)


SHOP_SORTS = ("id", "name", "-registered_on", "priority")


class ShopSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    uscc = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    district_code = ma.fields.String(required=True)
    street = ma.fields.String(allow_none=True)
    lat = ma.fields.Float(required=True)
    lng = ma.fields.Float(required=True)
    cooking_heads = ma.fields.Integer(required=True)
    scale = derived(ma.fields.String, lambda shop: scale_of(shop.cooking_heads), required=True,
                    validate=ma.validate.OneOf(["small", "medium", "large"]))
    open_air_bbq = ma.fields.Boolean(required=True)
    contact_name = ma.fields.String(allow_none=True)
    contact_phone = derived(ma.fields.String, _contact_phone, allow_none=True,
                            metadata={"description": "masked (138****1234) except for the shop and staff"})
    purifier = derived(ma.fields.Nested, _purifier, nested=PurifierSchema, required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES))
    status_reason = ma.fields.String(allow_none=True)
    status_effective_on = Day(allow_none=True)
    claimed = ma.fields.Boolean(required=True)
    registered_on = Day(required=True)
    source = ma.fields.String(required=True)
    distance_m = derived(ma.fields.Float, _distance, metadata={"description": "with near=: metres from that point"})
    pending_change_request_id = derived(ma.fields.Integer, lambda shop: dump.cached(
        "pending_change_request", shop.id, change_requests.pending_ids), allow_none=True)
    compliance = derived(ma.fields.Nested, lambda shop: dump.cached("compliance", shop.id, compliance_bulk),
                         nested="ComplianceSchema", required=True)
    warnings = derived(ma.fields.List, places.shop_warnings, cls_or_instance=ma.fields.Nested("WarningSchema"), metadata={
        "description": "district_mismatch when the point lies in another district than district_code (still stored)"})

    @ma.pre_dump(pass_collection=True)
    def _preload(self, data, many, **_kwargs):
        """A page's grades, pending change requests and the viewer's memberships: a query each."""
        shops = dump.objects(data, many)
        ids = [shop.id for shop in shops]
        viewer = dump.viewer()
        dump.preload("compliance", ids, compliance_bulk)
        dump.preload("pending_change_request", ids, change_requests.pending_ids)
        # Membership only decides the phone of shops outside the viewer's jurisdiction.
        dump.preload("member_of", [shop.id for shop in shops if not viewer.covers(shop.district_code)],
                     lambda missing: scope.member_of(viewer, missing), default=False)
        return data


class ReasonSchema(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    checklist_items = ma.fields.List(ma.fields.String(), metadata={"description": "items (text: /labels)"})


class PurifierStatusSchema(ma.Schema):
    status = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(
        ["ok", "due_soon", "overdue", "never_cleaned", "no_purifier"]))
    last_cleaned_on = Day(allow_none=True)
    due_on = Day(allow_none=True)


class WasteStatusSchema(ma.Schema):
    status = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(
        ["ok", "overdue", "no_contract", "contract_expired"]))
    last_handover_at = ShanghaiDateTime(allow_none=True)


class FlagSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.OneOf(FLAGS))
    message = ma.fields.String(required=True)
    kg_per_head_day = ma.fields.Float(metadata={"description": "waste_low: kitchen waste, last 30 days"})
    peer_median = ma.fields.Float(metadata={"description": "waste_low: the same figure's median among peers"})


class RectificationCountsSchema(ma.Schema):
    open = ma.fields.Integer(required=True)
    overdue = ma.fields.Integer(required=True)


class ComplianceSchema(ma.Schema):
    as_of = Day(required=True)
    active = ma.fields.Boolean(required=True, metadata={"description": "false: suspended/closed, not graded"})
    purifier = ma.fields.Nested(PurifierStatusSchema, required=True)
    waste = ma.fields.Nested(WasteStatusSchema, required=True)
    rectification = ma.fields.Nested(RectificationCountsSchema, required=True)
    grade = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(["A", "B", "C"]))
    reasons = ma.fields.List(ma.fields.Nested(ReasonSchema), required=True)
    flags = ma.fields.List(ma.fields.Nested(FlagSchema), required=True,
                           metadata={"description": "leads for the inspector (no grade change; priority one step up)"})
    priority = ma.fields.Integer(required=True, metadata={"description": "higher = visit sooner"})


class ComplianceQuerySchema(StrictSchema):
    as_of = Day(metadata={"description": "default: today (Asia/Shanghai)"})


class PatrolQuerySchema(PageArgs):
    lat = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(min=-90, max=90))
    lng = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(min=-180, max=180))
    radius_m = ma.fields.Integer(load_default=5000, validate=ma.validate.Range(min=100, max=50_000),
                                 metadata={"description": "only shops within this distance"})


class ComplianceFilters(ma.Schema):
    """The compliance filters of ``/shops``, the compliance export and the GeoJSON."""

    grade = ma.fields.String(validate=ma.validate.OneOf(["A", "B", "C"]))
    purifier_status = ma.fields.String(validate=ma.validate.OneOf(
        ["ok", "due_soon", "overdue", "never_cleaned", "no_purifier"]))
    waste_status = ma.fields.String(validate=ma.validate.OneOf(["ok", "overdue", "no_contract", "contract_expired"]))
    flag = ma.fields.String(validate=ma.validate.OneOf(FLAGS))


class ShopFilters(ComplianceFilters):
    """What ``/shops`` filters by (and the GeoJSON export)."""

    district_code = ma.fields.String(validate=ma.validate.Length(max=16))
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    claimed = ma.fields.Boolean()
    q = ma.fields.String(validate=ma.validate.Length(max=100), metadata={"description": "name, address or uscc"})
    near = ma.fields.String(metadata={"description": "lat,lng"}, validate=ma.validate.Regexp(
        r"^-?\d{1,3}(\.\d+)?,-?\d{1,3}(\.\d+)?$", error="应为“纬度,经度”，例如 35.415,116.587"))
    radius_m = ma.fields.Integer(load_default=1000, validate=ma.validate.Range(min=1, max=50_000))


class ShopQuerySchema(PageArgs, ShopFilters):
    sort = ma.fields.String(load_default="id", validate=ma.validate.OneOf(SHOP_SORTS), metadata={
        "description": "id (default), name, -registered_on (newest first), priority (visit first); "
                       "with near=, nearest first"})


class StatusInSchema(StrictSchema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES))
    reason = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), single_line])
    effective_on = Day(required=True)


class CodeCreatedSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "shown once"})
    expires_at = ShanghaiDateTime(required=True)


class MemberSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(allow_none=True)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(["manager", "staff"]))
    joined_at = ShanghaiDateTime(required=True)


class ChangeRequestSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    shop_id = ma.fields.Integer(required=True)
    requested_by_id = ma.fields.Integer(required=True)
    requested_at = ShanghaiDateTime(required=True)
    changes = ma.fields.Dict(required=True)
    previous = ma.fields.Dict(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["pending", "approved", "rejected"]))
    decided_by_id = ma.fields.Integer(allow_none=True)
    decided_at = ShanghaiDateTime(allow_none=True)
    note = ma.fields.String(allow_none=True)


class DecisionSchema(StrictSchema):
    approved = ma.fields.Boolean(required=True)
    note = ma.fields.String(allow_none=True, validate=[ma.validate.Length(max=500), single_line])


class WarningSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "district_mismatch (label table: warning)"})
    message = ma.fields.String(required=True)
    declared = ma.fields.String(required=True, metadata={"description": "the district code given"})
    located_in = ma.fields.String(required=True, metadata={"description": "the district whose boundary holds the point"})


class ImportResultSchema(ma.Schema):
    created = ma.fields.Integer(required=True)
    skipped = ma.fields.Integer(required=True, metadata={"description": "rows not imported: existing + invalid"})
    existing = ma.fields.Integer(metadata={"description": "rows of shops already on the roster (same code and address)"})
    invalid = ma.fields.Integer(metadata={"description": "rows with a problem to fix"})
    errors = ma.fields.List(ma.fields.Dict(), required=True, metadata={
        "description": "[{row, message, kind}], row = line in the file, header = 1; kind existing | invalid; "
                       "the message names the file's own column header"})
    warnings = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "[{row, code, message, declared, located_in}]: imported, but the point lies in another district"})


class ImportFileSchema(StrictSchema):
    file = Upload(required=True)


class HistoryEntrySchema(ma.Schema):
    at = ShanghaiDateTime(required=True)
    actor_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String(required=True)
    object_type = ma.fields.String(required=True)
    object_id = ma.fields.Integer(allow_none=True)
    summary = ma.fields.String(required=True)
