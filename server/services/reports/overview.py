"""The console's overview (一张图): every active shop in view as a point coloured by grade, and the
numbers that matter today, from one graded pass over the shops (their stored facts joined).

The pass grades the whole jurisdiction — seconds for a 50,000-shop city — so one result per
jurisdiction is kept in the process, tallied per district: a district's view is a slice of it, not
a pass of its own.  It is fresh for ``OVERVIEW_CACHE_SECONDS`` [60]; after that the held result is
still shown while one background thread grades the city again (stale-while-revalidate), so only
the first visitor after a start, or after ``STALE_LIMIT`` fresh periods without a visitor, waits
for a pass.  0 = nothing is kept (every request grades).  The page says when its figures were made.
"""
import collections
import datetime as dt
import json
import logging
import threading
import time
from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, select

from server.clock import utcnow
from server.database import read_only
from server.extensions import db
from server.models.complaint import Complaint
from server.models.inspection import Case
from server.models.shop import Shop
from server.models.shop_facts import ShopFacts
from server.models.user import User
from server.services import scope
from server.services.compliance import SHOP_COLUMNS, compliance_bulk, graded, standing_of
from server.services.enforcement.cases import ENDED, card

logger = logging.getLogger(__name__)
# A held pass older than this many fresh periods is not shown: the request waits for a new one.
STALE_LIMIT = 10
NUMBERS = ("active", "unclaimed", "purifier_overdue", "waste_overdue", "orders_open", "orders_overdue",
           "shops_orders_overdue", "cases_open", "cards_yellow", "cards_red", "complaints_new")
# A write whose shop facts were rewritten just before the pass began reading may commit after it did.
WRITE_MARGIN = dt.timedelta(seconds=30)

_held, _lock, _running = {}, threading.Lock(), {}


class CityPass(NamedTuple):
    """One graded pass: per district code, its points, numbers and bounds; every shop's standing;
    when it was made."""
    points: dict
    numbers: dict
    bounds: dict
    standings: dict  # shop id → compliance.Standing, inactive shops included
    made_at: object  # aware datetime, shown on the page
    made: float      # time.monotonic(), for its age
    encoded: dict    # map.json bodies already serialised, per district choice


def overview(user, district_code=None):
    """``{"points": [[id, lat, lng, colour]...], "numbers": {...}, "bounds": [s, w, n, e] | None,
    "made_at": datetime}`` for the shops ``user`` (staff) sees, of one district when given.
    Colour: A, B, C, or U (unclaimed)."""
    return _view(city_pass(user), district_code)


def _view(city, district_code):
    codes = [district_code] if district_code else list(city.numbers)
    numbers, points, boxes = _tally(), [], []
    for code in codes:
        if code not in city.numbers:
            continue
        held = city.numbers[code]
        for name in NUMBERS:
            numbers[name] += held[name]
        for grade in "ABC":
            numbers["grades"][grade] += held["grades"][grade]
        points.extend(city.points.get(code, ()))
        if city.bounds.get(code):
            boxes.append(city.bounds[code])
    bounds = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
              max(b[3] for b in boxes)] if boxes else None
    return {"points": points, "numbers": numbers, "bounds": bounds, "made_at": city.made_at}


def map_json(user, district_code=None):
    """The map's points and bounds as JSON bytes, serialised once per held pass and district."""
    city = city_pass(user)
    body = city.encoded.get(district_code)
    if body is None:
        data = _view(city, district_code)
        body = json.dumps({"points": data["points"], "bounds": data["bounds"]}, separators=(",", ":")).encode()
        city.encoded[district_code] = body
    return body


def standings(user):
    """``{shop_id: Standing}`` of every shop ``user`` (staff) sees, for the lists that filter or rank by
    grade: the held pass's, with the shops whose facts were rewritten since it was made (a write)
    graded again now.  So a filtered list may be up to OVERVIEW_CACHE_SECONDS behind the clock (an
    order falling overdue at its deadline), never behind a write."""
    city = city_pass(user)
    changed = select(ShopFacts.shop_id).where(ShopFacts.refreshed_at > city.made_at - WRITE_MARGIN,
                                              scope.of_visible_shops(ShopFacts.shop_id, user))
    fresh = compliance_bulk(changed)
    if not fresh:
        return city.standings
    return collections.ChainMap({shop_id: standing_of(c) for shop_id, c in fresh.items()}, city.standings)


