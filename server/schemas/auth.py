"""Login, the caller's own account, invitations."""
import marshmallow as ma

from server.roles import ROLES
from server.schemas.base import ShanghaiDateTime, StrictSchema
from server.validators import MAX_ID, Name, single_line, validate_mobile

INVITABLE_ROLES = ("collector", "collector_manager", "inspector", "regulator", "admin")


class WechatLoginSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=128), single_line],
                            metadata={"description": "wx.login() 得到的 code"})


class OwnPasswordSchema(StrictSchema):
    current_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=128))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=128))


class PasswordLoginSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=128))


class MeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES + ("owner",)))
    display_name = ma.fields.String(allow_none=True)
    jurisdiction = ma.fields.List(ma.fields.String(), allow_none=True,
                                  metadata={"description": "district codes; null = the whole city (staff)"})
    collector_company_id = ma.fields.Integer(allow_none=True)
    shop_ids = ma.fields.List(ma.fields.Integer(), required=True)
    privacy_accepted_version = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True, metadata={"description": "the caller's own phone, unmasked"})
    password_must_change = ma.fields.Boolean(metadata={
        "description": "an admin set the console password: POST /me/password before anything else"})


class LoginResultSchema(ma.Schema):
    token = ma.fields.String(required=True)
    expires_at = ShanghaiDateTime(required=True)
    user = ma.fields.Nested(MeSchema, required=True)


class PrivacyConsentSchema(StrictSchema):
    version = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=32), single_line])


class MePatchSchema(StrictSchema):
    display_name = Name()
    phone = ma.fields.String(allow_none=True, validate=validate_mobile)


class InvitationCreateSchema(StrictSchema):
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(INVITABLE_ROLES))
    jurisdiction = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=16)), allow_none=True,
                                  validate=ma.validate.Length(max=32),
                                  metadata={"description": "district codes; null = city-wide (admin only); "
                                                           "ignored for collector roles"})
    collector_company_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    display_name = Name(required=True)


class InvitationCreatedSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True, metadata={"description": "shown once"})
    expires_at = ShanghaiDateTime(required=True)


class CodeSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=64), single_line])
