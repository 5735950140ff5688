"""The shop roster: registration, profile changes (with change requests), status, listing, history."""
from flask import current_app
from sqlalchemy import func, or_, select

from server.clock import today, utcnow
from server.errors import fail
from server.extensions import db
from server.geo import bounding_box, cells_covering, haversine_m
from server.models.audit import AuditEntry
from server.models.shop import Shop, ShopChangeRequest, ShopMember, ShopStatusChange
from server.pagination import paginate
from server.security import decrypt, encrypt, mask_phone
from server.services import audit, scope
from server.services.compliance import (FILTERS, MIN_EFFICIENCY, SHOP_COLUMNS, compliance_bulk, compliance_of, graded,
                                        matches, scale_of)

# Facts that decide a shop's obligations: an owner's change waits for staff approval.
OBLIGATION_FIELDS = ("cooking_heads", "purifier", "district_code", "lat", "lng")
DUPLICATE = "该店铺已登记（统一社会信用代码与地址相同），请向所在区县城管部门索取认领码认领"


def address_key(address):
    return "".join(address.split())


def check_location(lat, lng, field="lat"):
    south, west, north, east = current_app.config["CITY_BOUNDS"]
    if south <= lat <= north and west <= lng <= east:
        return
    if south <= lng <= north and west <= lat <= east:
        fail(422, fields={field: ["纬度和经度可能填反了，请检查"]})
    fail(422, fields={field: [f"坐标不在本市范围内（纬度 {south}–{north}，经度 {west}–{east}）"]})


def validate_profile(data):
    """Rules beyond the schema: district exists, coordinates are in the city."""
    if "district_code" in data:
        scope.check_district_codes([data["district_code"]], field="district_code")
    if "lat" in data or "lng" in data:
        check_location(data["lat"], data["lng"])


def _set(shop, data):
    for key, value in data.items():
        if key == "purifier":
            shop.purifier_installed = value["installed"]
            shop.purifier_model = value.get("model")
            shop.purifier_rated_efficiency = value.get("rated_efficiency")
        elif key == "contact_phone":
            shop.contact_phone_encrypted = encrypt(value)
        else:
            setattr(shop, key, value.strip() if isinstance(value, str) else value)
        if key == "address":
            shop.address_key = address_key(value)


def _duplicate(uscc, address, exclude_id=None):
    statement = select(Shop.id).where(Shop.uscc == uscc, Shop.address_key == address_key(address))
    if exclude_id:
        statement = statement.where(Shop.id != exclude_id)
    return db.session.scalar(statement) is not None


def new_shop(data, *, source, created_by):
    """A Shop built from validated data (not yet added); shared by registration and import."""
    shop = Shop(status="active", registered_on=today(), source=source, created_by_id=created_by.id,
                open_air_bbq=False)
    _set(shop, data)
    return shop


def register(user, data):
    """登记店铺.  A plain user becomes its manager; staff create it unclaimed (patrol)."""
    if user.role in ("collector", "collector_manager"):
        fail(403, "收运单位人员不能登记店铺")
    validate_profile(data)
    if user.is_staff and not user.covers(data["district_code"]):
        fail(403, "不能在您的辖区之外登记店铺")
    if _duplicate(data["uscc"], data["address"]):
        fail(409, DUPLICATE)
    shop = new_shop(data, source="patrol" if user.is_staff else "registration", created_by=user)
    db.session.add(shop)
    db.session.flush()
    if not user.is_staff:
        shop.claimed_at = utcnow()
        db.session.add(ShopMember(shop_id=shop.id, user_id=user.id, role="manager"))
    audit.record("shop.create", "shop", shop.id, f"登记店铺 {shop.name}（{shop.uscc}，{shop.address}）"
                 + ("，待认领" if user.is_staff else "，登记人为负责人"), shop_id=shop.id)
    db.session.commit()
    return shop


def as_dict(shop, viewer, distance=None, compliance=None):
    """The shop as ``viewer`` may see it, with its compliance today (computed unless given)."""
    return as_dicts([(shop, distance)], viewer,
                    {shop.id: compliance if compliance is not None else compliance_of(shop)})[0]


