"""The console's overview (一张图): every active shop in view as a point coloured by grade, and the
numbers that matter today, from one graded pass over the shops (their stored facts joined).

The pass grades the whole jurisdiction — seconds for a 50,000-shop city — so one result per
jurisdiction is kept (:mod:`server.services.reports.passes`: in the process, and in the database for
every worker), tallied per district: a district's view is a slice of it, not a pass of its own.
The same pass gives the lists filtered or ranked by grade each shop's standing (:func:`standings`).
The page says when its figures were made.
"""
import collections
import datetime as dt
import json

from sqlalchemy import func, select

from server.clock import utcnow
from server.database import read_only
from server.extensions import db
from server.models.complaint import Complaint
from server.models.inspection import Case
from server.models.shop import Shop
from server.models.shop_facts import ShopFacts
from server.services import scope
from server.services.compliance import SHOP_COLUMNS, Standings, compliance_bulk, graded, standing_of
from server.services.enforcement.cases import ENDED, card
from server.services.reports import passes
from server.services.reports.passes import CityPass

NUMBERS = ("active", "unclaimed", "purifier_overdue", "waste_overdue", "orders_open", "orders_overdue",
           "shops_orders_overdue", "cases_open", "cards_yellow", "cards_red", "complaints_new")
# A write whose shop facts were rewritten just before the pass began reading may commit after it did.
WRITE_MARGIN = dt.timedelta(seconds=30)


def overview(user, district_code=None):
    """``{"numbers": {...}, "bounds": [s, w, n, e] | None, "made_at": datetime}`` for the shops
    ``user`` (staff) sees, of one district when given (the points come from :func:`map_json`)."""
    return _view(city_pass(user, any_age=True), district_code)


def _codes(city, district_code):
    return [code for code in ([district_code] if district_code else list(city.numbers)) if code in city.numbers]


def _view(city, district_code):
    numbers, boxes = _tally(), []
    for code in _codes(city, district_code):
        held = city.numbers[code]
        for name in NUMBERS:
            numbers[name] += held[name]
        for grade in "ABC":
            numbers["grades"][grade] += held["grades"][grade]
        if city.bounds.get(code):
            boxes.append(city.bounds[code])
    bounds = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
              max(b[3] for b in boxes)] if boxes else None
    return {"numbers": numbers, "bounds": bounds, "made_at": city.made_at}


def map_json(user, district_code=None):
    """``{"points": [[id, lat, lng, colour]...], "bounds": ...}`` as JSON bytes (colour: A, B, C, or U
    for unclaimed): each district's points were serialised once, when the pass was made."""
    city = city_pass(user, any_age=True)
    body = city.encoded.get(district_code)
    if body is None:
        points = ",".join(city.points[code] for code in _codes(city, district_code) if city.points.get(code))
        bounds = json.dumps(_view(city, district_code)["bounds"], separators=(",", ":"))
        body = city.encoded[district_code] = f'{{"points":[{points}],"bounds":{bounds}}}'.encode()
    return body


def standings(user):
    """``{shop_id: Standing}`` of every shop ``user`` (staff) sees, for the lists that filter or rank by
    grade: the held pass's, with the shops whose facts were rewritten since it was made (a write)
    graded again now.  So a filtered list may be up to OVERVIEW_CACHE_SECONDS behind the clock (an
    order falling overdue at its deadline), never behind a write."""
    city = city_pass(user)
    changed = select(ShopFacts.shop_id).where(ShopFacts.refreshed_at > rewritten_after(city),
                                              scope.of_visible_shops(ShopFacts.shop_id, user))
    return graded_again(city.standings, changed)


def rewritten_after(city):
    """Shops whose facts were rewritten after this moment may have changed since ``city`` was graded."""
    return city.made_at - WRITE_MARGIN


def graded_again(held, shop_ids, graded_now=None):
    """``held`` (``{shop_id: Standing}``) with the shops of ``shop_ids`` (a list, or a ``select`` of
    ids) graded now, over it.  ``graded_now(grades)``, when given, receives those shops' compliance
    (a list hands it to its dump instead of grading its page again)."""
    fresh = compliance_bulk(shop_ids) if not isinstance(shop_ids, list) or shop_ids else {}
    if graded_now is not None:
        graded_now(fresh)
    if not fresh:
        return held
    return collections.ChainMap({shop_id: standing_of(c) for shop_id, c in fresh.items()}, held)


def city_pass(user, *, any_age=False):
    """The graded pass over the shops ``user`` sees (held, stored, or made now; see ``passes``)."""
    return passes.held_pass(user, _compute, any_age=any_age)


def refresh_all(echo=print):
    """(cron) A new pass for every jurisdiction in use."""
    return passes.refresh_all(_compute, echo)


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
    # Each district's points as JSON text (without its brackets): map.json joins them, and a worker
    # that reads the stored pass need not parse 50,000 points to serve them.
    points = {code: json.dumps(found, separators=(",", ":"))[1:-1] for code, found in points.items()}
    db.session.commit()  # end the read transaction: the result may be held for a while
    # Plain dicts from here: a district asked for later must not be added by looking it up.
    return CityPass(points, dict(numbers), bounds, Standings(standings.items()), made_at, {})
