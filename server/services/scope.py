"""What a caller may see.  Every read of a scoped object goes through here, so nothing can
forget the scope; an object outside it is a 404, never the object.

Later features add their loaders here (``shops_visible_to`` and friends) in the same way.
"""
from sqlalchemy import select

from server.errors import fail
from server.extensions import db
from server.models.collector import CollectorCompany
from server.models.reference import District
from server.models.user import COLLECTOR_ROLES, User


def known_district_codes():
    return set(db.session.scalars(select(District.code)))


def check_district_codes(codes, field="jurisdiction"):
    """422 when ``codes`` names a district that does not exist."""
    unknown = sorted(set(codes) - known_district_codes())
    if unknown:
        fail(422, fields={field: ["未知的区县代码：" + "、".join(unknown)]})


def within_jurisdiction(actor, codes):
    """Whether every district in ``codes`` lies in the staff member's jurisdiction."""
    return actor.jurisdiction is None or set(codes) <= set(actor.jurisdiction)


def company_in_jurisdiction(actor, company):
    return actor.jurisdiction is None or bool(set(company.districts) & set(actor.jurisdiction))


def user_visible_to(actor, user):
    """Staff lifecycle scope: admins see every account with a role; a regulator sees the
    inspectors inside its jurisdiction and the collectors of companies serving it —
    never admins or other regulators."""
    if user.role == "user" and user.id != actor.id and actor.role != "admin":
        return False
    if actor.role == "admin":
        return True
    if actor.role != "regulator":
        return False
    if user.role == "inspector":
        return user.jurisdiction is not None and within_jurisdiction(actor, user.jurisdiction)
    if user.role in COLLECTOR_ROLES and user.collector_company_id:
        company = db.session.get(CollectorCompany, user.collector_company_id)
        return company is not None and company_in_jurisdiction(actor, company)
    return False


def get_user_for(actor, user_id):
    user = db.session.get(User, user_id)
    if user is None or not user_visible_to(actor, user):
        fail(404, "用户不存在")
    return user


def get_company(company_id, field="collector_company_id"):
    """A collection company named in a request body; unknown → 422 on that field."""
    company = db.session.get(CollectorCompany, company_id) if company_id else None
    if company is None:
        fail(422, fields={field: ["收运单位不存在"]})
    return company


# --- shops -----------------------------------------------------------------------------------

def shops_visible_to(user):
    """``select(Shop)`` limited to what ``user`` may see: members their shops, staff their
    jurisdiction, collectors the shops contracted to their company.  The only way shops are loaded."""
    from server.models.shop import Contract, Shop, ShopMember

    statement = select(Shop)
    if user.is_staff:
        return statement if user.jurisdiction is None else statement.where(
            Shop.district_code.in_(user.jurisdiction))
    if user.role in COLLECTOR_ROLES and user.collector_company_id:
        contracted = select(Contract.shop_id).where(Contract.collector_company_id == user.collector_company_id)
        return statement.where(Shop.id.in_(contracted))
    return statement.where(Shop.id.in_(select(ShopMember.shop_id).where(ShopMember.user_id == user.id)))


def get_shop_for(user, shop_id, *, for_update=False):
    """The shop if ``user`` may see it, else 404."""
    from server.models.shop import Shop

    statement = shops_visible_to(user).where(Shop.id == shop_id)
    if for_update:
        statement = statement.with_for_update()
    shop = db.session.scalar(statement)
    if shop is None:
        fail(404, "店铺不存在")
    return shop


def membership(user, shop_id):
    """The user's role in the shop (``manager``/``staff``) or None."""
    from server.models.shop import ShopMember

    return db.session.scalar(select(ShopMember.role).where(ShopMember.shop_id == shop_id,
                                                          ShopMember.user_id == user.id))


def member_of(user, shop_ids):
    """``{shop_id: True}`` for those of ``shop_ids`` that ``user`` is a member of (one query)."""
    from server.models.shop import ShopMember

    return {shop_id: True for shop_id in db.session.scalars(select(ShopMember.shop_id).where(
        ShopMember.shop_id.in_(list(shop_ids)), ShopMember.user_id == user.id))}


def member_ids(shop_id):
    from server.models.shop import ShopMember

    return set(db.session.scalars(select(ShopMember.user_id).where(ShopMember.shop_id == shop_id)))


def require_manager(user, shop):
    if membership(user, shop.id) != "manager":
        fail(403, "只有店铺负责人可以执行此操作")


def require_staff(user, shop, roles=("inspector", "regulator", "admin")):
    """Staff with one of ``roles`` whose jurisdiction covers the shop (the shop is already visible)."""
    if user.role not in roles or not user.covers(shop.district_code):
        fail(403, "没有权限执行此操作")
