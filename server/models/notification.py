"""Reminders (中端严管): what each user was told (in-app notifications, each also a WeChat
subscribe message where the user granted one), their subscription quotas, and the shared token."""
import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow
from server.extensions import db

# The WeChat side of a notification.  ``sending`` (claimed, the call under way) reads ``pending``.
WECHAT_STATES = ("pending", "sending", "sent", "no_quota", "failed", "quiet_hours", "not_subscribed")


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # One notification per user and occasion, however many reminder runs race (the database says so).
        UniqueConstraint("user_id", "occasion", name="uq_notifications_user_occasion"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_outbox", "wechat", "send_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    # What happened, as a key: "cleaning_due:<shop>:<due date>:<due_soon|overdue>", "case_assigned:<event>"...
    occasion: Mapped[str] = mapped_column(String(160))
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(String(500))
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]
    # The subscribe message: its state, template, the values its keywords are filled from.
    wechat: Mapped[str] = mapped_column(String(16))
    template_id: Mapped[str | None] = mapped_column(String(128))
    values: Mapped[dict | None] = mapped_column(JSON)
    send_after: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    quota_held: Mapped[bool] = mapped_column(default=False)  # a one-time quota unit reserved for this send
    sending_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    wechat_error: Mapped[str | None] = mapped_column(String(500))


class Subscription(db.Model):
    """What ``wx.requestSubscribeMessage`` granted a user for one template."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "template_id", name="uq_subscriptions_user_template"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    template_id: Mapped[str] = mapped_column(String(128))
    quota: Mapped[int] = mapped_column(default=0)  # one-time messages still allowed
    long_term: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WeChatToken(db.Model):
    """The one access token every process uses (WeChat's stable_token), refreshed by one at a time."""

    __tablename__ = "wechat_tokens"

    appid: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(String(512))
    expires_at: Mapped[dt.datetime]
    refreshed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
