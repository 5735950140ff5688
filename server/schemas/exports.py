import marshmallow as ma

from server.schemas.base import DateRangeArgs, Day, StrictSchema
from server.schemas.shops import ComplianceFilters, ShopFilters


class ExportQuerySchema(DateRangeArgs, ComplianceFilters):
    district_code = ma.fields.String(validate=ma.validate.Length(max=16))
    as_of = Day()
    # The roster filters of /shops too, so the console's list exports exactly what it shows.
    status = ShopFilters._declared_fields["status"]
    claimed = ma.fields.Boolean()
    q = ShopFilters._declared_fields["q"]


class GeoJSONQuerySchema(StrictSchema, ShopFilters):
    districts = ma.fields.Boolean(load_default=False, metadata={
        "description": "also the boundaries of the districts in view (features with properties.layer = district), "
                       "before the shops"})


class AuditHeadSchema(ma.Schema):
    id = ma.fields.Integer(allow_none=True)
    hash = ma.fields.String(required=True)


class ReceiptSchema(ma.Schema):
    """The receipt as signed: ``signature`` is Ed25519 over the canonical JSON of the rest."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    format = ma.fields.String(required=True)
    filters = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    rows = ma.fields.Integer(allow_none=True)
    sha256 = ma.fields.String(allow_none=True)
    bytes = ma.fields.Integer(allow_none=True)
    complete = ma.fields.Boolean(required=True)
    created_at = ma.fields.String(required=True)
    exported_by = ma.fields.Integer(required=True)
    audit_head = ma.fields.Nested(AuditHeadSchema, required=True)
    key_id = ma.fields.String(required=True)
    signature = ma.fields.String(allow_none=True, metadata={"description": "base64; null until complete"})


class PublicKeySchema(ma.Schema):
    key_id = ma.fields.String(required=True)
    public_key = ma.fields.String(required=True, metadata={"description": "base64 of the raw 32-byte Ed25519 key"})
