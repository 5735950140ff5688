"""Reminders (中端严管): in-app notifications, each also a WeChat subscribe message where granted.

    occasions     what is due to be told, to whom (from the records and the compliance engine)
    outbox        creating notifications once each, claiming, sending and settling messages
    values        a message's keyword values shaped to WeChat's types; the page it opens
    wechat_token  the one access token all processes share

:func:`run` is ``flask --app wsgi reminders run``; the rest serves ``/me/notifications`` and
``/me/subscriptions``.
"""
import collections
import time

from flask import current_app
from sqlalchemy import select, update

from server.clock import utcnow
from server.errors import fail
from server.extensions import db
from server.models.notification import Notification, Subscription
from server.pagination import paginate
from server.services import scope
from server.services.reminders import occasions, outbox

RESULTS = ("accept", "reject", "ban", "filter")


def run(now=None):
    """Create the due notifications, then send what may be sent: ``{what: how many}``."""
    started = time.monotonic()
    now = now or utcnow()
    counts = collections.Counter(created=0, sent=0, deferred=0, retried=0, failed=0, no_quota=0)
    counts["created"] = outbox.create(occasions.due(now), now)
    budget = current_app.config["REMINDER_MAX_SECONDS"] - (time.monotonic() - started)
    outbox.send_due(utcnow(), max(budget, 1), counts)
    return dict(counts)


def list_for(user, args):
    statement = select(Notification).where(Notification.user_id == user.id)
    if args.get("unread"):
        statement = statement.where(Notification.read_at.is_(None))
    return paginate(statement.order_by(Notification.created_at.desc(), Notification.id.desc()), args)


def mark_read(user, notification_id):
    notification = scope.get_notification_for(user, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
    return notification


def read_all(user):
    db.session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                       .values(read_at=utcnow()))
    db.session.commit()


def quota_of(user):
    """``{kind: n or "long_term"}`` for every kind that has a template."""
    templates = current_app.config["WECHAT_TEMPLATES"]
    rows = {row.template_id: row for row in db.session.scalars(
        select(Subscription).where(Subscription.user_id == user.id))}
    quota = {}
    for kind, template in templates.items():
        row = rows.get(template["id"])
        if template["long_term"]:
            quota[kind] = "long_term" if row is not None and row.long_term else 0
        else:
            quota[kind] = row.quota if row is not None else 0
    return quota


def subscriptions(user):
    """``GET /me/subscriptions``: the template of each kind (what the mini-program passes to
    ``wx.requestSubscribeMessage``) and what the user may still receive."""
    templates = current_app.config["WECHAT_TEMPLATES"]
    return {"templates": [{"kind": kind, "template_id": template["id"], "long_term": bool(template["long_term"])}
                          for kind, template in sorted(templates.items())],
            "quota": quota_of(user)}


def subscribe(user, results):
    """What ``wx.requestSubscribeMessage`` returned: each one-time ``accept`` allows one more message;
    a long-term template is on after ``accept`` and off after ``reject``/``ban``."""
    templates = {template["id"]: template for template in current_app.config["WECHAT_TEMPLATES"].values()}
    unknown = sorted(template_id for template_id in results if template_id not in templates)
    if unknown:
        fail(422, fields={"results": ["未配置的订阅消息模板：" + "、".join(unknown[:10])]})
    wrong = sorted(template_id for template_id, result in results.items() if result not in RESULTS)
    if wrong:
        fail(422, fields={"results": ["结果须为 accept、reject、ban 或 filter：" + "、".join(wrong[:10])]})
    for template_id, result in sorted(results.items()):
        template = templates[template_id]
        row = outbox.subscription_of(user.id, template_id)
        if row is None and result != "accept":
            continue
        if row is None:
            row = Subscription(user_id=user.id, template_id=template_id, quota=0, long_term=False)
            db.session.add(row)
        if template["long_term"]:
            if result in ("accept", "reject", "ban"):
                row.long_term = result == "accept"
        elif result == "accept":
            row.quota += 1
        row.updated_at = utcnow()
    db.session.commit()
    return {"quota": quota_of(user)}
