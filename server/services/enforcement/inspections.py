"""一店三查 inspections on patrol: one answer per checklist item, GPS distance, photos per failure."""

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.clock import CLOCK_SLACK, business_date, end_of_day, start_of_day, utcnow
from server.errors import fail
from server.extensions import db
from server.geo import haversine_m
from server.models.inspection import Inspection, InspectionItem, Rectification
from server.models.shop import Shop
from server.models.user import User
from server.pagination import paginate
from server.roles import INSPECTOR_ROLES, REGULATOR_ROLES
from server.services import audit, photos, places, records, scope
from server.services.enforcement import rectifications
from server.services.roster import reference


def _check_items(items, checklist, shop):
    codes = [item.code for item in checklist.items]
    given = [i["code"] for i in items]
    errors = []
    unknown = sorted(set(given) - set(codes))
    if unknown:
        errors.append("未知的检查项：" + "、".join(unknown))
    repeated = sorted({c for c in given if given.count(c) > 1})
    if repeated:
        errors.append("检查项重复：" + "、".join(repeated))
    missing = [c for c in codes if c not in given]
    if missing:
        errors.append("以下检查项未作答：" + "、".join(missing))
    if errors:
        fail(422, fields={"items": errors})
    for index, item in enumerate(items):
        if item["result"] == "fail":
            if not (item.get("note") or "").strip():
                fail(422, fields={f"items.{index}.note": [f"{item['code']} 不合格，请填写说明"]})
            if not item.get("photo_ids"):
                fail(422, fields={f"items.{index}.photo_ids": [f"{item['code']} 不合格，请至少附一张照片"]})


def _co_inspector(user, shop, co_id):
    if co_id is None:
        return None
    co = db.session.get(User, co_id)
    if co is None or co.id == user.id or co.disabled or co.role != "inspector" or not co.covers(shop.district_code):
        fail(422, fields={"co_inspector_id": ["协同执法人员须为本辖区的另一名执法人员"]})
    return co


def file(user, shop_id, data):
    """Record an inspection; any failed item opens a rectification order in the same transaction."""
    shop = scope.get_shop_for(user, shop_id)
    scope.require_staff(user, shop, roles=INSPECTOR_ROLES)
    now = utcnow()
    if data["inspected_at"] > now + CLOCK_SLACK:
        fail(422, fields={"inspected_at": ["检查时间不能晚于现在"]})
    co = _co_inspector(user, shop, data.get("co_inspector_id"))
    checklist = reference.current_checklist()
    _check_items(data["items"], checklist, shop)
    distance = haversine_m(data["lat"], data["lng"], shop.lat, shop.lng)
    located = places.district_at(data["lat"], data["lng"])  # a GPS point beyond the city is kept, not refused
    inspection = Inspection(
        shop_id=shop.id, inspector_id=user.id, co_inspector_id=co.id if co else None,
        checklist_version_id=checklist.id, inspected_at=data["inspected_at"], received_at=now,
        late_entry=records.is_late(business_date(data["inspected_at"]), now), lat=data["lat"], lng=data["lng"],
        distance_m=round(distance, 1), located_in=located, far_from_shop=distance > current_app.config["INSPECTION_FAR_METRES"],
        note=data.get("note"))
    db.session.add(inspection)
    db.session.flush()
    uploaders = {user.id} | ({co.id} if co else set())
    for index, item in enumerate(data["items"]):
        db.session.add(InspectionItem(inspection_id=inspection.id, code=item["code"], result=item["result"],
                                      note=item.get("note")))
        if item.get("photo_ids"):
            photos.attach(item["photo_ids"], "inspection", inspection.id, item["code"], uploaders=uploaders,
                          field=f"items.{index}.photo_ids", roles_may_share=True)
    failed = [i["code"] for i in data["items"] if i["result"] == "fail"]
    if failed:
        rectifications.open_order(user, shop, inspection, failed)
    audit.record("inspection.create", "inspection", inspection.id,
                 f"一店三查：{len(failed)} 项不合格" + (f"（{reference.items_text(failed)}）" if failed else "")
                 + f"，距店铺 {inspection.distance_m:.0f} 米" + ("（偏远）" if inspection.far_from_shop else "")
                 + (f"，检查地点在{places.name_of(located)}" if located not in (None, shop.district_code) else ""),
                 shop_id=shop.id)
    db.session.commit()
    return inspection


def void(user, inspection_id, reason):
    inspection = scope.get_inspection_for(user, inspection_id, lock=True)
    if user.role not in REGULATOR_ROLES:
        fail(403, "只有监管人员可以作废检查记录")
    if inspection.voided_at is not None:
        fail(409, "该检查记录已作废")
    inspection.voided_at, inspection.voided_by_id, inspection.void_reason = utcnow(), user.id, reason
    audit.record("inspection.void", "inspection", inspection.id, f"作废检查记录：{reason}",
                 shop_id=inspection.shop_id)
    db.session.commit()
    return inspection


def reinspections(inspections):
    """``{inspection id: [{rectification_id, items}]}``: for each order of the shop still open when
    the inspection was filed, its failed items as this inspection found them (one query a page)."""
    shop_ids = {inspection.shop_id for inspection in inspections}
    open_orders = db.session.scalars(select(Rectification).where(
        Rectification.shop_id.in_(shop_ids), Rectification.status != "closed").order_by(Rectification.id)).all()
    found = {}
    for inspection in inspections:
        results = {item.code: item.result for item in inspection.items}
        found[inspection.id] = [
            {"rectification_id": order.id, "items": {code: results.get(code) for code in order.items}}
            for order in open_orders if order.shop_id == inspection.shop_id and order.inspection_id != inspection.id
            and order.created_at < inspection.received_at]
    return found


def list_for(user, args, shop_id=None):
    statement = scope.inspections_visible_to(user)
    if shop_id is not None:
        shop = scope.get_shop_for(user, shop_id)
        if not scope.membership(user, shop.id):
            scope.require_staff(user, shop)
        statement = statement.where(Inspection.shop_id == shop.id)
    else:
        if not user.is_staff:
            fail(403, "没有权限查看检查记录")
        if "district_code" in args:
            statement = statement.where(Inspection.shop_id.in_(
                select(Shop.id).where(Shop.district_code == args["district_code"])))
    if "from_" in args:
        statement = statement.where(Inspection.inspected_at >= start_of_day(args["from_"]))
    if "to" in args:
        statement = statement.where(Inspection.inspected_at < end_of_day(args["to"]))
    statement = statement.options(selectinload(Inspection.items),
                                  selectinload(Inspection.rectification).selectinload(Rectification.events))
    return paginate(statement.order_by(Inspection.inspected_at.desc(), Inspection.id.desc()), args)
