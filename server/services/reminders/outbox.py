"""The notifications table is the outbox of WeChat subscribe messages; no broker is needed.

Creating: each occasion's rows are inserted with ON CONFLICT DO NOTHING on ``(user_id, occasion)``,
so runs racing on several machines make one notification each.  Sending: a run claims a few due rows
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` lets one claimer at a time),
marks them ``sending`` and reserves one-time quota in the same transaction, commits, then calls
WeChat and settles each row in its own transaction.  A row left ``sending`` by a process killed
during the call is never sent again: after :data:`STALE_SENDING` it is settled ``failed`` ("result
unknown"), since WeChat may or may not have delivered it.
"""
import datetime as dt
import logging
import time

from flask import current_app
from sqlalchemy import and_, or_, select, update

from server.clock import SHANGHAI, utcnow
from server.database import in_ids, upsert
from server.extensions import db
from server.models import User
from server.models.notification import Notification, Subscription
from server.security import for_log
from server.services import scope
from server.services.people import wechat
from server.services.reminders import values, wechat_token

log = logging.getLogger(__name__)

STALE_SENDING = dt.timedelta(minutes=10)
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30))
PERMANENT = {47003, 40003, 40037}  # bad data, bad openid, bad template: sending again cannot help
TOKEN_INVALID = {40001, 42001}
NO_QUOTA = 43101
CLAIM = 5  # small: a run stops within a few calls of its time budget
INSERT = 400  # rows per insert and pairs per lookup (an OR of 400: within SQLite's depth limit)
INTERRUPTED = "发送过程中断（进程退出），微信是否送达未知，为免重复不再发送"


def quiet_until(moment):
    """The end of the quiet hours ``moment`` falls in (UTC), or None outside them."""
    hours = current_app.config["REMINDER_QUIET_HOURS"]
    if not hours:
        return None
    start, end = hours
    local = moment.astimezone(SHANGHAI)
    quiet = (local.hour >= start or local.hour < end) if start > end else start <= local.hour < end
    if not quiet:
        return None
    morning = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if morning <= local:
        morning += dt.timedelta(days=1)
    return morning.astimezone(dt.timezone.utc)


def _state(template, openid, subscription, quiet):
    """The WeChat state a new notification starts in."""
    if template is None or not openid or subscription is None:
        return "not_subscribed"
    quota, long_term = subscription
    if (long_term if template["long_term"] else quota > 0):
        return "quiet_hours" if quiet else "pending"
    return "no_quota"


def _insert(batch, now):
    # What is already there is left out first: a steady-state run (nothing new) then costs reads of
    # the unique index, not thousands of inserts that conflict.  ON CONFLICT still settles races.
    # (OR of pairs, not a row-value IN: SQLite scans the table for the latter, uses the index for this.)
    existing = set(db.session.execute(select(Notification.user_id, Notification.occasion).where(or_(*(
        and_(Notification.user_id == user_id, Notification.occasion == occasion.occasion)
        for occasion, user_id in batch)))).all())
    batch = [(occasion, user_id) for occasion, user_id in batch if (user_id, occasion.occasion) not in existing]
    if not batch:
        db.session.commit()
        return 0
    templates = current_app.config["WECHAT_TEMPLATES"]
    user_ids = sorted({user_id for _, user_id in batch})
    openids = dict(db.session.execute(select(User.id, User.openid).where(in_ids(User.id, user_ids, db.session))).all())
    subscriptions = {(user_id, template_id): (quota, long_term) for user_id, template_id, quota, long_term in
                     db.session.execute(select(Subscription.user_id, Subscription.template_id, Subscription.quota,
                                               Subscription.long_term)
                                        .where(in_ids(Subscription.user_id, user_ids, db.session)))}
    quiet = quiet_until(now)
    rows = []
    for occasion, user_id in sorted(batch, key=lambda item: (item[1], item[0].occasion)):  # one lock order
        template = templates.get(occasion.kind)
        state = _state(template, openids.get(user_id),
                       subscriptions.get((user_id, template["id"])) if template else None, quiet)
        rows.append({"user_id": user_id, "kind": occasion.kind, "occasion": occasion.occasion, "title": occasion.title,
                     "body": occasion.body, "object_type": occasion.object_type, "object_id": occasion.object_id,
                     "created_at": now, "read_at": None, "wechat": state,
                     "template_id": template["id"] if template else None, "values": occasion.values,
                     "send_after": (quiet or now) if state in ("pending", "quiet_hours") else None,
                     "attempts": 0, "quota_held": False})
    # RETURNING counts what was new on both databases (a multi-row insert's rowcount is not reliable).
    new = db.session.execute(upsert(Notification, db.session).values(rows)
                             .on_conflict_do_nothing(index_elements=["user_id", "occasion"])
                             .returning(Notification.id)).all()
    db.session.commit()
    return len(new)


def create(occasions, now):
    """Insert a notification per occasion and recipient that does not exist yet; how many were new."""
    created, batch = 0, []
    for occasion in occasions:
        batch.extend((occasion, user_id) for user_id in dict.fromkeys(occasion.user_ids))
        if len(batch) >= INSERT:
            created, batch = created + _insert(batch, now), []
    db.session.rollback()  # the finders' reads: no transaction held between batches
    if batch:
        created += _insert(batch, now)
    return created


