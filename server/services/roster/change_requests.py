"""Change requests: an owner's change to the facts behind the shop's obligations, decided by staff."""
from sqlalchemy import func, select

from server.clock import utcnow
from server.database import id_in, ids_param, prepared
from server.errors import fail
from server.extensions import db
from server.labels import changes_text
from server.models.shop import Shop, ShopChangeRequest
from server.pagination import paginate
from server.services import audit, scope
from server.services.roster import shops


def pending_ids(shop_ids):
    """``{shop_id: id of its oldest pending change request}`` for these shops (one query)."""
    return dict(_pending(db.session, ids=list(shop_ids)).all())


@prepared
def _pending(dialect):
    return (select(ShopChangeRequest.shop_id, func.min(ShopChangeRequest.id))
            .where(id_in(ShopChangeRequest.shop_id, ids_param(), dialect), ShopChangeRequest.status == "pending")
            .group_by(ShopChangeRequest.shop_id))


def for_shop(user, shop_id):
    shop = scope.get_shop_for(user, shop_id)
    if not scope.membership(user, shop.id):
        scope.require_staff(user, shop)
    return db.session.scalars(select(ShopChangeRequest).where(ShopChangeRequest.shop_id == shop.id)
                              .order_by(ShopChangeRequest.id.desc())).all()


def pending(user, args):
    """The change requests waiting for a decision in the caller's jurisdiction, oldest first (a work queue)."""
    statement = scope.change_requests_visible_to(user).where(ShopChangeRequest.status == "pending")
    statement = scope.in_area(statement, ShopChangeRequest.shop_id, args)
    return paginate(statement.order_by(ShopChangeRequest.id), args)


def decide(user, request_id, approved, note=None):
    request = scope.get_change_request_for(user, request_id, lock=True)
    shop = scope.lock(Shop, request.shop_id)
    scope.require_staff(user, shop)
    if request.status != "pending":
        fail(409, "该变更申请已处理")
    if approved and "district_code" in request.changes and not user.covers(request.changes["district_code"]):
        fail(403, "变更后的区县不在您的辖区内，请由上级监管人员审批")
    request.status = "approved" if approved else "rejected"
    request.decided_by_id, request.decided_at, request.note = user.id, utcnow(), note
    if approved:
        shops.apply_change_request(shop, request)
    audit.record("shop.change_request_decision", "change_request", request.id,
                 ("批准" if approved else "驳回") + "变更申请：" + changes_text(request.changes, request.previous)
                 + (f"（{note}）" if note else ""), shop_id=shop.id)
    db.session.commit()
    return request
