"""Citizen complaints (投诉): filed by any WeChat user (or an Open311 partner), triaged by staff of the
district — linked to a shop, marked a duplicate, not the bureau's matter, closed with a reply, or
made a case (``source: complaint``).

    open ──► linked ──► case ──► closed
      │        │          (close with a public reply)
      └────────┴──► duplicate | not_ours | closed     (ended: nothing more)

Citizens see their own, with the status and staff's public reply — never staff names or phones.
"""
import datetime as dt

from flask import current_app
from sqlalchemy import func, select, update

from server import database
from server.clock import end_of_day, start_of_day, today, utcnow
from server.errors import fail
from server.extensions import db
from server.geo import bounding_box, haversine_m
from server.models.complaint import STILL_OPEN, Complaint
from server.models.inspection import Case, CaseEvent
from server.models.shop import Shop
from server.pagination import paginate
from server.security import encrypt
from server.services import audit, photos, places, scope
from server.services.roster.listing import around
from server.services.roster.shops import check_location

NEARBY_M, DUPLICATE_M = 100, 50
DUPLICATE_WINDOW = dt.timedelta(days=7)
PER_DAY = 10
ENDED = ("duplicate", "not_ours", "closed")


def nearby_shops(lat, lng, radius_m=NEARBY_M):
    """Active shops within ``radius_m``, nearest first: ``[(distance, shop)]``."""
    shops = db.session.scalars(select(Shop).where(*around(lat, lng, radius_m), Shop.status == "active")).all()
    found = sorted(((haversine_m(lat, lng, shop.lat, shop.lng), shop.id, shop) for shop in shops))
    return [(distance, shop) for distance, _id, shop in found if distance <= radius_m]


def possible_duplicate(category, lat, lng, now):
    """The nearest still-open complaint of the category within 50 m of the last 7 days (newest if equally near)."""
    south, west, north, east = bounding_box(lat, lng, DUPLICATE_M)
    rows = db.session.scalars(select(Complaint).where(
        Complaint.category == category, Complaint.status.in_(STILL_OPEN), Complaint.created_at >= now - DUPLICATE_WINDOW,
        Complaint.lat.between(south, north), Complaint.lng.between(west, east))).all()
    near = [(haversine_m(lat, lng, c.lat, c.lng), -c.created_at.timestamp(), -c.id, c) for c in rows]
    near = [item for item in near if item[0] <= DUPLICATE_M]
    return min(near)[3].id if near else None


def _daily_limit(user):
    # One citizen's filings are counted one at a time: parallel posts cannot all pass the count before
    # any of them is stored (on SQLite every write transaction is one at a time already).
    database.one_at_a_time(db.session, f"complaints-of:{user.id}")
    since = start_of_day(today())
    count = db.session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.user_id == user.id, Complaint.created_at >= since))
    if count >= PER_DAY:
        wait = max(1, int((end_of_day(today()) - utcnow()).total_seconds()))
        fail(429, f"每人每天最多提交 {PER_DAY} 条投诉，请明天再试", headers={"Retry-After": str(wait)})


def file(data, *, user=None, partner=None):
    """A new complaint, with what is near it; ``user`` a citizen (mini-program) or ``partner`` (Open311)."""
    if user is not None:
        _daily_limit(user)
    lat, lng = data.get("lat"), data.get("lng")
    if lat is not None:
        check_location(lat, lng)
    near = nearby_shops(lat, lng) if lat is not None else []
    district = data.get("district_code")
    if district is not None:
        scope.check_district_codes([district], field="district_code")
    shop_id = data.get("shop_id")
    if shop_id is not None:
        shop = db.session.get(Shop, shop_id)
        if shop is None or shop.status != "active":
            fail(422, fields={"shop_id": ["店铺不存在或已停业"]})
        # One rule: a complaint's shop lies in its district (whoever sees the shop's flag sees the complaint).
        if district is not None and district != shop.district_code:
            fail(422, fields={"shop_id": ["店铺不在所选区县，请核对店铺或区县"]})
        district = shop.district_code
    if district is None:
        if lat is None:
            fail(422, fields={"district_code": ["请选择所在区县，或提供投诉地点的坐标"]})
        district = places.place(lat, lng)  # the boundary that holds the point; no shop need be near
    now = utcnow()
    complaint = Complaint(
        user_id=user.id if user else None, partner_key_id=partner.id if partner else None, category=data["category"],
        description=data["description"], district_code=district, lat=lat, lng=lng, address=data.get("address"),
        media_url=data.get("media_url"), shop_id=shop_id, status="open",
        contact_phone_encrypted=encrypt(data["contact_phone"]) if data.get("contact_phone") else None,
        possible_duplicate_of_id=possible_duplicate(data["category"], lat, lng, now) if lat is not None else None,
        created_at=now, updated_at=now)
    db.session.add(complaint)
    db.session.flush()
    if data.get("photo_ids"):
        photos.attach(data["photo_ids"], "complaint", complaint.id, "evidence", uploaders=[user.id])
    audit.record("complaint.create", "complaint", complaint.id,
                 f"收到投诉（{'合作方 ' + partner.name if partner else '小程序'}）", shop_id=shop_id)
    db.session.commit()
    complaint.nearby = [{"id": shop.id, "name": shop.name, "distance_m": round(distance, 1)} for distance, shop in near]
    return complaint


