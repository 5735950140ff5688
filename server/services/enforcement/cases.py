"""案件: an overdue rectification order or a disputed slip escalated for enforcement, or a ticket of
the 12345 hotline (source ``hotline``).

    accepted (受理) ──► assigned (转办) ──► handled (处置) ──► closed (结案)
                              ▲                   │             │ follow-up not satisfied: 重办
                              └──── returned ◄────┘  (退回重办)  └──► assigned (redo_count + 1)
overdue = not ended and past its deadline (derived).  Anything else is 409.

A hotline ticket's deadline is the 5th working day after the day it was received (holidays and
make-up days from the calendar, :mod:`workdays`), stored when the case is made; within 2 working days
of receipt it may be handed back (回退: ``sent_back``, not the bureau's matter, which ends it); it may
be extended once by up to 10 working days; ``card`` is yellow from one working day before the
deadline and red after it.
"""
import datetime as dt

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server import database
from server.clock import business_date, today, utcnow
from server.errors import fail
from server.extensions import db
from server.models.complaint import Complaint
from server.models.inspection import CASE_ENDED, Case, CaseEvent, Rectification
from server.models.records import Handover
from server.models.shop import Shop
from server.models.user import User
from server.pagination import paginate
from server.services import audit, places, scope
from server.services.roster.shops import check_location
from server.services.compliance import case_overdue
from server.services.enforcement import by_status, rectifications, workdays

TRANSITIONS = {"accepted": {"assigned"}, "assigned": {"handled"}, "handled": {"returned", "closed"},
               "returned": {"assigned"}, "closed": set(), "sent_back": set()}
LABELS = {"accepted": "受理", "assigned": "转办", "handled": "处置", "returned": "退回重办", "closed": "结案",
          "sent_back": "回退"}
ENDED = CASE_ENDED
HOTLINE_DAYS, SEND_BACK_WITHIN, MAX_EXTENSION = 5, 2, 10


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


def _assignee(district_code, assignee_id):
    if assignee_id is None:
        return None
    assignee = db.session.get(User, assignee_id)
    if assignee is None or assignee.disabled or not assignee.is_staff or not assignee.covers(district_code):
        fail(422, fields={"assignee_id": ["承办人须为本辖区的工作人员"]})
    return assignee.id


def _event(case, user, from_status, note, assignee_id=None):
    db.session.add(CaseEvent(case_id=case.id, from_status=from_status, to_status=case.status, actor_id=user.id,
                             at=utcnow(), note=note, assignee_id=assignee_id))


def create(user, data):
    if data["source"] == "hotline":
        return _create_hotline(user, data)
    shop = _source(user, data["source"], data["source_id"])
    open_case = db.session.scalar(select(Case.id).where(Case.source == data["source"],
                                                        Case.source_id == data["source_id"], Case.status.not_in(ENDED)))
    if open_case:
        fail(409, f"该记录已立案（案件 #{open_case}）")
    case = Case(shop_id=shop.id, source=data["source"], source_id=data["source_id"], status="accepted",
                district_code=shop.district_code, assignee_id=_assignee(shop.district_code, data.get("assignee_id")),
                created_by_id=user.id, created_at=utcnow(),
                deadline=data.get("deadline") or today() + dt.timedelta(days=current_app.config["CASE_DAYS"]),
                external_case_no=data.get("external_case_no"))
    db.session.add(case)
    db.session.flush()
    _event(case, user, None, data["note"], case.assignee_id)
    audit.record("case.create", "case", case.id, f"立案（受理）：{data['note']}", shop_id=shop.id)
    db.session.commit()
    return case


def _create_hotline(user, data):
    # A ticket with a location and no district takes the district whose boundary holds the point.
    if "lat" in data:
        check_location(data["lat"], data["lng"])
    district = data.get("district_code") or places.place(data["lat"], data["lng"])
    if not user.covers(district):  # permission before anything is looked at
        fail(403, "只能受理本辖区的 12345 热线工单")
    scope.check_district_codes([district], field="district_code")
    shop = scope.get_shop_for(user, data["shop_id"]) if data.get("shop_id") else None
    if shop is not None and shop.district_code != district:
        fail(422, fields={"shop_id": ["店铺不在该区县"]})
    if data["received_at"] > utcnow():
        fail(422, fields={"received_at": ["受理时间不能晚于当前时间"]})
    number = data["external_case_no"]
    # The row to lock does not exist yet: the number itself is locked (and unique in the table), so
    # one ticket entered twice at once makes one case and one 409.
    database.one_at_a_time(db.session, "hotline:" + number)
    if db.session.scalar(select(Case.id).where(Case.source == "hotline", Case.external_case_no == number)):
        fail(409, f"工单 {number} 已受理")
    deadline, note = workdays.add(business_date(data["received_at"]), HOTLINE_DAYS)
    case = Case(source="hotline", source_id=None, shop_id=shop.id if shop else None, district_code=district,
                lat=data.get("lat"), lng=data.get("lng"), address=data.get("address"),
                received_at=data["received_at"], summary=data["summary"], external_case_no=number, status="accepted",
                assignee_id=_assignee(district, data.get("assignee_id")), deadline=deadline, calendar_note=note,
                created_by_id=user.id, created_at=utcnow())
    db.session.add(case)
    db.session.flush()
    _event(case, user, None, data["note"], case.assignee_id)
    audit.record("case.create", "case", case.id, f"受理 12345 热线工单 {number}，办理期限 {deadline}（{HOTLINE_DAYS} 个工作日）"
                 + (f"；{note}" if note else ""), shop_id=case.shop_id)
    db.session.commit()
    return case


