"""整改通知: the life of an order.

    open ──acknowledge (送达, once)──► open
    open ──respond (member: note + photos)──► submitted
    submitted ──review accepted (inspector)──► closed
    submitted ──review rejected (inspector)──► open, new deadline (today + 3 days)
    overdue = open and past its deadline (derived, never stored)
Anything else is 409.
"""
import datetime as dt

from flask import current_app
from sqlalchemy.orm import selectinload

from server.clock import business_date, today, utcnow
from server.errors import fail
from server.extensions import db
from server.models.inspection import Inspection, Rectification, RectificationEvent
from server.models.shop import Shop
from server.pagination import paginate
from server.roles import INSPECTOR_ROLES
from server.services import audit, photos, scope
from server.services.compliance import order_overdue
from server.services.enforcement import by_status
from server.services.roster import reference


def is_overdue(order, on=None):
    return order_overdue(order.status, order.deadline, on or today())


def _event(order, user, action, note=None, deadline=None, reinspection_id=None):
    event = RectificationEvent(rectification_id=order.id, action=action, actor_id=user.id, at=utcnow(), note=note,
                               deadline=deadline, reinspection_id=reinspection_id)
    db.session.add(event)
    db.session.flush()
    return event


def open_order(user, shop, inspection, failed_codes):
    deadline = business_date(inspection.inspected_at) + dt.timedelta(days=current_app.config["RECTIFICATION_DAYS"])
    order = Rectification(shop_id=shop.id, inspection_id=inspection.id, items=failed_codes, status="open",
                          deadline=deadline, created_at=utcnow())
    db.session.add(order)
    db.session.flush()
    _event(order, user, "created", deadline=deadline)
    audit.record("rectification.create", "rectification", order.id,
                 f"下达整改通知：{reference.items_text(failed_codes)}，期限 {deadline}", shop_id=shop.id)
    return order


def _load(user, order_id):
    order = scope.get_order_for(user, order_id, lock=True)  # every caller transitions it
    return order, db.session.get(Shop, order.shop_id)


def _member(user, order):
    if not scope.membership(user, order.shop_id):
        fail(403, "只有本店成员可以签收或答复整改通知")


def acknowledge(user, order_id):
    order, shop = _load(user, order_id)
    _member(user, order)
    if order.acknowledged_at is not None:
        fail(409, "该整改通知已签收")
    order.acknowledged_at, order.acknowledged_by_id = utcnow(), user.id
    _event(order, user, "acknowledged")
    audit.record("rectification.acknowledge", "rectification", order.id, "店铺签收整改通知（送达）", shop_id=shop.id)
    db.session.commit()
    return order


def respond(user, order_id, data):
    order, shop = _load(user, order_id)
    _member(user, order)
    if order.status != "open":
        fail(409, {"submitted": "整改答复已提交，正在等待执法人员审核",
                   "closed": "该整改通知已结案，不能再答复"}[order.status])
    if order.acknowledged_at is None:  # answering is receipt too
        order.acknowledged_at, order.acknowledged_by_id = utcnow(), user.id
        _event(order, user, "acknowledged")
    event = _event(order, user, "responded", note=data["note"])
    photos.attach(data["photo_ids"], "rectification_event", event.id, "response",
                  uploaders=scope.member_ids(shop.id))
    order.status = "submitted"
    audit.record("rectification.respond", "rectification", order.id, f"店铺提交整改答复：{data['note']}",
                 shop_id=shop.id)
    db.session.commit()
    return order


def review(user, order_id, data):
    order, shop = _load(user, order_id)
    if not user.is_staff:
        fail(403, "整改须由执法人员审核，店铺不能自行审核")
    scope.require_staff(user, shop, roles=INSPECTOR_ROLES)
    if order.status != "submitted":
        fail(409, {"open": "店铺尚未提交整改答复，不能审核", "closed": "该整改通知已结案"}[order.status])
    reinspection_id = data.get("reinspection_id")
    if reinspection_id is not None:
        reinspection = db.session.get(Inspection, reinspection_id)
        if reinspection is None or reinspection.shop_id != shop.id:
            fail(422, fields={"reinspection_id": ["复查记录须为本店的检查记录"]})
    if data["accepted"]:
        order.status, order.closed_at = "closed", utcnow()
        _event(order, user, "accepted", note=data.get("note"), reinspection_id=reinspection_id)
        summary = "整改验收通过，结案"
    else:
        order.status = "open"
        order.deadline = today() + dt.timedelta(days=current_app.config["RECTIFICATION_RETRY_DAYS"])
        _event(order, user, "rejected", note=data.get("note"), deadline=order.deadline, reinspection_id=reinspection_id)
        summary = f"整改未通过，退回重新整改，新期限 {order.deadline}"
    audit.record("rectification.review", "rectification", order.id,
                 summary + (f"：{data['note']}" if data.get("note") else ""), shop_id=shop.id)
    db.session.commit()
    return order


def list_for(user, args):
    statement = by_status(scope.orders_visible_to(user), Rectification, args.get("status"), order_overdue)
    statement = statement.options(selectinload(Rectification.events))
    if "shop_id" in args:
        statement = statement.where(Rectification.shop_id == args["shop_id"])
    statement = scope.in_area(statement, Rectification.shop_id, args)
    return paginate(statement.order_by(Rectification.deadline, Rectification.id), args)
