"""Staff accounts as admins and regulators see them."""
import marshmallow as ma

from server.pagination import PageArgs
from server.roles import ROLES
from server.schemas.base import ShanghaiDateTime, StrictSchema
from server.validators import MAX_ID, Name


class UserSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    display_name = ma.fields.String(allow_none=True)
    username = ma.fields.String(allow_none=True)
    jurisdiction = ma.fields.List(ma.fields.String(), allow_none=True)
    collector_company_id = ma.fields.Integer(allow_none=True)
    disabled = ma.fields.Boolean(required=True)
    created_at = ShanghaiDateTime(required=True)


class UserQuerySchema(PageArgs):
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))


class UserPatchSchema(StrictSchema):
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    jurisdiction = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=16)), allow_none=True,
                                  validate=ma.validate.Length(max=32))
    collector_company_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    disabled = ma.fields.Boolean()
    display_name = Name()


class PasswordSetSchema(StrictSchema):
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=128))
    username = ma.fields.String(validate=ma.validate.Regexp(
        r"^[A-Za-z0-9_.-]{3,64}$", error="用户名为 3–64 位字母、数字或 _ . -"),
        metadata={"description": "sets the console username when the user has none yet"})
