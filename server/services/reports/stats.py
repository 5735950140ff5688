"""District statistics for the quarterly evaluation (item 22) and kitchen-waste collection
(item 17's 收运量).  Counts come from set-based SQL; grades from the compliance engine's bulk form."""
import datetime as dt
import statistics

from sqlalchemy import case, func, select

from server.clock import business_date, end_of_day, start_of_day, today
from server.errors import fail
from server.extensions import db
from server.models.collector import CollectorCompany
from server.models.complaint import CATEGORIES, Complaint
from server.models.inspection import Case, Inspection, Rectification
from server.models.records import Handover
from server.models.reference import District
from server.models.shop import Shop
from server.services import scope
from server.services.compliance import compliance_bulk
from server.services.enforcement import cases
from server.services.reports import overview


def period(args):
    """[from, to] business dates; default: this quarter up to today."""
    end = args.get("to") or today()
    start = args.get("from_") or dt.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    if start > end:
        fail(422, fields={"from": ["开始日期不能晚于结束日期"]})
    return start, end


def _kg():
    return func.coalesce(Handover.weighed_kg, Handover.declared_kg, 0)


def _slips(user, start, end):
    """Current-version slips of shops in the caller's scope, handed over in the period."""
    visible = scope.shops_visible_to(user).with_only_columns(Shop.id)
    return (Handover.shop_id.in_(visible), Handover.superseded_by_id.is_(None),
            Handover.handed_over_at >= start_of_day(start), Handover.handed_over_at < end_of_day(end))


def districts(user, args):
    start, end = period(args)
    codes = [d.code for d in db.session.scalars(select(District).order_by(District.position))
             if user.jurisdiction is None or d.code in user.jurisdiction]
    rows = {code: {"district_code": code, "shops": {"active": 0, "unclaimed": 0},
                   "grades": {"A": 0, "B": 0, "C": 0},
                   "overdue": {"purifier": 0, "waste": 0, "rectification": 0}, "inspections": 0,
                   "rectifications": {"issued": 0, "closed": 0, "closure_rate": None, "mean_days_to_close": None},
                   "waste_kg": {"kitchen_waste": 0.0, "waste_oil": 0.0},
                   "hotline": dict.fromkeys(HOTLINE_COUNTS, 0),
                   "complaints": {"received": 0, "by_category": dict.fromkeys(CATEGORIES, 0), "linked": 0,
                                  "duplicates": 0, "median_hours_to_triage": None}} for code in codes}
    names = dict(db.session.execute(select(District.code, District.name)).all())
    for code in codes:
        rows[code]["name"] = names[code]
    _grades(user, rows, codes, end)
    window = (start_of_day(start), end_of_day(end))
    for code, count in db.session.execute(
            select(Shop.district_code, func.count(Inspection.id)).join(Shop, Shop.id == Inspection.shop_id)
            .where(Shop.district_code.in_(codes), Inspection.voided_at.is_(None),
                   Inspection.inspected_at >= window[0], Inspection.inspected_at < window[1])
            .group_by(Shop.district_code)):
        rows[code]["inspections"] = count
    closed = Rectification.closed_at.is_not(None) & (Rectification.closed_at < window[1])
    for code, issued, closed_count, seconds in db.session.execute(
            select(Shop.district_code, func.count(Rectification.id), func.sum(case((closed, 1), else_=0)),
                   func.sum(case((closed, _seconds_between(Rectification.created_at, Rectification.closed_at)),
                                 else_=0)))
            .join(Shop, Shop.id == Rectification.shop_id)
            .join(Inspection, Inspection.id == Rectification.inspection_id)
            .where(Shop.district_code.in_(codes), Inspection.voided_at.is_(None),
                   Rectification.created_at >= window[0], Rectification.created_at < window[1])
            .group_by(Shop.district_code)):
        closed_count = int(closed_count or 0)
        rows[code]["rectifications"] = {
            "issued": issued, "closed": closed_count,
            "closure_rate": round(closed_count / issued, 4) if issued else None,
            "mean_days_to_close": round(float(seconds) / closed_count / 86400, 2) if closed_count else None}
    for code, waste_type, kg in db.session.execute(
            select(Shop.district_code, Handover.waste_type, func.sum(_kg())).join(Shop, Shop.id == Handover.shop_id)
            .where(Shop.district_code.in_(codes), Handover.status.in_(("confirmed", "disputed")),
                   *_slips(user, start, end))
            .group_by(Shop.district_code, Handover.waste_type)):
        rows[code]["waste_kg"][waste_type] = round(float(kg or 0), 2)
    for ticket in db.session.scalars(select(Case).where(
            Case.source == "hotline", Case.district_code.in_(codes),
            Case.received_at >= window[0], Case.received_at < window[1])):
        counts = rows[ticket.district_code]["hotline"]
        counts["received"] += 1
        counts["redo"] += ticket.redo_count
        if ticket.status == "sent_back":
            counts["sent_back"] += 1
        elif ticket.status == "closed":
            counts["closed_on_time" if business_date(ticket.closed_at) <= ticket.deadline else "closed_late"] += 1
        elif card := cases.card(ticket, end):
            counts[card] += 1
    _complaints(rows, codes, window)
    return {"from_": start, "to": end, "items": list(rows.values())}