def mine(user, args):
    return paginate(select(Complaint).where(Complaint.user_id == user.id).order_by(Complaint.id.desc()), args)


def list_for(user, args):
    statement = scope.complaints_visible_to(user)
    for column, key in ((Complaint.status, "status"), (Complaint.district_code, "district_code"),
                        (Complaint.category, "category"), (Complaint.shop_id, "shop_id")):
        if args.get(key):
            statement = statement.where(column == args[key])
    statement = scope.in_area(statement, Complaint.shop_id, {"street": args.get("street")})
    return paginate(statement.order_by(Complaint.id if args.get("sort") == "id" else Complaint.id.desc()), args)


def get(user, complaint_id):
    return scope.get_complaint_for(user, complaint_id)


def _shop_in_district(user, complaint, shop_id):
    """A shop the caller sees, in the complaint's district (whoever sees its flag sees the complaint)."""
    shop = scope.get_shop_for(user, shop_id)
    if shop.district_code != complaint.district_code:
        fail(422, fields={"shop_id": ["店铺须在投诉所在区县"]})
    return shop


def _load_for_duplicate(user, complaint_id, original_id):
    """The complaint and the one it repeats, both locked.  Markings of duplicates go one at a time
    (a marking may re-point others), and rows are locked in id order, so A→B and B→A at once
    neither deadlock nor both succeed: the second finds the first done."""
    if original_id == complaint_id:
        scope.get_complaint_for(user, complaint_id)  # 404 before anything about it is said
        fail(422, fields={"duplicate_of": ["不能标记为与自身重复"]})
    database.one_at_a_time(db.session, "complaint-duplicates")
    loaded = {}
    for ident in sorted((complaint_id, original_id)):
        loaded[ident] = scope.get_complaint_for(user, ident, lock=True)
    return loaded[complaint_id], loaded[original_id]


def _root(user, complaint, original):
    """What ``complaint`` is a duplicate of: ``original``, or the complaint ``original`` repeats — a
    root is never itself a duplicate, so nobody's matter is left without someone handling it."""
    root = original
    if original.status == "duplicate":
        root = scope.get_complaint_for(user, original.duplicate_of_id, lock=True)
    if root.id == complaint.id:
        fail(422, fields={"duplicate_of": [f"投诉 #{original.id} 已被标记为与本投诉重复，不能互相标记"]})
    return root


def triage(user, complaint_id, data):
    """Staff of the district decide: ``{"complaint", "case_id"}``."""
    if not user.is_staff:
        fail(403, "只有执法与监管人员可以处理投诉")
    action = data["action"]
    if action == "duplicate":
        complaint, original = _load_for_duplicate(user, complaint_id, data["duplicate_of"])
    else:
        complaint = scope.get_complaint_for(user, complaint_id, lock=True)
    if complaint.status in ENDED or (complaint.status == "case" and action != "close"):
        fail(409, "该投诉已处理" + ("，只能结案" if complaint.status == "case" else ""))
    if action == "link_shop":
        complaint.shop_id, complaint.status = _shop_in_district(user, complaint, data["shop_id"]).id, "linked"
    elif action == "duplicate":
        root = _root(user, complaint, original)
        complaint.duplicate_of_id, complaint.status = root.id, "duplicate"
        # Those that repeated this one now repeat its root.
        db.session.execute(update(Complaint).where(Complaint.duplicate_of_id == complaint.id)
                           .values(duplicate_of_id=root.id, updated_at=utcnow()))
    elif action == "not_ours":
        complaint.status, complaint.reason = "not_ours", data["reason"]
    elif action == "case":
        if data.get("shop_id"):
            complaint.shop_id = _shop_in_district(user, complaint, data["shop_id"]).id
        complaint.case_id, complaint.status = _open_case(user, complaint), "case"
    else:
        complaint.status = "closed"
    if data.get("reply"):
        complaint.reply = data["reply"]
    complaint.triaged_at = complaint.triaged_at or utcnow()
    complaint.triaged_by_id, complaint.updated_at = user.id, utcnow()
    audit.record("complaint.triage", "complaint", complaint.id, f"投诉处理：{action}", shop_id=complaint.shop_id)
    db.session.commit()
    return {"complaint": complaint, "case_id": complaint.case_id}


def _open_case(user, complaint):
    case = Case(shop_id=complaint.shop_id, source="complaint", source_id=complaint.id, status="accepted",
                district_code=complaint.district_code, created_by_id=user.id, created_at=utcnow(),
                deadline=today() + dt.timedelta(days=current_app.config["CASE_DAYS"]))
    db.session.add(case)
    db.session.flush()
    db.session.add(CaseEvent(case_id=case.id, from_status=None, to_status="accepted", actor_id=user.id, at=utcnow(),
                             note=f"由市民投诉 #{complaint.id} 立案"))
    audit.record("case.create", "case", case.id, f"由市民投诉 #{complaint.id} 立案", shop_id=complaint.shop_id)
    return case.id
