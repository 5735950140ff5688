"""District statistics for the quarterly evaluation (item 22) and kitchen-waste collection
(item 17's 收运量).  Counts come from set-based SQL; kilograms and slips from the per-district daily
tallies (``records.tallies``); grades from the compliance engine's bulk form."""
import datetime as dt
import statistics

from sqlalchemy import case, func, select

from server.clock import business_date, end_of_day, start_of_day, today
from server.errors import fail
from server.extensions import db
from server.models.collector import CollectorCompany
from server.models.complaint import CATEGORIES, Complaint
from server.models.inspection import Case, Inspection, Rectification
from server.models.records import WASTE_TYPES
from server.models.reference import District
from server.models.shop import Shop
from server.models.tallies import WasteTally
from server.services.compliance import COUNTING_SLIP_STATUSES, compliance_bulk
from server.services.enforcement import cases
from server.services.reports import overview, past_grades


def period(args):
    """[from, to] business dates; default: this quarter up to today."""
    end = args.get("to") or today()
    start = args.get("from_") or dt.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    if start > end:
        fail(422, fields={"from": ["开始日期不能晚于结束日期"]})
    return start, end


def _kg(centi):
    return round(int(centi or 0) / 100, 2)


def _days(start, end):
    """The tallies (slips in force, per district and business day) of the period."""
    return WasteTally.day >= start, WasteTally.day <= end


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
    for code, waste_type, centi in db.session.execute(
            select(WasteTally.district_code, WasteTally.waste_type, func.sum(WasteTally.centi_kg))
            .where(WasteTally.district_code.in_(codes), WasteTally.status.in_(COUNTING_SLIP_STATUSES),
                   *_days(start, end))
            .group_by(WasteTally.district_code, WasteTally.waste_type)):
        rows[code]["waste_kg"][waste_type] = _kg(centi)
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
    the console's map shows), for an earlier day from the records, graded once per district and day
    and kept until something that could change it is written (``past_grades``)."""
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
    for code, tally in past_grades.tallies(codes, end, lambda missing: _graded_on(missing, end)).items():
        rows[code].update(tally)


def _graded_on(codes, day):
    """``{code: {"shops", "grades", "overdue"}}`` of these districts as of a past ``day``, from the records."""
    made = {code: {"shops": {"active": 0, "unclaimed": 0}, "grades": {"A": 0, "B": 0, "C": 0},
                   "overdue": {"purifier": 0, "waste": 0, "rectification": 0}} for code in codes}
    in_scope = select(Shop.id).where(Shop.district_code.in_(codes))
    district_of = dict(db.session.execute(
        select(Shop.id, Shop.district_code).where(Shop.district_code.in_(codes))).all())
    unclaimed = set(db.session.scalars(select(Shop.id).where(Shop.district_code.in_(codes), Shop.claimed_at.is_(None))))
    for shop_id, result in compliance_bulk(in_scope, day).items():
        row = made[district_of[shop_id]]
        if not result["active"]:
            continue
        row["shops"]["active"] += 1
        row["shops"]["unclaimed"] += shop_id in unclaimed
        row["grades"][result["grade"]] += 1
        row["overdue"]["purifier"] += result["purifier"]["status"] == "overdue"
        row["overdue"]["waste"] += result["waste"]["status"] == "overdue"
        row["overdue"]["rectification"] += result["rectification"]["overdue"] > 0
    return made


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
    """Per company, the slips in force handed over in the period by shops in the caller's districts."""
    start, end = period(args)
    status = WasteTally.status
    where = [*_days(start, end)]
    if user.jurisdiction is not None:
        where.append(WasteTally.district_code.in_(user.jurisdiction))
    statement = (select(WasteTally.collector_company_id, CollectorCompany.name, func.sum(WasteTally.slips),
                        *(func.sum(case((status.in_(COUNTING_SLIP_STATUSES) & (WasteTally.waste_type == kind),
                                         WasteTally.centi_kg), else_=0)) for kind in WASTE_TYPES),
                        *(func.sum(case((status == name, WasteTally.slips), else_=0))
                          for name in ("disputed", "rejected", "pending")))
                 .join(CollectorCompany, CollectorCompany.id == WasteTally.collector_company_id)
                 .where(*where)
                 .group_by(WasteTally.collector_company_id, CollectorCompany.name)
                 .having(func.sum(WasteTally.slips) > 0)
                 .order_by(WasteTally.collector_company_id))
    items = [{"collector_company_id": cid, "name": name, "slips": int(slips),
              "waste_kg": {"kitchen_waste": _kg(kitchen), "waste_oil": _kg(oil)},
              "disputed": int(disputed or 0), "rejected": int(rejected or 0), "pending": int(pending or 0)}
             for cid, name, slips, kitchen, oil, disputed, rejected, pending in db.session.execute(statement)]
    return {"from_": start, "to": end, "items": items}