def as_dicts(pairs, viewer, graded):
    """``(shop, distance)`` pairs as ``viewer`` may see them, graded by ``graded[shop.id]``; the
    pending change requests and the viewer's memberships are read once for all of them."""
    ids = [shop.id for shop, _ in pairs]
    pending = dict(db.session.execute(select(ShopChangeRequest.shop_id, func.min(ShopChangeRequest.id)).where(
        ShopChangeRequest.shop_id.in_(ids), ShopChangeRequest.status == "pending")
        .group_by(ShopChangeRequest.shop_id)).all()) if ids else {}
    member_of = set(db.session.scalars(select(ShopMember.shop_id).where(
        ShopMember.shop_id.in_(ids), ShopMember.user_id == viewer.id))) if ids else set()
    return [_body(shop, viewer, distance, graded[shop.id], pending.get(shop.id), shop.id in member_of)
            for shop, distance in pairs]


def _body(shop, viewer, distance, compliance, pending, is_member):
    phone = decrypt(shop.contact_phone_encrypted)
    scale = scale_of(shop.cooking_heads)
    body = {
        "id": shop.id, "name": shop.name, "uscc": shop.uscc, "address": shop.address,
        "district_code": shop.district_code, "street": shop.street, "lat": shop.lat, "lng": shop.lng,
        "cooking_heads": shop.cooking_heads, "scale": scale, "open_air_bbq": shop.open_air_bbq,
        "contact_name": shop.contact_name,
        "contact_phone": phone if is_member or viewer.covers(shop.district_code) else mask_phone(phone),
        "purifier": {"installed": shop.purifier_installed, "model": shop.purifier_model,
                     "rated_efficiency": shop.purifier_rated_efficiency,
                     "min_efficiency": MIN_EFFICIENCY[scale],
                     "undersized": bool(shop.purifier_installed and shop.purifier_rated_efficiency is not None
                                        and shop.purifier_rated_efficiency < MIN_EFFICIENCY[scale])},
        "status": shop.status, "status_reason": shop.status_reason,
        "status_effective_on": shop.status_effective_on, "claimed": shop.claimed,
        "registered_on": shop.registered_on, "source": shop.source, "pending_change_request_id": pending,
        "compliance": compliance,
    }
    if distance is not None:
        body["distance_m"] = round(distance, 1)
    return body


def _like(text):
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_shops(user, args):
    statement = scope.shops_visible_to(user).order_by(Shop.id)
    for key in ("district_code", "status"):
        if key in args:
            statement = statement.where(getattr(Shop, key) == args[key])
    if "claimed" in args:
        statement = statement.where(Shop.claimed_at.is_not(None) if args["claimed"] else Shop.claimed_at.is_(None))
    if args.get("q"):
        pattern = _like(args["q"].strip())
        statement = statement.where(or_(Shop.name.ilike(pattern, escape="\\"),
                                        Shop.address.ilike(pattern, escape="\\"),
                                        Shop.uscc.ilike(pattern, escape="\\")))
    wanted = {key: args[key] for key in FILTERS if key in args}
    if "near" in args:
        lat, lng = (float(x) for x in args["near"].split(","))
        south, west, north, east = bounding_box(lat, lng, args["radius_m"])
        statement = statement.where(Shop.geo_cell.in_(cells_covering(south, west, north, east)),
                                    Shop.lat.between(south, north), Shop.lng.between(west, east))
        rows = sorted(((haversine_m(lat, lng, s.lat, s.lng), s) for s in db.session.scalars(statement)),
                      key=lambda pair: (pair[0], pair[1].id))
        rows = [pair for pair in rows if pair[0] <= args["radius_m"]]
    elif wanted:
        rows = [(None, shop) for shop in db.session.scalars(statement)]
    else:
        rows = statement
    if wanted:
        # Filtering by compliance grades the whole selection in one pass (a subquery, not a list of
        # ids: it may be the whole city); otherwise only the page returned is graded.
        graded = compliance_bulk(statement.with_only_columns(Shop.id).order_by(None)) if rows else {}
        rows = [(d, s) for d, s in rows if matches(graded[s.id], wanted)]
    page = paginate(rows, args)
    if isinstance(rows, list):
        pairs = page["items"]
    else:
        pairs = [(None, shop) for shop in page["items"]]
    if not wanted:
        graded = compliance_bulk([shop.id for _, shop in pairs])
    page["items"] = as_dicts([(shop, distance) for distance, shop in pairs], user, graded)
    return page


