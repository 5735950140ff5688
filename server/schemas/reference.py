import marshmallow as ma


class DistrictSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "370811"})
    name = ma.fields.String(required=True, metadata={"example": "任城区"})


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
