"""What a caller may see.  Every load of a scoped object goes through here, so nothing can
forget the scope: ``get_<thing>_for(user, id)`` returns the object or answers 404 — never the
object, and never a hint of its state — and ``<things>_visible_to(user)`` is the ``select``
lists start from.  Services load through these, then check the permission for the action,
then the object's state.

- shops: members their shops, staff their jurisdiction, collectors the shops under a contract
  with their company in force today; cleanings: whoever sees the shop but collectors;
- contracts and handover slips: whoever sees the shop; collectors their own company's (slips also
  after the contract ended: the company's ledger), and no other kind of record or photo;
- inspections and orders: the shop's members and staff in jurisdiction; cases and change
  requests' decisions: staff in jurisdiction (members see their requests); photos: the uploader,
  and whoever may see a record the photo is attached to; accounts: :func:`user_visible_to`.
"""
from sqlalchemy import and_, bindparam, exists, false, or_, select, true

from server.clock import today
from server.database import id_in, ids_param, prepared
from server.errors import fail
from server.extensions import db
from server.models.complaint import Complaint
from server.models.inspection import Case, Inspection, Rectification, RectificationEvent
from server.models.notification import Notification
from server.models.photo import Photo, PhotoLink
from server.models.receipt import ExportReceipt
from server.models.records import Cleaning, Handover
from server.models.shop import Contract, Shop, ShopChangeRequest, ShopMember
from server.roles import COLLECTOR_ROLES, STAFF_ROLES
from server.services.scope.accounts import (check_district_codes, company_in_jurisdiction, get_company,  # noqa: F401
                                            get_user_for, known_district_codes, user_visible_to,
                                            within_jurisdiction)


def _one(statement, message, lock=False, params=None):
    found = db.session.scalar(locked(statement) if lock else statement, params)
    if found is None:
        fail(404, message)
    return found


def locked(statement):
    """``statement``'s object locked for the rest of the transaction, and read after the lock.

    Every state transition (confirm, correct, review, answer, move a case, decide, claim, redeem...)
    loads the row it decides on with ``lock=True``: on PostgreSQL ``SELECT … FOR UPDATE`` of that
    row, so a second transition of the same row waits for the first to commit and then sees its
    result (one success, one 409); the ORM's copy is refreshed from that read even when the object
    was already loaded.  On SQLite every write transaction holds the database's write lock from
    ``BEGIN IMMEDIATE``, so the read is already after every other writer."""
    entity = statement.column_descriptions[0]["entity"]
    return statement.with_for_update(of=entity).execution_options(populate_existing=True)


def lock(model, ident):
    """One row by primary key, locked and read after the lock (as :func:`locked`), or None."""
    return db.session.get(model, ident, with_for_update=True, populate_existing=True)


# --- shops and membership ---------------------------------------------------------------------

def _audience(user):
    """Which visibility rule applies to ``user``, and its values."""
    if user.is_staff:
        return ("city", {}) if user.jurisdiction is None else ("districts", {"districts": list(user.jurisdiction)})
    if user.role in COLLECTOR_ROLES:
        return "company", {"company_id": user.collector_company_id, "on": today()}
    return "member", {"user_id": user.id}


def _visible(kind, value):
    """``select(Shop)`` limited by one rule of :func:`_audience`; ``value(name)`` gives each value (a
    literal, or a parameter of a statement kept for reuse)."""
    statement = select(Shop)
    if kind == "city":
        return statement
    if kind == "districts":
        return statement.where(Shop.district_code.in_(value("districts")))
    if kind == "company":
        # Only while a contract with the company is in force today: an ended contract ends the access.
        contracted = select(Contract.shop_id).where(Contract.collector_company_id == value("company_id"),
                                                    Contract.valid_from <= value("on"), Contract.valid_until >= value("on"))
        return statement.where(Shop.id.in_(contracted))
    return statement.where(Shop.id.in_(select(ShopMember.shop_id).where(ShopMember.user_id == value("user_id"))))


def shops_visible_to(user):
    """``select(Shop)`` limited to what ``user`` may see: members their shops, staff their
    jurisdiction, collectors the shops contracted to their company.  The only way shops are loaded."""
    kind, values = _audience(user)
    return _visible(kind, values.__getitem__)


