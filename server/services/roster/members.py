"""Who answers for a shop: claim codes (一店一码), members, join codes, handing over management."""
import datetime as dt

from sqlalchemy import select, update

from server.clock import utcnow
from server.errors import fail
from server.extensions import db
from server.models.shop import Shop, ShopCode, ShopMember
from server.models.user import User
from server.security import code_digest, new_code
from server.services import audit, scope

CLAIM_CODE_LIFETIME = dt.timedelta(days=30)  # printed and handed over on a visit
JOIN_CODE_LIFETIME = dt.timedelta(days=7)
INVALID = "认领码或加入码无效、已使用或已过期"


def _issue(user, shop, kind, lifetime, *, commit=True):
    db.session.execute(update(ShopCode).where(ShopCode.shop_id == shop.id, ShopCode.kind == kind,
                                              ShopCode.used_at.is_(None), ShopCode.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))
    code = new_code()
    row = ShopCode(shop_id=shop.id, kind=kind, code_hash=code_digest(code), created_by_id=user.id,
                   expires_at=utcnow() + lifetime)
    db.session.add(row)
    db.session.flush()
    audit.record(f"shop.{kind}_code", "shop", shop.id,
                 {"claim": "签发认领码", "join": "签发店员加入码"}[kind] + "（此前未用的同类码作废）", shop_id=shop.id)
    if commit:
        db.session.commit()
    return {"code": code, "expires_at": row.expires_at}


def issue_claim_code(user, shop_id):
    shop = scope.get_shop_for(user, shop_id)
    scope.require_staff(user, shop)
    return _issue(user, shop, "claim", CLAIM_CODE_LIFETIME)


SHEET_MAX = 200  # shops on one printed claim-code sheet (about 17 A4 pages)


def unclaimed_in(user, district_code):
    """The active unclaimed shops of a district in the caller's jurisdiction, by address (the order of a visit)."""
    if not user.is_staff:
        fail(403, "只有执法与监管人员可以签发认领码")
    scope.check_district_codes([district_code], field="district_code")
    if not user.covers(district_code):
        fail(404, "该区县不在您的辖区内")
    return select(Shop).where(Shop.district_code == district_code, Shop.claimed_at.is_(None),
                              Shop.status == "active").order_by(Shop.address, Shop.id)


def issue_claim_codes(user, district_code, offset=0):
    """New claim codes for up to :data:`SHEET_MAX` unclaimed shops of a district (their earlier unused
    codes void), in one transaction: ``[{"id", "name", "address", "code", "expires_at"}...]`` to print."""
    shops = db.session.scalars(unclaimed_in(user, district_code).offset(offset).limit(SHEET_MAX)).all()
    issued = [{"id": shop.id, "name": shop.name, "address": shop.address,
               **_issue(user, shop, "claim", CLAIM_CODE_LIFETIME, commit=False)} for shop in shops]
    db.session.commit()
    return issued


def issue_join_code(user, shop_id):
    shop = scope.get_shop_for(user, shop_id)
    scope.require_manager(user, shop)
    return _issue(user, shop, "join", JOIN_CODE_LIFETIME)


def _redeem(user, code, kind):
    if not user.openid:
        fail(403, "请使用微信小程序登录")
    row = db.session.scalar(select(ShopCode).where(ShopCode.code_hash == code_digest(code), ShopCode.kind == kind)
                            .with_for_update())
    if row is None or row.used_at or row.revoked_at or row.expires_at <= utcnow():
        fail(422, INVALID, fields={"code": [INVALID]})
    # The shop locked: two codes of one shop claimed at once must not make two managers.
    shop = scope.lock(Shop, row.shop_id)
    if scope.membership(user, shop.id):
        fail(409, "您已是该店铺的成员")
    row.used_at, row.used_by_id = utcnow(), user.id
    return shop


def claim(user, code):
    """认领: the caller becomes the manager of an unclaimed shop (or one left without a manager)."""
    shop = _redeem(user, code, "claim")
    if db.session.scalar(select(ShopMember.id).join(User, User.id == ShopMember.user_id).where(
            ShopMember.shop_id == shop.id, ShopMember.role == "manager", User.deactivated_at.is_(None))):
        fail(409, "该店铺已有负责人；如需变更请联系负责人移交或联系区县城管部门")
    db.session.add(ShopMember(shop_id=shop.id, user_id=user.id, role="manager"))
    shop.claimed_at = shop.claimed_at or utcnow()
    audit.record("shop.claim", "shop", shop.id, f"用户 {user.id} 以认领码认领店铺，成为负责人", shop_id=shop.id)
    db.session.commit()
    return shop


def join(user, code):
    shop = _redeem(user, code, "join")
    db.session.add(ShopMember(shop_id=shop.id, user_id=user.id, role="staff"))
    audit.record("shop.member_join", "shop", shop.id, f"用户 {user.id} 以加入码成为店员", shop_id=shop.id)
    db.session.commit()
    return shop


def members(user, shop_id):
    shop = scope.get_shop_for(user, shop_id)
    if not scope.membership(user, shop.id):
        scope.require_staff(user, shop)
    return _members_of(shop)


def _members_of(shop):
    rows = db.session.execute(select(ShopMember, User.display_name).join(User, User.id == ShopMember.user_id)
                              .where(ShopMember.shop_id == shop.id).order_by(ShopMember.id)).all()
    return [{"user_id": m.user_id, "display_name": name, "role": m.role, "joined_at": m.joined_at}
            for m, name in rows]


def _member(shop, user_id):
    row = db.session.scalar(select(ShopMember).where(ShopMember.shop_id == shop.id, ShopMember.user_id == user_id))
    if row is None:
        fail(404, "该用户不是本店成员")
    return row


def remove(user, shop_id, user_id):
    """The manager removes a member, or a member leaves.  A manager hands over before leaving."""
    shop = scope.get_shop_for(user, shop_id)
    if user.id != user_id:
        scope.require_manager(user, shop)
    elif not scope.membership(user, shop.id):
        fail(404, "店铺不存在")
    row = _member(shop, user_id)
    if row.role == "manager":
        fail(409, "负责人不能直接退出，请先把负责人移交给其他成员")
    db.session.delete(row)
    audit.record("shop.member_remove", "shop", shop.id,
                 f"成员 {user_id} " + ("退出店铺" if user.id == user_id else "被负责人移出"), shop_id=shop.id)
    db.session.commit()


def make_manager(user, shop_id, user_id):
    shop = scope.get_shop_for(user, shop_id)
    scope.require_manager(user, shop)
    row = _member(shop, user_id)
    if row.role == "manager":
        return _members_of(shop)
    current = _member(shop, user.id)
    current.role, row.role = "staff", "manager"
    audit.record("shop.manager_handover", "shop", shop.id, f"负责人由 {user.id} 移交给 {user_id}", shop_id=shop.id)
    db.session.commit()
    return _members_of(shop)
