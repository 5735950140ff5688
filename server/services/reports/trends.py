"""The statistics page's other two views of a period: month by month across it, and one district's
streets (today's standing, from the same held pass as the district table and the map)."""
import datetime as dt

from sqlalchemy import func, select, true

from server.clock import end_of_day, start_of_day
from server.database import business_day
from server.errors import fail
from server.extensions import db
from server.models.complaint import Complaint
from server.models.inspection import Case, Inspection, Rectification
from server.models.shop import Shop
from server.models.tallies import WasteTally
from server.services import scope
from server.services.compliance import COUNTING_SLIP_STATUSES
from server.services.reports import overview
from server.services.reports.stats import period

MEASURES = ("inspections", "orders_issued", "orders_closed", "kitchen_waste_kg", "complaints", "hotline")
NO_STREET = "（未填街道）"


def _months(start, end):
    month, months = dt.date(start.year, start.month, 1), []
    while month <= end:
        months.append(month)
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def monthly(user, args):
    """``{"from_", "to", "items": [{"month", measures...}]}``: the caller's districts month by month."""
    start, end = period(args)
    codes = scope.known_district_codes() if user.jurisdiction is None else list(user.jurisdiction)
    codes = [code for code in codes if args.get("district_code") in (None, code)]
    rows = {month: {"month": month.isoformat()[:7], **dict.fromkeys(MEASURES, 0)} for month in _months(start, end)}
    lo, hi = start_of_day(start), end_of_day(end)
    everywhere = user.jurisdiction is None and not args.get("district_code")  # a city-wide view: no filter

    def shops_in(column):
        return true() if everywhere else column.in_(select(Shop.id).where(Shop.district_code.in_(codes)))

    def in_codes(column):
        return true() if everywhere else column.in_(codes)

    def count(measure, column, *where):
        """Add up ``measure`` by the business day of ``column`` (grouped in the database: a day a row)."""
        day = business_day(column, db.session)
        for on, number in db.session.execute(select(day, func.count()).where(column >= lo, column < hi, *where)
                                             .group_by(day)):
            on = on if isinstance(on, dt.date) else dt.date.fromisoformat(str(on))
            if (row := rows.get(dt.date(on.year, on.month, 1))):
                row[measure] += number

    count("inspections", Inspection.inspected_at, shops_in(Inspection.shop_id), Inspection.voided_at.is_(None))
    count("orders_issued", Rectification.created_at, shops_in(Rectification.shop_id))
    count("orders_closed", Rectification.closed_at, shops_in(Rectification.shop_id))
    count("complaints", Complaint.created_at, in_codes(Complaint.district_code))
    count("hotline", Case.received_at, Case.source == "hotline", in_codes(Case.district_code))
    for day, centi in db.session.execute(
            select(WasteTally.day, func.sum(WasteTally.centi_kg))
            .where(in_codes(WasteTally.district_code), WasteTally.waste_type == "kitchen_waste",
                   WasteTally.status.in_(COUNTING_SLIP_STATUSES), WasteTally.day >= start, WasteTally.day <= end)
            .group_by(WasteTally.day)):
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        rows[dt.date(day.year, day.month, 1)]["kitchen_waste_kg"] += int(centi or 0)
    for row in rows.values():
        row["kitchen_waste_kg"] = round(row["kitchen_waste_kg"] / 100, 2)
    return {"from_": start, "to": end, "items": list(rows.values())}


def streets(user, district_code):
    """A district's streets ranked by their share of C-grade shops (worst first): active and unclaimed
    shops and the grades, as the held pass graded them."""
    if district_code not in scope.known_district_codes() or not user.covers(district_code):
        fail(404, "区县不存在或不在您的辖区内")
    standings = overview.city_pass(user, any_age=True).standings
    rows = {}
    for shop_id, street, claimed_at in db.session.execute(
            select(Shop.id, Shop.street, Shop.claimed_at).where(Shop.district_code == district_code,
                                                                Shop.status == "active")):
        name = (street or "").strip() or NO_STREET
        row = rows.setdefault(name, {"street": name, "active": 0, "unclaimed": 0, "grades": {"A": 0, "B": 0, "C": 0}})
        standing = standings.get(shop_id)
        if standing is None or standing.grade is None:
            continue
        row["active"] += 1
        row["unclaimed"] += claimed_at is None
        row["grades"][standing.grade] += 1
    ranked = sorted(rows.values(), key=lambda r: (-(r["grades"]["C"] / r["active"]) if r["active"] else 0,
                                                  -r["active"], r["street"]))
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    return ranked