def forget():
    """Drop what is held (tests; a deployment just waits a minute)."""
    settle()
    with _lock:
        _held.clear()


def settle(timeout=60):
    """Wait for background passes under way (tests; a worker's shutdown)."""
    with _lock:
        threads = list(_running.values())
    for thread in threads:
        thread.join(timeout)


def city_pass(user):
    """The graded pass over the shops ``user`` sees (held, or made now)."""
    seconds = current_app.config["OVERVIEW_CACHE_SECONDS"]
    if seconds <= 0:
        return _compute(user)
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"],
           tuple(sorted(user.jurisdiction)) if user.jurisdiction is not None else None)
    with _lock:
        held = _held.get(key)
    age = time.monotonic() - held.made if held else None
    if held is None or age > seconds * STALE_LIMIT:
        city = _compute(user)
        with _lock:
            _held[key] = city
        return city
    if age > seconds:
        _refresh_later(key, user.id)
    return held


def _refresh_later(key, user_id):
    """Grade the city again in a thread of this process (one per jurisdiction at a time)."""
    app = current_app._get_current_object()

    def run():
        try:
            with app.app_context():
                try:
                    with read_only():
                        user = db.session.get(User, user_id)
                    if user is not None:
                        city = _compute(user)
                        with _lock:
                            _held[key] = city
                finally:
                    db.session.remove()
        except Exception:  # the held pass stays; the next visitor tries again
            logger.exception("overview refresh failed")
        finally:
            with _lock:
                _running.pop(key, None)

    with _lock:
        if key in _running:
            return
        thread = _running[key] = threading.Thread(target=run, name="overview-refresh", daemon=True)
    thread.start()


def _tally():
    return {**{name: 0 for name in NUMBERS}, "grades": {"A": 0, "B": 0, "C": 0}}


def _compute(user):
    """The pass, as a pure read: on SQLite it does not hold the write lock for its seconds."""
    db.session.commit()  # end the request's transaction (begun for writing) before a long read
    with read_only():
        return _graded_pass(user)


def _graded_pass(user):
    made_at = utcnow()
    numbers, points, standings = collections.defaultdict(_tally), collections.defaultdict(list), {}
    statement = scope.shops_visible_to(user).with_only_columns(
        *SHOP_COLUMNS, Shop.lat, Shop.lng, Shop.claimed_at).order_by(Shop.id)
    for row, compliance in graded(statement):
        standings[row.id] = standing_of(compliance)
        if not compliance["active"]:
            continue
        tally = numbers[row.district_code]
        tally["active"] += 1
        tally["grades"][compliance["grade"]] += 1
        tally["purifier_overdue"] += compliance["purifier"]["status"] == "overdue"
        tally["waste_overdue"] += compliance["waste"]["status"] == "overdue"
        tally["orders_open"] += compliance["rectification"]["open"]
        tally["orders_overdue"] += compliance["rectification"]["overdue"]
        tally["shops_orders_overdue"] += compliance["rectification"]["overdue"] > 0
        unclaimed = row.claimed_at is None
        tally["unclaimed"] += unclaimed
        points[row.district_code].append(
            [row.id, round(row.lat, 6), round(row.lng, 6), "U" if unclaimed else compliance["grade"]])
    for case in db.session.scalars(scope.cases_visible_to(user).where(Case.status.not_in(ENDED))):
        tally = numbers[case.district_code]
        tally["cases_open"] += 1
        colour = card(case)
        if colour:
            tally["cards_" + colour] += 1
    for code, count in db.session.execute(
            scope.complaints_visible_to(user).where(Complaint.status == "open").order_by(None)
            .with_only_columns(Complaint.district_code, func.count()).group_by(Complaint.district_code)):
        numbers[code]["complaints_new"] += count
    bounds = {code: [min(p[1] for p in found), min(p[2] for p in found), max(p[1] for p in found),
                     max(p[2] for p in found)] for code, found in points.items()}
    db.session.commit()  # end the read transaction: the result may be held for a while
    # Plain dicts from here: a district asked for later must not be added by looking it up.
    return CityPass(dict(points), dict(numbers), bounds, standings, made_at, time.monotonic(), {})
