import marshmallow as ma

from server.labels import LABELS


class DistrictSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "370811"})
    name = ma.fields.String(required=True, metadata={"example": "任城区"})
    kind = ma.fields.String(metadata={"description": "district | county | city | zone (功能区)"})
    boundary = ma.fields.Raw(allow_none=True, metadata={
        "description": "with ?boundary=true: a GeoJSON Polygon or MultiPolygon in WGS-84 (RFC 7946), "
                       "null where none is loaded (a zone whose polygon no admin has loaded)"})


class DistrictQuerySchema(ma.Schema):
    boundary = ma.fields.Boolean(load_default=False, metadata={"description": "also give each district's boundary"})


class ChecklistItemSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "P1"})
    check = ma.fields.String(required=True, validate=ma.validate.OneOf(["purifier", "waste", "outside"]))
    text = ma.fields.String(required=True)


class ChecklistSchema(ma.Schema):
    version = ma.fields.Integer(required=True)
    items = ma.fields.List(ma.fields.Nested(ChecklistItemSchema), required=True)


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["ok", "unavailable"]))
    database = ma.fields.String(required=True, validate=ma.validate.OneOf(["ok", "unavailable"]))


def _label_map(description):
    return ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True,
                          metadata={"description": description})


# One field per kind of coded value: {code: 中文}.
LabelsSchema = ma.Schema.from_dict(
    {**{kind: _label_map(f"{kind} 的中文名称") for kind in LABELS},
     "checklist_item": _label_map("检查项代码 → 检查项内容（历次版本）"),
     "district": _label_map("区县代码 → 名称")}, name="Labels")
