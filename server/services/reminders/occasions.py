"""What is due to be told, to whom: each occasion of SPEC "Reminders" found in the records.

Every finder yields :class:`Occasion` values; the key (``occasion``) names the event so that the
unique key ``(user_id, occasion)`` makes each one notification per user however often it is found.
Dates come from the compliance engine (a purifier's ``due_on`` and status, ``order_overdue``), never a
second computation of "due".  Event-driven occasions (an order answered, a case assigned) are read
from the events of the last :data:`LOOKBACK`, through indexes on the event times.
"""
import dataclasses
import datetime as dt

from sqlalchemy import and_, or_, select

from server.clock import today, utcnow
from server.database import in_ids
from server.extensions import db
from server.models import (Case, CaseEvent, Handover, Inspection, Rectification, RectificationEvent, Shop, ShopMember,
                           User)
from server.roles import COLLECTOR_ROLES
from server.services import compliance
from server.services.compliance import SHOP_COLUMNS

LOOKBACK = dt.timedelta(days=7)
HANDOVER_AFTER = dt.timedelta(hours=2)
DEADLINE_SOON_DAYS = 2


@dataclasses.dataclass
class Occasion:
    kind: str
    occasion: str
    object_type: str
    object_id: int
    title: str
    body: str
    values: dict
    user_ids: list


def _inactive_users():
    return set(db.session.scalars(select(User.id).where(or_(User.disabled.is_(True), User.deactivated_at.is_not(None)))))


def _members(shop_ids):
    """``{shop_id: [user ids]}``: the active members of these shops.  The memberships are read whole
    (about one per shop; the due shops are a good share of them) and the few disabled users left out
    here: joined in SQL, SQLite's planner, with statistics from when one demo owner held every
    membership, scanned the memberships once per user (1.2 s for 9,000 rows)."""
    wanted = set(shop_ids)
    members = {}
    if not wanted:
        return members
    inactive = _inactive_users()
    for shop_id, user_id in db.session.execute(select(ShopMember.shop_id, ShopMember.user_id)):
        if shop_id in wanted and user_id not in inactive:
            members.setdefault(shop_id, []).append(user_id)
    return members


def cleaning_due(on):
    """The purifier is ``due_soon`` (once per due date) and once more when ``overdue``."""
    due = []
    statement = select(*SHOP_COLUMNS, Shop.name).where(Shop.status == "active")
    name_at = len(SHOP_COLUMNS)  # the caller's columns follow SHOP_COLUMNS; the stored facts come after them
    for row, graded in compliance.graded(statement, on):
        purifier = graded["purifier"]
        if graded["active"] and purifier["status"] in ("due_soon", "overdue"):
            due.append((row[0], row[name_at], purifier["status"], purifier["due_on"]))
    members = _members([shop_id for shop_id, *_ in due])
    for shop_id, name, status, due_on in due:
        if shop_id not in members:
            continue
        if status == "due_soon":
            title, body, phrase = "油烟净化设施即将到期清洗", (
                f"{name}的油烟净化设施应于 {due_on} 前清洗，请及时安排清洗并在小程序登记清洗记录。"), "即将到期"
        else:
            title, body, phrase = "油烟净化设施清洗已逾期", (
                f"{name}的油烟净化设施应于 {due_on} 前清洗，现已逾期，请尽快清洗并登记，以免评为 C 级。"), "已逾期"
        yield Occasion("cleaning_due", f"cleaning_due:{shop_id}:{due_on}:{status}", "shop", shop_id, title, body,
                       {"shop_name": name, "date": due_on.isoformat(), "status": phrase,
                        "hint": "请尽快清洗并登记记录"}, members[shop_id])


def rectification_deadline(on):
    """An open order with 2 days or less left, and once its deadline has passed."""
    rows = db.session.execute(
        select(Rectification.id, Rectification.shop_id, Rectification.deadline, Rectification.status, Shop.name)
        .join(Shop, Shop.id == Rectification.shop_id)
        .where(Rectification.status == "open", Shop.status == "active",
               Rectification.deadline <= on + dt.timedelta(days=DEADLINE_SOON_DAYS))).all()
    members = _members(sorted({row.shop_id for row in rows}))
    for order_id, shop_id, deadline, status, name in rows:
        if shop_id not in members:
            continue
        passed = bool(compliance.order_overdue(status, deadline, on))
        left = (deadline - on).days
        if passed:
            title, body, phrase, stage = "整改期限已过", (
                f"{name}的整改通知（第 {order_id} 号）整改期限 {deadline} 已过，请尽快整改并提交答复。"), "已逾期", "passed"
        else:
            title, body, phrase, stage = "整改期限将至", (
                f"{name}的整改通知（第 {order_id} 号）将于 {deadline} 到期（还有 {left} 天），请按要求整改并提交答复。"), \
                "即将到期", "soon"
        yield Occasion("rectification_deadline", f"rectification_deadline:{order_id}:{deadline}:{stage}",
                       "rectification", order_id, title, body,
                       {"shop_name": name, "date": deadline.isoformat(), "status": phrase, "serial": f"ZG{order_id}",
                        "hint": "请按期整改并提交答复"}, members[shop_id])