def visible_shop_ids(user):
    return shops_visible_to(user).with_only_columns(Shop.id).order_by(None)


def of_visible_shops(column, user):
    """``column`` (a record's shop id) is a shop ``user`` sees; for city-wide staff no condition (a
    count over a city's slips is then an index range, not a lookup per row)."""
    return true() if user.is_staff and user.jurisdiction is None else column.in_(visible_shop_ids(user))


_ONE_SHOP = {}  # (rule, lock) -> the statement of get_shop_for, built once (every shop request runs it)


def get_shop_for(user, shop_id, *, lock=False):
    """The shop if ``user`` may see it, else 404."""
    kind, values = _audience(user)
    statement = _ONE_SHOP.get((kind, lock))
    if statement is None:
        statement = _visible(kind, lambda name: bindparam(name, expanding=name == "districts")).where(
            Shop.id == bindparam("shop_id"))
        statement = _ONE_SHOP[kind, lock] = locked(statement) if lock else statement
    return _one(statement, "店铺不存在", params={**values, "shop_id": shop_id})


def membership(user, shop_id):
    """The user's role in the shop (``manager``/``staff``) or None."""
    return _role(db.session, shop_id=shop_id, user_id=user.id).scalar()


@prepared
def _role(_dialect):
    return select(ShopMember.role).where(ShopMember.shop_id == bindparam("shop_id"),
                                         ShopMember.user_id == bindparam("user_id"))


def member_of(user, shop_ids):
    """``{shop_id: True}`` for those of ``shop_ids`` that ``user`` is a member of (one query)."""
    return {shop_id: True for shop_id in _members_among(db.session, ids=list(shop_ids), user_id=user.id).scalars()}


@prepared
def _members_among(dialect):
    return select(ShopMember.shop_id).where(id_in(ShopMember.shop_id, ids_param(), dialect),
                                            ShopMember.user_id == bindparam("user_id"))


def member_ids(shop_id):
    return set(db.session.scalars(select(ShopMember.user_id).where(ShopMember.shop_id == shop_id)))


def require_manager(user, shop):
    if membership(user, shop.id) != "manager":
        fail(403, "只有店铺负责人可以执行此操作")


def require_staff(user, shop, roles=STAFF_ROLES):
    """Staff with one of ``roles`` whose jurisdiction covers the shop (the shop is already visible)."""
    if user.role not in roles or not user.covers(shop.district_code):
        fail(403, "没有权限执行此操作")


def _members_or_staff_shops(column, user):
    """Inspections and orders ``user`` sees: staff their jurisdiction's, members their shops'."""
    mine = select(ShopMember.shop_id).where(ShopMember.user_id == user.id)
    return of_visible_shops(column, user) if user.is_staff else column.in_(mine)


def in_area(statement, shop_column, args, district_column=None):
    """``statement`` narrowed to ``args``' ``district_code`` and ``street`` (a work queue's area): by the
    record's own district column when it has one, else by its shop's; the street is always the shop's."""
    district, street = args.get("district_code"), args.get("street")
    if district and district_column is not None:
        statement = statement.where(district_column == district)
        district = None
    if district or street:
        shops = select(Shop.id)
        if district:
            shops = shops.where(Shop.district_code == district)
        if street:
            shops = shops.where(Shop.street == street)
        statement = statement.where(shop_column.in_(shops))
    return statement


# --- records ----------------------------------------------------------------------------------

def cleanings_visible_to(user):
    if user.role in COLLECTOR_ROLES:  # a collector's business is the slips, not the shop's other records
        return select(Cleaning).where(false())
    return select(Cleaning).where(of_visible_shops(Cleaning.shop_id, user))


def get_cleaning_for(user, cleaning_id, *, lock=False):
    return _one(cleanings_visible_to(user).where(Cleaning.id == cleaning_id), "清洗记录不存在", lock)


def handovers_visible_to(user):
    if user.role in COLLECTOR_ROLES:  # the company's own slips: its ledger, also after a contract ended
        return select(Handover).where(Handover.collector_company_id == user.collector_company_id)
    return select(Handover).where(of_visible_shops(Handover.shop_id, user))


