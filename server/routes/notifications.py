from server.api import Blueprint
from server.auth import current_user, login_required
from server.pagination import page_of
from server.schemas.notifications import (NotificationQuerySchema, NotificationSchema, QuotaSchema,
                                          SubscriptionResultsSchema, SubscriptionsSchema)
from server.services import reminders

blp = Blueprint("notifications", __name__, url_prefix="", description="提醒与订阅消息")


@blp.route("/me/notifications")
@login_required
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, page_of(NotificationSchema))
def list_notifications(args):
    """本人的提醒（最新的在前；unread=true 只列未读）."""
    return reminders.list_for(current_user(), args)


@blp.route("/me/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
@blp.response(200, NotificationSchema)
def read_notification(notification_id):
    """标记一条提醒为已读."""
    return reminders.mark_read(current_user(), notification_id)


@blp.route("/me/notifications/read-all", methods=["POST"])
@login_required
@blp.response(204)
def read_all_notifications():
    """全部标记为已读."""
    reminders.read_all(current_user())


@blp.route("/me/subscriptions")
@login_required
@blp.response(200, SubscriptionsSchema)
def subscriptions():
    """各类提醒的订阅消息模板（供 wx.requestSubscribeMessage 使用）与本人还可接收的条数."""
    return reminders.subscriptions(current_user())


@blp.route("/me/subscriptions", methods=["POST"])
@login_required
@blp.arguments(SubscriptionResultsSchema)
@blp.response(200, QuotaSchema)
def subscribe(body):
    """上报 wx.requestSubscribeMessage 的结果；返回各类提醒还可发送的订阅消息数."""
    return reminders.subscribe(current_user(), body["results"])