def subscription_of(user_id, template_id):
    """The user's subscription row for a template, locked (quota moves under it), or None."""
    return db.session.scalar(scope.locked(select(Subscription).where(
        Subscription.user_id == user_id, Subscription.template_id == template_id)))


def _claim(now):
    """Up to :data:`CLAIM` due messages, marked ``sending`` with their quota reserved; committed."""
    templates = current_app.config["WECHAT_TEMPLATES"]
    ids = db.session.scalars(
        select(Notification.id).where(Notification.wechat.in_(("pending", "quiet_hours")),
                                      Notification.send_after <= now)
        .order_by(Notification.send_after, Notification.id).limit(CLAIM).with_for_update(skip_locked=True)).all()
    claimed, refused = [], 0
    for notification in (db.session.scalars(select(Notification).where(Notification.id.in_(ids))
                                            .order_by(Notification.id)) if ids else []):
        template = templates.get(notification.kind)
        openid = db.session.scalar(select(User.openid).where(User.id == notification.user_id))
        if template is None or template["id"] != notification.template_id or not openid:
            notification.wechat, refused = "not_subscribed", refused + 1
            continue
        subscription = subscription_of(notification.user_id, template["id"])
        if subscription is not None and not template["long_term"] and subscription.quota > 0:
            subscription.quota -= 1
            notification.quota_held = True
        elif subscription is None or not (template["long_term"] and subscription.long_term):
            notification.wechat, refused = "no_quota", refused + 1
            continue
        notification.wechat, notification.sending_at = "sending", now
        claimed.append({"id": notification.id, "openid": openid, "template": template, "values": notification.values,
                        "page": values.page(notification.object_type, notification.object_id)})
    db.session.commit()
    return claimed, refused


def _call(message, token):
    return wechat.call("/cgi-bin/message/subscribe/send", {
        "touser": message["openid"], "template_id": message["template"]["id"], "page": message["page"],
        "data": values.message_data(message["template"], message["values"]),
        "miniprogram_state": current_app.config["WECHAT_MINIPROGRAM_STATE"], "lang": "zh_CN"},
        params={"access_token": token})


def _deliver(message):
    """Send one claimed message: ``(outcome, WeChat's errmsg)``; outcome is sent, no_quota, failed or retry."""
    try:
        token = wechat_token.current()
        answer = _call(message, token)
        if answer["errcode"] in TOKEN_INVALID:  # re-read the stored token, refresh at most once
            answer = _call(message, wechat_token.renew(token))
    except wechat.Unreachable as error:
        return "retry", str(error)
    code, errmsg = answer["errcode"], str(answer.get("errmsg", ""))[:300]
    if code == 0:
        return "sent", None
    if code == NO_QUOTA:
        return "no_quota", f"{code} {errmsg}"
    if code in PERMANENT:
        log.warning("subscribe message %s failed for good: errcode=%s errmsg=%s", message["id"], code, for_log(errmsg))
        return "failed", f"{code} {errmsg}"
    if code in TOKEN_INVALID or code in (-1, 45009):
        return "retry", f"{code} {errmsg}"
    log.warning("subscribe message %s: unexpected errcode=%s errmsg=%s", message["id"], code, for_log(errmsg))
    return "failed", f"{code} {errmsg}"


def _settle(notification_id, outcome, error, now):
    notification = scope.lock(Notification, notification_id)
    subscription = subscription_of(notification.user_id, notification.template_id) if notification.template_id \
        else None
    held, notification.quota_held = notification.quota_held, False
    notification.wechat_error = error
    if outcome == "sent":
        notification.wechat, notification.sent_at = "sent", now
    elif outcome == "no_quota":
        notification.wechat = "no_quota"
        if subscription is not None:
            subscription.quota = 0
    else:
        if held and subscription is not None:  # not spent: a retry or a failure gives the quota back
            subscription.quota += 1
        notification.attempts += 1 if outcome == "retry" else 0
        if outcome == "retry" and notification.attempts <= len(BACKOFF):
            notification.wechat, notification.send_after = "pending", now + BACKOFF[notification.attempts - 1]
            outcome = "retried"
        else:
            notification.wechat = "failed"
            outcome = "failed"
    db.session.commit()
    return outcome


def send_due(now, budget_seconds, counts):
    """Send what is due until nothing is or the time is up; adds to ``counts``."""
    if not current_app.config.get("WECHAT_APPID"):
        return
    stale = db.session.execute(update(Notification).where(
        Notification.wechat == "sending", Notification.sending_at < now - STALE_SENDING)
        .values(wechat="failed", wechat_error=INTERRUPTED, quota_held=False)).rowcount
    counts["failed"] += stale
    quiet = quiet_until(now)
    if quiet:  # messages wait for the morning
        counts["deferred"] += db.session.execute(update(Notification).where(
            Notification.wechat == "pending", Notification.send_after <= quiet)
            .values(wechat="quiet_hours", send_after=quiet)).rowcount
        db.session.commit()
        return
    db.session.commit()
    stop_at = time.monotonic() + budget_seconds
    while time.monotonic() < stop_at:
        claimed, refused = _claim(utcnow())
        counts["no_quota"] += refused
        if not claimed and not refused:  # nothing due left (a batch of only unsendable rows is not the end)
            return
        for message in claimed:
            outcome, error = _deliver(message)
            counts[_settle(message["id"], outcome, error, utcnow())] += 1