def get_handover_for(user, handover_id, *, lock=False):
    return _one(handovers_visible_to(user).where(Handover.id == handover_id), "联单不存在", lock)


def contracts_visible_to(user):
    if user.role in COLLECTOR_ROLES:
        return select(Contract).where(Contract.collector_company_id == user.collector_company_id)
    return select(Contract).where(of_visible_shops(Contract.shop_id, user))


def inspections_visible_to(user):
    return select(Inspection).where(_members_or_staff_shops(Inspection.shop_id, user))


def get_inspection_for(user, inspection_id, *, lock=False):
    return _one(inspections_visible_to(user).where(Inspection.id == inspection_id), "检查记录不存在", lock)


def orders_visible_to(user):
    return select(Rectification).where(_members_or_staff_shops(Rectification.shop_id, user))


def get_order_for(user, order_id, *, lock=False):
    return _one(orders_visible_to(user).where(Rectification.id == order_id), "整改通知不存在", lock)


def cases_visible_to(user):
    """Staff: the cases of the shops they see, and hotline tickets naming no shop in their districts."""
    if not user.is_staff:
        return select(Case).where(False)
    if user.jurisdiction is None:
        return select(Case)
    return select(Case).where(or_(Case.shop_id.in_(visible_shop_ids(user)),
                                  and_(Case.shop_id.is_(None), Case.district_code.in_(user.jurisdiction))))


def get_case_for(user, case_id, *, lock=False):
    return _one(cases_visible_to(user).where(Case.id == case_id), "案件不存在", lock)


def change_requests_visible_to(user):
    return select(ShopChangeRequest).where(of_visible_shops(ShopChangeRequest.shop_id, user))


def get_change_request_for(user, request_id, *, lock=False):
    return _one(change_requests_visible_to(user).where(ShopChangeRequest.id == request_id), "变更申请不存在", lock)


# --- photos -----------------------------------------------------------------------------------

def photo_records_visible_to(user):
    """record_type → ``select`` of the ids of that type's records ``user`` may see."""
    ids = {"handover": handovers_visible_to(user).with_only_columns(Handover.id),
           "contract": contracts_visible_to(user).with_only_columns(Contract.id)}
    if user.role in COLLECTOR_ROLES:  # by the record's type: slips and contracts only
        return ids
    events = select(RectificationEvent.id).where(
        RectificationEvent.rectification_id.in_(orders_visible_to(user).with_only_columns(Rectification.id)))
    return {**ids, "cleaning": cleanings_visible_to(user).with_only_columns(Cleaning.id),
            "inspection": inspections_visible_to(user).with_only_columns(Inspection.id),
            "rectification_event": events,
            "complaint": complaints_visible_to(user).with_only_columns(Complaint.id)}


def get_photo_for(user, photo_id):
    """The photo if ``user`` uploaded it or may see a record it is attached to, else 404."""
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        fail(404, "照片不存在")
    if photo.uploaded_by_id == user.id:
        return photo
    for record_type, visible in photo_records_visible_to(user).items():
        if db.session.scalar(select(exists().where(
                PhotoLink.photo_id == photo_id, PhotoLink.record_type == record_type,
                PhotoLink.record_id.in_(visible)))):
            return photo
    fail(404, "照片不存在")


def get_receipt_for(user, receipt_id):
    """An export receipt: its exporter's (an admin sees every one), else 404."""
    receipt = db.session.get(ExportReceipt, receipt_id)
    if receipt is None or (receipt.exported_by_id != user.id and user.role != "admin"):
        fail(404, "导出回执不存在")
    return receipt


def get_notification_for(user, notification_id):  # its recipient's only
    return _one(select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id),
                "通知不存在")


def complaints_visible_to(user):
    """Staff: the complaints of their districts.  Everyone else: their own (``/me/complaints``)."""
    if not user.is_staff:
        return select(Complaint).where(Complaint.user_id == user.id)
    everything = select(Complaint)
    return everything if user.jurisdiction is None else everything.where(Complaint.district_code.in_(user.jurisdiction))


def get_complaint_for(user, complaint_id, *, lock=False):
    """Its author's, or staff's of its district; anyone else → 404."""
    return _one(complaints_visible_to(user).where(Complaint.id == complaint_id), "投诉不存在", lock)
