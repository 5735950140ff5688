"""餐厨废弃物收运联单: started by either party, answered by the other, corrected by new versions.

Serial: ``JN`` + the receipt date (yyyymmdd, Asia/Shanghai) + ``-`` + a six-digit number that
counts the day's slips (named counter, safe under concurrency).  Disputed: both kg figures
exist and the weighed one differs from the declared one by more than the tolerance
(``HANDOVER_TOLERANCE_PERCENT`` of the declared figure, default 20 %).
"""

from flask import current_app
from sqlalchemy import bindparam, exists, select

from server.clock import CLOCK_SLACK, business_date, utcnow
from server.database import commit_last
from server.errors import fail
from server.extensions import db
from server.models.collector import CollectorCompany
from server.models.inspection import CASE_ENDED, Case
from server.models.records import Handover
from server.models.shop import Contract, Shop
from server.models.user import User
from server.pagination import paginate
from server.roles import COLLECTOR_ROLES, REGULATOR_ROLES
from server.services import audit, photos, records, scope
from server.services.records import sequences


def _party(user, shop, company_id):
    """Which side of the slip ``user`` is on for this shop: ``shop`` or ``collector``; else 403."""
    if scope.membership(user, shop.id):
        return "shop"
    if user.role in COLLECTOR_ROLES:
        if user.collector_company_id != company_id:
            fail(403, "只能处理本单位的联单")
        return "collector"
    fail(403, "只有本店成员或签约收运单位人员可以处理联单")


_CONTRACTS = select(Contract).where(Contract.shop_id == bindparam("shop_id"))  # built once: every slip reads it


def _contract(shop, company_id, day):
    """The shop's contract with ``company_id`` valid on ``day``; 422 explains what is wrong."""
    contracts = db.session.scalars(_CONTRACTS, {"shop_id": shop.id}).all()
    if not contracts:
        fail(422, "该店铺没有收运合同，无法开具联单", fields={"collector_company_id": ["店铺没有收运合同"]})
    valid = [c for c in contracts if c.valid_from <= day <= c.valid_until]
    mine = [c for c in valid if c.collector_company_id == company_id]
    if not mine:
        if valid:
            fail(422, "联单须填写与店铺签订有效合同的收运单位",
                 fields={"collector_company_id": ["不是与该店铺签订有效合同的收运单位"]})
        fail(422, "店铺的收运合同已过期", fields={"collector_company_id": ["收运合同已过期"]})
    company = db.session.get(CollectorCompany, company_id)
    if not company.licence_valid_on(day):
        fail(422, f"收运单位“{company.name}”的许可证已过期", fields={"collector_company_id": ["收运单位许可证已过期"]})
    return max(mine, key=lambda c: c.valid_until)


def _serial():
    day = business_date(utcnow()).strftime("%Y%m%d")
    number = sequences.next_value(f"handover-serial:{day}")
    return f"{current_app.config['HANDOVER_SERIAL_PREFIX']}{day}-{number:06d}"


def _disputed(declared, weighed):
    if declared is None or weighed is None:
        return False
    return abs(weighed - declared) > declared * current_app.config["HANDOVER_TOLERANCE_PERCENT"] / 100


def _uploaders(party, shop, company_id):
    if party == "shop":
        return scope.member_ids(shop.id)
    return set(db.session.scalars(select(User.id).where(User.collector_company_id == company_id)))


def _write(user, shop, data, party, *, serial, version=1, supersedes=None):
    if data["handed_over_at"] > utcnow() + CLOCK_SLACK:
        fail(422, fields={"handed_over_at": ["交接时间不能晚于现在"]})
    if party == "shop" and data.get("weighed_kg") is not None:
        fail(422, fields={"weighed_kg": ["称重数量由收运单位填写"]})
    company_id = data["collector_company_id"]
    contract = _contract(shop, company_id, business_date(data["handed_over_at"]))
    received_at = utcnow()
    handover = Handover(
        serial=serial, version=version, shop_id=shop.id, collector_company_id=company_id, contract_id=contract.id,
        handed_over_at=data["handed_over_at"], waste_type=data["waste_type"], bins=data.get("bins"),
        declared_kg=data.get("declared_kg"), weighed_kg=data.get("weighed_kg"),
        vehicle_plate=(data.get("vehicle_plate") or "").strip().upper() or None, status="pending",
        started_by_party=party, started_by_id=user.id, received_at=received_at,
        late_entry=records.is_late(business_date(data["handed_over_at"]), received_at),
        supersedes_id=supersedes.id if supersedes else None, correction_reason=data.get("reason"))
    db.session.add(handover)
    db.session.flush()
    if data.get("photo_ids"):
        photos.attach(data["photo_ids"], "handover", handover.id, "evidence",
                      uploaders=_uploaders(party, shop, company_id), supersedes=supersedes)
    return handover


def start(user, shop_id, data):
    shop = scope.get_shop_for(user, shop_id)
    party = _party(user, shop, data["collector_company_id"])
    handover = _write(user, shop, data, party, serial=_serial())
    audit.record("handover.create", "handover", handover.id,
                 f"开具联单 {handover.serial}（{'店铺' if party == 'shop' else '收运单位'}发起）"
                 + ("（补录）" if handover.late_entry else ""), shop_id=shop.id)
    commit_last(db.session)
    return handover


def _load(user, handover_id):
    handover = scope.get_handover_for(user, handover_id, lock=True)  # every caller transitions it
    return handover, db.session.get(Shop, handover.shop_id)


def _other_party(user, handover, shop):
    party = _party(user, shop, handover.collector_company_id)
    if party == handover.started_by_party:
        fail(403, "联单须由另一方确认或拒绝")
    if handover.superseded_by_id is not None:
        fail(409, "该联单已被更正，请处理最新版本")
    if handover.status != "pending":
        fail(409, "该联单已处理，不能重复确认或拒绝")
    return party


