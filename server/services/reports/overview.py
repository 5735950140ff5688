"""The console's overview (一张图): every active shop in view as a point coloured by grade, and the
numbers that matter today, from one graded pass over the shops (their stored facts joined).

The pass grades the whole jurisdiction — about a second for a 50,000-shop city — so one result is
kept per (jurisdiction, district) for ``CACHE_SECONDS`` in the process: the page and its map data
ask within the same second, and a desk refreshing its map does not grade the city each time
(``OVERVIEW_CACHE_SECONDS``, 0 = never kept)."""
import threading
import time

from flask import current_app
from sqlalchemy import func

from server.extensions import db
from server.models.complaint import Complaint
from server.models.inspection import Case
from server.models.shop import Shop
from server.services import scope
from server.services.compliance import SHOP_COLUMNS, graded
from server.services.enforcement.cases import ENDED, card

_cache, _lock = {}, threading.Lock()


def overview(user, district_code=None):
    """``{"points": [[id, lat, lng, colour]...], "numbers": {...}, "bounds": [s, w, n, e] | None}``
    for the shops ``user`` sees (of one district when given).  Colour: A, B, C, or U (unclaimed)."""
    seconds = current_app.config["OVERVIEW_CACHE_SECONDS"]
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"],
           tuple(sorted(user.jurisdiction)) if user.jurisdiction is not None else None, district_code)
    with _lock:
        held = _cache.get(key)
        if held and held[0] > time.monotonic():
            return held[1]
    result = _compute(user, district_code)
    if seconds > 0:
        with _lock:
            _cache[key] = (time.monotonic() + seconds, result)
    return result


def forget():
    """Drop what is held (tests; a deployment just waits a minute)."""
    with _lock:
        _cache.clear()


def _compute(user, district_code):
    shops = scope.shops_visible_to(user)
    if district_code:
        shops = shops.where(Shop.district_code == district_code)
    numbers = {"active": 0, "grades": {"A": 0, "B": 0, "C": 0}, "unclaimed": 0, "purifier_overdue": 0,
               "waste_overdue": 0, "orders_open": 0, "orders_overdue": 0}
    points = []
    statement = shops.with_only_columns(*SHOP_COLUMNS, Shop.lat, Shop.lng, Shop.claimed_at).order_by(Shop.id)
    for row, compliance in graded(statement):
        if not compliance["active"]:
            continue
        numbers["active"] += 1
        numbers["grades"][compliance["grade"]] += 1
        numbers["purifier_overdue"] += compliance["purifier"]["status"] == "overdue"
        numbers["waste_overdue"] += compliance["waste"]["status"] == "overdue"
        numbers["orders_open"] += compliance["rectification"]["open"]
        numbers["orders_overdue"] += compliance["rectification"]["overdue"]
        unclaimed = row.claimed_at is None
        numbers["unclaimed"] += unclaimed
        points.append([row.id, round(row.lat, 6), round(row.lng, 6), "U" if unclaimed else compliance["grade"]])
    cases = scope.cases_visible_to(user).where(Case.status.not_in(ENDED))
    complaints = scope.complaints_visible_to(user).where(Complaint.status == "open")
    if district_code:
        cases = cases.where(Case.district_code == district_code)
        complaints = complaints.where(Complaint.district_code == district_code)
    open_cases = db.session.scalars(cases).all()
    cards = [card(case) for case in open_cases]
    numbers.update(cases_open=len(open_cases), cards_yellow=cards.count("yellow"), cards_red=cards.count("red"),
                   complaints_new=db.session.scalar(complaints.with_only_columns(func.count()).order_by(None)))
    bounds = None
    if points:
        lats, lngs = [p[1] for p in points], [p[2] for p in points]
        bounds = [min(lats), min(lngs), max(lats), max(lngs)]
    db.session.commit()  # end the read transaction: the result may be held for a minute
    return {"points": points, "numbers": numbers, "bounds": bounds}

