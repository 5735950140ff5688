"""案件: an overdue rectification order or a disputed slip escalated for enforcement.

    accepted (受理) ──► assigned (转办) ──► handled (处置) ──► closed (结案)
                              ▲                   │
                              └──── returned ◄────┘  (退回重办, counted)
overdue = not closed and past its deadline (derived).  Anything else is 409.
"""
import datetime as dt

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.clock import today, utcnow
from server.errors import fail
from server.extensions import db
from server.models.inspection import Case, CaseEvent, Rectification
from server.models.records import Handover
from server.models.shop import Shop
from server.models.user import User
from server.pagination import paginate
from server.services import audit, scope
from server.services.compliance import case_overdue
from server.services.enforcement import by_status, rectifications

TRANSITIONS = {"accepted": {"assigned"}, "assigned": {"handled"}, "handled": {"returned", "closed"},
               "returned": {"assigned"}, "closed": set()}
LABELS = {"accepted": "受理", "assigned": "转办", "handled": "处置", "returned": "退回重办", "closed": "结案"}


def _source(user, source, source_id):
    # Locked: two cases opened on one record at once would both find none open.
    if source == "rectification":
        row = db.session.scalar(scope.locked(scope.orders_visible_to(user).where(Rectification.id == source_id)))
    else:
        row = db.session.scalar(scope.locked(scope.handovers_visible_to(user).where(Handover.id == source_id)))
    if row is None or not user.is_staff:
        fail(404, "来源记录不存在")
    shop = db.session.get(Shop, row.shop_id)
    if source == "rectification" and not rectifications.is_overdue(row):
        fail(409, "只有逾期未整改的整改通知可以立案")
    if source == "handover" and (row.status != "disputed" or row.superseded_by_id is not None):
        fail(409, "只有有争议的联单可以立案")
    return shop


def _assignee(shop, assignee_id):
    if assignee_id is None:
        return None
    assignee = db.session.get(User, assignee_id)
    if assignee is None or assignee.disabled or not assignee.covers(shop.district_code):
        fail(422, fields={"assignee_id": ["承办人须为本辖区的工作人员"]})
    return assignee.id


def _event(case, user, from_status, note, assignee_id=None):
    db.session.add(CaseEvent(case_id=case.id, from_status=from_status, to_status=case.status, actor_id=user.id,
                             at=utcnow(), note=note, assignee_id=assignee_id))


def create(user, data):
    shop = _source(user, data["source"], data["source_id"])
    open_case = db.session.scalar(select(Case.id).where(Case.source == data["source"],
                                                        Case.source_id == data["source_id"], Case.status != "closed"))
    if open_case:
        fail(409, f"该记录已立案（案件 #{open_case}）")
    case = Case(shop_id=shop.id, source=data["source"], source_id=data["source_id"], status="accepted",
                assignee_id=_assignee(shop, data.get("assignee_id")), created_by_id=user.id, created_at=utcnow(),
                deadline=data.get("deadline") or today() + dt.timedelta(days=current_app.config["CASE_DAYS"]),
                external_case_no=data.get("external_case_no"))
    db.session.add(case)
    db.session.flush()
    _event(case, user, None, data["note"], case.assignee_id)
    audit.record("case.create", "case", case.id, f"立案（受理）：{data['note']}", shop_id=shop.id)
    db.session.commit()
    return case


def _load(user, case_id):
    case = scope.get_case_for(user, case_id, lock=True)  # every caller transitions it
    shop = db.session.get(Shop, case.shop_id)
    return case, shop


def transition(user, case_id, data):
    case, shop = _load(user, case_id)
    to = data["to"]
    if to not in TRANSITIONS[case.status]:
        fail(409, f"案件当前为“{LABELS[case.status]}”，不能转为“{LABELS[to]}”")
    before = case.status
    if "assignee_id" in data:
        case.assignee_id = _assignee(shop, data["assignee_id"])
    if to == "assigned" and case.assignee_id is None:
        fail(422, fields={"assignee_id": ["转办须指定承办人"]})
    if "external_case_no" in data:
        case.external_case_no = data["external_case_no"]
    case.status = to
    if to == "returned":
        case.returned_count += 1
    if to == "closed":
        case.closed_at = utcnow()
    _event(case, user, before, data["note"], case.assignee_id)
    audit.record("case.transition", "case", case.id, f"{LABELS[before]} → {LABELS[to]}：{data['note']}",
                 shop_id=shop.id)
    db.session.commit()
    return case


def list_for(user, args):
    statement = by_status(scope.cases_visible_to(user), Case, args.get("status"), case_overdue)
    return paginate(statement.options(selectinload(Case.events)).order_by(Case.id.desc()), args)