def handover_to_confirm(now):
    """A slip still pending 2 hours after it was started: the other party is asked to confirm."""
    rows = db.session.execute(
        select(Handover.id, Handover.shop_id, Handover.serial, Handover.started_by_party, Handover.collector_company_id,
               Handover.received_at, Shop.name).join(Shop, Shop.id == Handover.shop_id)
        .where(Handover.status == "pending", Handover.superseded_by_id.is_(None),
               Handover.received_at <= now - HANDOVER_AFTER, Handover.received_at >= now - LOOKBACK)).all()
    members = _members(sorted({row.shop_id for row in rows if row.started_by_party == "collector"}))
    companies = sorted({row.collector_company_id for row in rows if row.started_by_party == "shop"})
    collectors = {}
    for company_id, user_id in (db.session.execute(
            select(User.collector_company_id, User.id).where(
                in_ids(User.collector_company_id, companies, db.session), User.role.in_(COLLECTOR_ROLES),
                User.disabled.is_(False), User.deactivated_at.is_(None))) if companies else []):
        collectors.setdefault(company_id, []).append(user_id)
    for slip_id, shop_id, serial, party, company_id, received_at, name in rows:
        to = collectors.get(company_id) if party == "shop" else members.get(shop_id)
        if not to:
            continue
        yield Occasion("handover_to_confirm", f"handover_to_confirm:{slip_id}", "handover", slip_id, "有联单待确认",
                       f"{name}的餐厨废弃物联单 {serial} 已提交超过 2 小时，尚待您确认或驳回。",
                       {"shop_name": name, "time": received_at.isoformat(), "status": "待确认", "serial": serial,
                        "hint": "请核对后确认联单"}, to)


def rectification_answered(now):
    """The shop answered an order: the inspector who issued it reviews it."""
    rows = db.session.execute(
        select(RectificationEvent.id, RectificationEvent.at, Rectification.id, Inspection.inspector_id, Shop.name)
        .join(Rectification, Rectification.id == RectificationEvent.rectification_id)
        .join(Inspection, Inspection.id == Rectification.inspection_id).join(Shop, Shop.id == Rectification.shop_id)
        .join(User, and_(User.id == Inspection.inspector_id, User.disabled.is_(False)))
        .where(RectificationEvent.action == "responded", RectificationEvent.at >= now - LOOKBACK)).all()
    for event_id, at, order_id, inspector_id, name in rows:
        yield Occasion("rectification_answered", f"rectification_answered:{event_id}", "rectification", order_id,
                       "整改通知已答复", f"{name}已答复整改通知（第 {order_id} 号），请审核其整改情况。",
                       {"shop_name": name, "time": at.isoformat(), "status": "待审核", "serial": f"ZG{order_id}",
                        "hint": "请审核店铺的整改答复"}, [inspector_id])


def case_assigned(now):
    """A case assigned to someone, or sent back to them (退回重办) — a hotline ticket may name no shop."""
    rows = db.session.execute(
        select(CaseEvent.id, CaseEvent.at, CaseEvent.to_status, CaseEvent.assignee_id, Case.id, Case.deadline,
               Case.external_case_no, Shop.name).join(Case, Case.id == CaseEvent.case_id)
        .outerjoin(Shop, Shop.id == Case.shop_id)
        .join(User, and_(User.id == CaseEvent.assignee_id, User.disabled.is_(False)))
        .where(CaseEvent.to_status.in_(("assigned", "returned")), CaseEvent.at >= now - LOOKBACK)).all()
    for event_id, at, to_status, assignee_id, case_id, deadline, number, name in rows:
        returned = to_status == "returned"
        subject = name or f"12345 热线工单 {number}"
        yield Occasion("case_assigned", f"case_assigned:{event_id}", "case", case_id,
                       "案件被退回重办" if returned else "有案件转办给您",
                       f"{subject}（案件第 {case_id} 号）" + ("被退回重办" if returned else "已转办给您")
                       + (f"，办理期限 {deadline}。" if deadline else "。"),
                       {"shop_name": subject, "time": at.isoformat(), "date": deadline.isoformat() if deadline else None,
                        "status": "退回重办" if returned else "待处置", "serial": number or f"AJ{case_id}",
                        "hint": "请及时办理"}, [assignee_id])


def due(now=None):
    """Every occasion due now."""
    now = now or utcnow()
    on = today()
    yield from cleaning_due(on)
    yield from rectification_deadline(on)
    yield from handover_to_confirm(now)
    yield from rectification_answered(now)
    yield from case_assigned(now)