def _grades(user, rows, codes, end):
    """Active shops, grades and overdue counts per district on ``end``: for today from the overview's
    graded pass of the caller's jurisdiction (held up to OVERVIEW_CACHE_SECONDS, the same figures
    the console's map shows), for an earlier day from the records."""
    if end == today():
        tallies = overview.city_pass(user).numbers
        for code in codes:
            tally = tallies.get(code)
            if tally:
                rows[code]["shops"] = {"active": tally["active"], "unclaimed": tally["unclaimed"]}
                rows[code]["grades"] = dict(tally["grades"])
                rows[code]["overdue"] = {"purifier": tally["purifier_overdue"], "waste": tally["waste_overdue"],
                                         "rectification": tally["shops_orders_overdue"]}
        return
    in_scope = select(Shop.id).where(Shop.district_code.in_(codes))
    district_of = dict(db.session.execute(
        select(Shop.id, Shop.district_code).where(Shop.district_code.in_(codes))).all())
    unclaimed = set(db.session.scalars(select(Shop.id).where(Shop.district_code.in_(codes), Shop.claimed_at.is_(None))))
    for shop_id, result in compliance_bulk(in_scope, end).items():
        row = rows[district_of[shop_id]]
        if not result["active"]:
            continue
        row["shops"]["active"] += 1
        row["shops"]["unclaimed"] += shop_id in unclaimed
        row["grades"][result["grade"]] += 1
        row["overdue"]["purifier"] += result["purifier"]["status"] == "overdue"
        row["overdue"]["waste"] += result["waste"]["status"] == "overdue"
        row["overdue"]["rectification"] += result["rectification"]["overdue"] > 0


def _complaints(rows, codes, window):
    """Complaints filed in the period: by category, linked to a shop, duplicates, median hours to triage."""
    waits = {code: [] for code in codes}
    for code, category, shop_id, status, created_at, triaged_at in db.session.execute(
            select(Complaint.district_code, Complaint.category, Complaint.shop_id, Complaint.status,
                   Complaint.created_at, Complaint.triaged_at)
            .where(Complaint.district_code.in_(codes), Complaint.created_at >= window[0],
                   Complaint.created_at < window[1])):
        counts = rows[code]["complaints"]
        counts["received"] += 1
        counts["by_category"][category] += 1
        counts["linked"] += shop_id is not None
        counts["duplicates"] += status == "duplicate"
        if triaged_at is not None:
            waits[code].append((triaged_at - created_at).total_seconds() / 3600)
    for code, hours in waits.items():
        if hours:
            rows[code]["complaints"]["median_hours_to_triage"] = round(statistics.median(hours), 2)


HOTLINE_COUNTS = ("received", "closed_on_time", "closed_late", "yellow", "red", "sent_back", "redo")


def _seconds_between(earlier, later):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400


def collectors(user, args):
    start, end = period(args)
    counting = Handover.status.in_(("confirmed", "disputed"))
    statement = (select(Handover.collector_company_id, CollectorCompany.name, func.count(Handover.id),
                        func.sum(case((counting & (Handover.waste_type == "kitchen_waste"), _kg()), else_=0)),
                        func.sum(case((counting & (Handover.waste_type == "waste_oil"), _kg()), else_=0)),
                        func.sum(case((Handover.status == "disputed", 1), else_=0)),
                        func.sum(case((Handover.status == "rejected", 1), else_=0)),
                        func.sum(case((Handover.status == "pending", 1), else_=0)))
                 .join(CollectorCompany, CollectorCompany.id == Handover.collector_company_id)
                 .where(*_slips(user, start, end))
                 .group_by(Handover.collector_company_id, CollectorCompany.name)
                 .order_by(Handover.collector_company_id))
    items = [{"collector_company_id": cid, "name": name, "slips": slips,
              "waste_kg": {"kitchen_waste": round(float(kitchen or 0), 2), "waste_oil": round(float(oil or 0), 2)},
              "disputed": int(disputed or 0), "rejected": int(rejected or 0), "pending": int(pending or 0)}
             for cid, name, slips, kitchen, oil, disputed, rejected, pending in db.session.execute(statement)]
    return {"from_": start, "to": end, "items": items}