def card(case, on=None):
    """A hotline case's card: ``"red"`` past its deadline, ``"yellow"`` with one working day or less
    left, else None (and None for other cases and ended ones)."""
    if case.source != "hotline" or case.status in ENDED or case.deadline is None:
        return None
    on = on or today()
    if on > case.deadline:
        return "red"
    return "yellow" if workdays.between(on, case.deadline)[0] <= 1 else None


def _load(user, case_id):
    case = scope.get_case_for(user, case_id, lock=True)  # every caller transitions it
    return case, case.shop_id


def _hotline_only(case, what):
    if case.source != "hotline":
        fail(409, f"只有 12345 热线工单可以{what}")
    if case.status in ENDED and what != "回访":
        fail(409, f"案件已{LABELS[case.status]}，不能{what}")


def _send_back(user, case, data):
    _hotline_only(case, "回退")
    elapsed, _note = workdays.between(business_date(case.received_at), today())
    if elapsed > SEND_BACK_WITHIN:
        fail(409, f"回退须在受理后 {SEND_BACK_WITHIN} 个工作日内提出（已过 {elapsed} 个工作日）")
    before, case.status, case.closed_at = case.status, "sent_back", utcnow()
    _event(case, user, before, data["reason"], case.assignee_id)
    audit.record("case.transition", "case", case.id, f"{LABELS[before]} → 回退：{data['reason']}", shop_id=case.shop_id)


def _extend(user, case, data):
    _hotline_only(case, "延期")
    if case.extended_days is not None:
        fail(409, f"该工单已延期过一次（{case.extended_days} 个工作日），不能再次延期")
    if today() > case.deadline:  # a red card stays red: 延期 is asked for before the deadline
        fail(409, f"办理期限 {case.deadline} 已过，不能再申请延期")
    before = case.deadline
    case.deadline, note = workdays.add(before, data["days"])
    case.extended_days, case.calendar_note = data["days"], note or case.calendar_note
    _event(case, user, case.status, f"延期 {data['days']} 个工作日（{before} → {case.deadline}）：{data['reason']}",
           case.assignee_id)
    audit.record("case.extend", "case", case.id, f"办理期限 {before} → {case.deadline}：{data['reason']}",
                 shop_id=case.shop_id)


def follow_up(user, case_id, data):
    """回访 after closing: satisfied is recorded; not satisfied reopens the case (重办)."""
    case, shop_id = _load(user, case_id)
    _hotline_only(case, "回访")
    if case.status != "closed":
        fail(409, "案件结案后才能回访")
    if case.followed_up_at is not None and case.followed_up_at >= case.closed_at:
        fail(409, "本次结案已回访")
    case.followed_up_at, case.satisfied = utcnow(), data["satisfied"]
    if data["satisfied"]:
        _event(case, user, "closed", "回访：满意" + (f"（{data['note']}）" if data.get("note") else ""), case.assignee_id)
        audit.record("case.follow_up", "case", case.id, "回访满意", shop_id=shop_id)
    else:
        case.status, case.closed_at, case.redo_count = "assigned", None, case.redo_count + 1
        _event(case, user, "closed", "回访不满意，重办" + (f"：{data['note']}" if data.get("note") else ""),
               case.assignee_id)
        audit.record("case.follow_up", "case", case.id, f"回访不满意，第 {case.redo_count} 次重办", shop_id=shop_id)
    db.session.commit()
    return case


def transition(user, case_id, data):
    case, shop_id = _load(user, case_id)
    to = data["to"]
    if to in ("sent_back", "extended"):
        (_send_back if to == "sent_back" else _extend)(user, case, data)
        db.session.commit()
        return case
    if to not in TRANSITIONS[case.status]:
        fail(409, f"案件当前为“{LABELS[case.status]}”，不能转为“{LABELS[to]}”")
    before = case.status
    if "assignee_id" in data:
        case.assignee_id = _assignee(case.district_code, data["assignee_id"])
    if to == "assigned" and case.assignee_id is None:
        fail(422, fields={"assignee_id": ["转办须指定承办人"]})
    if "external_case_no" in data:
        case.external_case_no = data["external_case_no"]
    case.status = to
    if to == "returned":
        case.returned_count += 1
    if to == "closed":
        case.closed_at = utcnow()
        if case.source == "complaint":  # the citizen's complaint ends with its case
            complaint = db.session.get(Complaint, case.source_id)
            complaint.status, complaint.updated_at = "closed", utcnow()
    _event(case, user, before, data["note"], case.assignee_id)
    audit.record("case.transition", "case", case.id, f"{LABELS[before]} → {LABELS[to]}：{data['note']}",
                 shop_id=shop_id)
    db.session.commit()
    return case


def list_for(user, args):
    if args.get("status") == "open":
        statement = scope.cases_visible_to(user).where(Case.status.not_in(ENDED))
    else:
        statement = by_status(scope.cases_visible_to(user), Case, args.get("status"), case_overdue)
    if "shop_id" in args:
        statement = statement.where(Case.shop_id == args["shop_id"])
    statement = scope.in_area(statement, Case.shop_id, args, district_column=Case.district_code)
    order = (Case.deadline.is_(None), Case.deadline, Case.id) if args.get("sort") == "deadline" else (Case.id.desc(),)
    return paginate(statement.options(selectinload(Case.events)).order_by(*order), args)
