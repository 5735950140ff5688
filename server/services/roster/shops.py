"""The shop roster's commands: registration, profile changes (with change requests), status.

Reading the roster (lists, patrol, history) is :mod:`listing`."""
from flask import current_app
from sqlalchemy import select

from server.clock import today, utcnow
from server.errors import fail
from server.extensions import db
from server.labels import changes_text, label
from server.models.shop import Shop, ShopChangeRequest, ShopMember, ShopStatusChange
from server.roles import COLLECTOR_ROLES, REGULATOR_ROLES
from server.security import decrypt, encrypt
from server.services import audit, scope

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
    if user.role in COLLECTOR_ROLES:
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


def _current(shop, field):
    if field == "purifier":
        return {"installed": shop.purifier_installed, "model": shop.purifier_model,
                "rated_efficiency": shop.purifier_rated_efficiency}
    if field == "contact_phone":
        return decrypt(shop.contact_phone_encrypted)
    return getattr(shop, field)


def update(user, shop_id, data):
    """PATCH: the manager's obligation facts become a change request (202); the rest apply now.
    Returns ``(shop, change request or None)``."""
    shop = scope.get_shop_for(user, shop_id, lock=True)
    role = scope.membership(user, shop.id)
    is_regulator = user.role in REGULATOR_ROLES and user.covers(shop.district_code)
    if role != "manager" and not is_regulator:
        fail(403, "只有店铺负责人或监管人员可以修改店铺信息")
    if "purifier" in data:  # a PATCH may name some of the purifier's fields: the rest stay as they are
        data["purifier"] = {**_current(shop, "purifier"), **data["purifier"]}
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
        summary = changes_text(now_apply, {k: _current(shop, k) for k in now_apply})
        _set(shop, now_apply)
        audit.record("shop.update", "shop", shop.id, summary, shop_id=shop.id)
    request = None
    if held:
        request = ShopChangeRequest(shop_id=shop.id, requested_by_id=user.id, changes=held,
                                    previous={k: _current(shop, k) for k in held})
        db.session.add(request)
        db.session.flush()
        audit.record("shop.change_request", "change_request", request.id,
                     "申请变更：" + changes_text(held, request.previous),
                     shop_id=shop.id)
    db.session.commit()
    return shop, request


def apply_change_request(shop, request):
    _set(shop, request.changes)


def set_status(user, shop_id, data):
    shop = scope.get_shop_for(user, shop_id)
    scope.require_staff(user, shop)
    before = shop.status
    shop.status, shop.status_reason, shop.status_effective_on = data["status"], data["reason"], data["effective_on"]
    db.session.add(ShopStatusChange(shop_id=shop.id, status=data["status"], reason=data["reason"],
                                    effective_on=data["effective_on"], changed_by_id=user.id))
    audit.record("shop.status", "shop", shop.id,
                 f"营业状态 {label('shop_status', before)} → {label('shop_status', data['status'])}，"
                 f"自 {data['effective_on']} 起：{data['reason']}",
                 shop_id=shop.id)
    db.session.commit()
    return shop