def confirm(user, handover_id, data):
    handover, shop = _load(user, handover_id)
    party = _other_party(user, handover, shop)
    if party == "shop" and data.get("weighed_kg") is not None:
        fail(422, fields={"weighed_kg": ["称重数量由收运单位填写"]})
    if party == "collector" and data.get("declared_kg") is not None:
        fail(422, fields={"declared_kg": ["申报数量由店铺填写"]})
    for key in ("weighed_kg", "declared_kg"):
        if data.get(key) is not None:
            setattr(handover, key, data[key])
    handover.status = "disputed" if _disputed(handover.declared_kg, handover.weighed_kg) else "confirmed"
    handover.answered_by_id, handover.answered_at = user.id, utcnow()
    if data.get("photo_ids"):  # the scale or the bins, as the answering party saw them
        photos.attach(data["photo_ids"], "handover", handover.id, "weighing", uploaders=[user.id])
    audit.record("handover.confirm", "handover", handover.id,
                 f"确认联单 {handover.serial}：申报 {handover.declared_kg} kg，称重 {handover.weighed_kg} kg"
                 + ("，差异超出允许范围（有争议）" if handover.status == "disputed" else ""), shop_id=shop.id)
    commit_last(db.session)
    return handover


def reject(user, handover_id, reason):
    handover, shop = _load(user, handover_id)
    _other_party(user, handover, shop)
    handover.status, handover.reject_reason = "rejected", reason
    handover.answered_by_id, handover.answered_at = user.id, utcnow()
    audit.record("handover.reject", "handover", handover.id, f"拒绝联单 {handover.serial}：{reason}", shop_id=shop.id)
    commit_last(db.session)
    return handover


def _kg(value):
    return "—" if value is None else f"{float(value):g}"


def settle(user, handover_id, data):
    """A regulator of the shop's district settles a disputed slip: the declared or the weighed figure
    counts from now on (``settled_kg``), with a reason; the slip is confirmed.  A slip already made a
    case is settled in the case, not here."""
    handover, shop = _load(user, handover_id)
    if user.role not in REGULATOR_ROLES or not user.covers(shop.district_code):
        fail(403, "只有本辖区的监管人员可以裁定争议联单")
    if handover.superseded_by_id is not None:
        fail(409, "该联单已被更正，请处理最新版本")
    if handover.status != "disputed":
        fail(409, "只有有争议的联单可以裁定")
    case_id = db.session.scalar(select(Case.id).where(Case.source == "handover", Case.source_id == handover.id,
                                                      Case.status.not_in(CASE_ENDED)))
    if case_id:
        fail(409, f"该联单已立案（案件 {case_id}），请在案件中处理")
    accepted = handover.declared_kg if data["accept"] == "declared" else handover.weighed_kg
    if accepted is None:
        fail(422, fields={"accept": ["该联单没有这一数量"]})
    handover.settled_kg, handover.settled_by_id, handover.settled_at = accepted, user.id, utcnow()
    handover.settle_reason, handover.status = data["reason"], "confirmed"
    audit.record("handover.settle", "handover", handover.id,
                 f"裁定争议联单 {handover.serial}：采信{'申报' if data['accept'] == 'declared' else '称重'}数量 "
                 f"{_kg(accepted)} kg（申报 {_kg(handover.declared_kg)} kg，称重 {_kg(handover.weighed_kg)} kg）："
                 f"{data['reason']}",
                 shop_id=shop.id)
    commit_last(db.session)
    return handover


def correct(user, handover_id, data):
    old, shop = _load(user, handover_id)
    party = _party(user, shop, old.collector_company_id)
    if party != old.started_by_party:
        fail(403, "只有开具联单的一方可以更正")
    if party == "shop" and old.started_by_id != user.id and scope.membership(user, shop.id) != "manager":
        fail(403, "只有开具人或店铺负责人可以更正联单")
    if old.superseded_by_id is not None:
        fail(409, "该联单已被更正，请更正最新版本")
    if data["collector_company_id"] != old.collector_company_id:
        _party(user, shop, data["collector_company_id"])
    new = _write(user, shop, data, party, serial=old.serial, version=old.version + 1, supersedes=old)
    old.superseded_by_id, old.superseded_at = new.id, new.received_at
    audit.record("handover.correct", "handover", new.id,
                 f"更正联单 {old.serial}（第 {old.version} 版 → 第 {new.version} 版）：{data['reason']}",
                 shop_id=shop.id)
    commit_last(db.session)
    return new


def list_handovers(user, args, shop_id=None):
    statement = records.current_only(scope.handovers_visible_to(user), Handover, args, user)
    if shop_id is not None:
        statement = statement.where(Handover.shop_id == scope.get_shop_for(user, shop_id).id)
    if "status" in args:
        statement = statement.where(Handover.status == args["status"])
    if "company_id" in args:
        statement = statement.where(Handover.collector_company_id == args["company_id"])
    statement = scope.in_area(statement, Handover.shop_id, args)
    if "has_open_case" in args:  # a disputed slip made a case has left the queue of slips to settle
        open_case = exists().where(Case.source == "handover", Case.source_id == Handover.id,
                                   Case.status.not_in(CASE_ENDED))
        statement = statement.where(open_case if args["has_open_case"] else ~open_case)
    if args.get("sort") == "handed_over_at":  # a work queue: the oldest waits longest
        return paginate(statement.order_by(Handover.handed_over_at, Handover.id), args)
    return paginate(statement.order_by(Handover.handed_over_at.desc(), Handover.id.desc()), args)
