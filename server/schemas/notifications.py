"""Notifications (what a user was told) and subscribe-message quotas."""
import marshmallow as ma

from server.pagination import PageArgs
from server.schemas.base import ShanghaiDateTime, StrictSchema, derived

# What the API shows of a message's state: one being sent right now is still "pending".
SHOWN = {"sending": "pending"}


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    object_type = ma.fields.String(required=True)
    object_id = ma.fields.Integer(required=True)
    created_at = ShanghaiDateTime(required=True)
    read_at = ShanghaiDateTime(allow_none=True)
    wechat = derived(ma.fields.String, lambda n: SHOWN.get(n.wechat, n.wechat), required=True, metadata={
        "description": "sent, pending, no_quota, failed, quiet_hours or not_subscribed"})


class NotificationQuerySchema(PageArgs):
    unread = ma.fields.Boolean()


class SubscriptionResultsSchema(StrictSchema):
    results = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(min=1, max=128)),
                             values=ma.fields.String(validate=ma.validate.Length(max=16)), required=True,
                             validate=ma.validate.Length(max=50),
                             metadata={"description": "what wx.requestSubscribeMessage returned, as is"})


class TemplateSchema(ma.Schema):
    kind = ma.fields.String(required=True, metadata={"description": "notification_kind (label table)"})
    template_id = ma.fields.String(required=True, metadata={"description": "for wx.requestSubscribeMessage"})
    long_term = ma.fields.Boolean(required=True)


class QuotaSchema(ma.Schema):
    quota = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), required=True,
                           metadata={"description": "per kind: messages still allowed, or \"long_term\""})


class SubscriptionsSchema(QuotaSchema):
    templates = ma.fields.List(ma.fields.Nested(TemplateSchema), required=True, metadata={
        "description": "every kind that has a template (WECHAT_TEMPLATES)"})