def patrol(user, args):
    """The inspector's active shops near it: highest priority first, then nearest."""
    south, west, north, east = bounding_box(args["lat"], args["lng"], args["radius_m"])
    statement = scope.shops_visible_to(user).where(Shop.geo_cell.in_(cells_covering(south, west, north, east)),
                                                   Shop.lat.between(south, north), Shop.lng.between(west, east))
    # Grade every shop within the radius (priority needs them all), from the same query that found
    # them (their stored facts joined), but load whole shops only for the page.
    rows, grades = [], {}
    for row, compliance in graded(statement.with_only_columns(*SHOP_COLUMNS, Shop.lat, Shop.lng)):
        distance = haversine_m(args["lat"], args["lng"], row.lat, row.lng)
        if distance <= args["radius_m"] and compliance["active"]:
            rows.append((-compliance["priority"], distance, row.id))
            grades[row.id] = compliance
    page = paginate(sorted(rows), args)
    shops = {shop.id: shop for shop in db.session.scalars(
        select(Shop).where(Shop.id.in_([shop_id for _, _, shop_id in page["items"]])))}
    page["items"] = as_dicts([(shops[shop_id], distance) for _, distance, shop_id in page["items"]], user, grades)
    return page


def _current(shop, field):
    if field == "purifier":
        return {"installed": shop.purifier_installed, "model": shop.purifier_model,
                "rated_efficiency": shop.purifier_rated_efficiency}
    if field == "contact_phone":
        return decrypt(shop.contact_phone_encrypted)
    return getattr(shop, field)


def update(user, shop, data):
    """PATCH: the manager's obligation facts become a change request (202); the rest apply now."""
    role = scope.membership(user, shop.id)
    is_regulator = user.role in ("regulator", "admin") and user.covers(shop.district_code)
    if role != "manager" and not is_regulator:
        fail(403, "只有店铺负责人或监管人员可以修改店铺信息")
    if "purifier" in data:
        data["purifier"] = {"installed": data["purifier"]["installed"], "model": data["purifier"].get("model"),
                            "rated_efficiency": data["purifier"].get("rated_efficiency")}
    if ("lat" in data) != ("lng" in data):
        fail(422, fields={"lat": ["lat 与 lng 须同时修改"]})
    validate_profile(data)
    if is_regulator and "district_code" in data and not user.covers(data["district_code"]):
        fail(403, "不能把店铺移到您的辖区之外")
    if "address" in data and _duplicate(shop.uscc, data["address"], exclude_id=shop.id):
        fail(409, DUPLICATE)
    changed = {k: v for k, v in data.items() if _current(shop, k) != v}
    held = {k: v for k, v in changed.items() if k in OBLIGATION_FIELDS} if not is_regulator else {}
    now_apply = {k: v for k, v in changed.items() if k not in held}
    if now_apply:
        summary = "; ".join(f"{k}: {'***' if k == 'contact_phone' else _current(shop, k)} → "
                            f"{'***' if k == 'contact_phone' else v}" for k, v in now_apply.items())
        _set(shop, now_apply)
        audit.record("shop.update", "shop", shop.id, summary, shop_id=shop.id)
    request = None
    if held:
        request = ShopChangeRequest(shop_id=shop.id, requested_by_id=user.id, changes=held,
                                    previous={k: _current(shop, k) for k in held})
        db.session.add(request)
        db.session.flush()
        audit.record("shop.change_request", "change_request", request.id,
                     "申请变更：" + "; ".join(f"{k}: {request.previous[k]} → {v}" for k, v in held.items()),
                     shop_id=shop.id)
    db.session.commit()
    return request


def apply_change_request(shop, request):
    _set(shop, request.changes)


def set_status(user, shop, data):
    scope.require_staff(user, shop, roles=("inspector", "regulator", "admin"))
    before = shop.status
    shop.status, shop.status_reason, shop.status_effective_on = data["status"], data["reason"], data["effective_on"]
    db.session.add(ShopStatusChange(shop_id=shop.id, status=data["status"], reason=data["reason"],
                                    effective_on=data["effective_on"], changed_by_id=user.id))
    audit.record("shop.status", "shop", shop.id,
                 f"营业状态 {before} → {data['status']}，自 {data['effective_on']} 起：{data['reason']}",
                 shop_id=shop.id)
    db.session.commit()
    return shop


def history(user, shop, args):
    """The shop's audit trail, newest first (regulator, admin, inspector in jurisdiction)."""
    scope.require_staff(user, shop)
    statement = select(AuditEntry).where(AuditEntry.shop_id == shop.id).order_by(AuditEntry.id.desc())
    page = paginate(statement, args)
    # As plain values before the commit below expires the loaded rows (no reload per entry).
    page["items"] = [{"at": e.at, "actor_id": e.actor_id, "action": e.action, "object_type": e.object_type,
                      "object_id": e.object_id, "summary": e.summary} for e in page["items"]]
    audit.record("shop.history_read", "shop", shop.id, "查看店铺操作记录", shop_id=shop.id)
    db.session.commit()
    return page
