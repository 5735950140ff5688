"""Reading the roster: the shop list (filters, search, near), the patrol list, a shop's history.

Lists return pages of Shop objects; the Out schema dumps them.  Grades the service computed
anyway (to filter or to rank) and distances are handed to the dump with ``dump.prime``, so a page
is graded once."""

from flask import current_app
from sqlalchemy import or_, select

from server.database import writing
from server.extensions import db
from server.geo import bounding_box, cells_covering, haversine_m
from server.models.audit import AuditEntry
from server.models.shop import Shop
from server.models.shop_facts import ShopFacts
from server.pagination import paginate
from server.schemas import dump
from server.services import audit, scope
from server.services.compliance import (FILTERS, SHOP_COLUMNS, compliance_bulk, compliance_of, graded, matcher,
                                       standing_of)
from server.services.reports import overview
from server.services.roster.shops import check_location


def _like(text):
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filtered(user, args):
    """The shops ``user`` may see that pass the roster filters of ``args`` (district, status,
    claimed, q, near), and ``(lat, lng, radius_m)`` when ``near`` was asked (the statement then
    holds the near shops' bounding cells: the caller keeps those within the radius)."""
    statement = scope.shops_visible_to(user).order_by(Shop.id)
    for key in ("district_code", "status"):
        if key in args:
            statement = statement.where(getattr(Shop, key) == args[key])
    if "claimed" in args:
        statement = statement.where(Shop.claimed_at.is_not(None) if args["claimed"] else Shop.claimed_at.is_(None))
    if args.get("q"):
        pattern = _like(args["q"].strip())
        statement = statement.where(or_(Shop.name.ilike(pattern, escape="\\"),
                                        Shop.address.ilike(pattern, escape="\\"),
                                        Shop.uscc.ilike(pattern, escape="\\")))
    near = None
    if "near" in args:
        lat, lng = (float(x) for x in args["near"].split(","))
        # In the city, as a shop's own position must be (near a pole the cells covering the
        # radius would run to hundreds of thousands).
        check_location(lat, lng, field="near")
        near = (lat, lng, args["radius_m"])
        statement = statement.where(*around(lat, lng, args["radius_m"]))
    return statement, near


def around(lat, lng, radius_m):
    """Conditions for the shops in the box around a point (their grid cells, then the box): an indexed
    lookup; the caller keeps those within the radius."""
    south, west, north, east = bounding_box(lat, lng, radius_m)
    return (Shop.geo_cell.in_(cells_covering(south, west, north, east)), Shop.lat.between(south, north),
            Shop.lng.between(west, east))


ORDERS = {"id": (Shop.id,), "name": (Shop.name, Shop.id), "-registered_on": (Shop.registered_on.desc(), Shop.id.desc()),
          "priority": (Shop.id,)}


def list_shops(user, args):
    statement, near = filtered(user, args)
    statement = statement.order_by(None).order_by(*ORDERS[args.get("sort", "id")])
    wanted = {key: args[key] for key in FILTERS if key in args}
    by_priority = args.get("sort") == "priority" and not near
    # Staff's lists read grades from the overview's held pass (see _standings).
    pass_held = overview.standings(user) if (wanted or by_priority) and user.is_staff and current_app.config[
        "OVERVIEW_CACHE_SECONDS"] > 0 else None
    distances = {}
    if near:
        lat, lng, radius = near
        distances = {shop_id: haversine_m(lat, lng, shop_lat, shop_lng) for shop_id, shop_lat, shop_lng
                     in db.session.execute(statement.with_only_columns(Shop.id, Shop.lat, Shop.lng))}
        rows = sorted((shop_id for shop_id, distance in distances.items() if distance <= radius),
                      key=lambda shop_id: (distances[shop_id], shop_id))
    elif wanted or by_priority:
        rows = _selected(user, statement, args, pass_held)
    else:
        rows = None
    if wanted or by_priority:
        held = _standings(statement, rows, pass_held) if rows else {}
        test = matcher(wanted)
        rows = [shop_id for shop_id in rows if test(held[shop_id])]
        if by_priority:  # rows are in id order, and the sort is stable: ties stay by id
            rows.sort(key=lambda shop_id: -held[shop_id].priority)
    if rows is None:
        return paginate(statement, args)
    dump.prime("distance_m", distances)
    page = paginate(rows, args)
    page["items"] = _shops(page["items"])
    return page


def _selected(user, statement, args, held):
    """The ids of the shops ``statement`` selects, in id order.  City-wide staff asking for every shop
    (no roster filter) by id or priority: the held pass's shops, without reading 50,000 ids again
    (for a jurisdiction the query stays: a shop may have moved out of it since the pass)."""
    if held is not None and user.jurisdiction is None and args.get("sort", "id") in ("id", "priority") and not any(
            args.get(key) not in (None, "") for key in ("district_code", "status", "claimed", "q")):
        return sorted(held)
    return db.session.connection().execute(statement.with_only_columns(Shop.id)).scalars().all()


def _standings(statement, rows, held):
    """The standing of each shop in ``rows`` (the selection of ``statement``): from the held pass when
    there is one (``overview.standings``: a city's grading is seconds), else the selection is graded
    in one pass (a subquery, not a list of ids: it may be the whole city) and those grades go to the dump."""
    if held is not None:
        return overview.graded_again(held, [shop_id for shop_id in rows if shop_id not in held],  # made just now
                                     _to_the_dump)
    grades = compliance_bulk(statement.with_only_columns(Shop.id).order_by(None))
    _to_the_dump(grades)
    return {shop_id: standing_of(compliance) for shop_id, compliance in grades.items()}


def _to_the_dump(grades):
    """Grades made now for a list's ranking: its page's shops among them are not graded again."""
    dump.prime("compliance", grades)


def _shops(ids):
    """The shops with these ids, in this order (one query)."""
    found = {shop.id: shop for shop in db.session.scalars(select(Shop).where(Shop.id.in_(ids)))} if ids else {}
    return [found[shop_id] for shop_id in ids]


def patrol(user, args):
    """The inspector's active shops near it: highest priority first, then nearest."""
    check_location(args["lat"], args["lng"])
    statement = scope.shops_visible_to(user).where(*around(args["lat"], args["lng"], args["radius_m"]))
    if user.is_staff and current_app.config["OVERVIEW_CACHE_SECONDS"] > 0:
        return _patrol_by_standings(user, statement, args)
    # Grade every shop within the radius (priority needs them all), from the same query that found
    # them (their stored facts joined), but load whole shops only for the page.
    rows, grades, distances = [], {}, {}
    for row, compliance in graded(statement.with_only_columns(*SHOP_COLUMNS, Shop.lat, Shop.lng)):
        distance = haversine_m(args["lat"], args["lng"], row.lat, row.lng)
        if distance <= args["radius_m"] and compliance["active"]:
            rows.append((-compliance["priority"], distance, row.id))
            grades[row.id], distances[row.id] = compliance, distance
    page = paginate(sorted(rows), args)
    dump.prime("compliance", grades)
    dump.prime("distance_m", distances)
    page["items"] = _shops([shop_id for _, _, shop_id in page["items"]])
    return page


def _patrol_by_standings(user, statement, args):
    """The patrol list ranked by the held pass's priorities (as the staff's grade lists are: a dense
    district puts thousands of shops within the radius, each graded on every request otherwise).
    The shops in the radius rewritten since the pass was made are graded again (only those: the
    city's other writes do not slow an inspector's list); the page's other shops are graded live by the dump."""
    city = overview.city_pass(user)
    since = overview.rewritten_after(city)
    distances, stale = {}, []
    for shop_id, lat, lng, refreshed_at in db.session.execute(
            statement.outerjoin(ShopFacts, ShopFacts.shop_id == Shop.id)
            .with_only_columns(Shop.id, Shop.lat, Shop.lng, ShopFacts.refreshed_at)):
        distance = haversine_m(args["lat"], args["lng"], lat, lng)
        if distance <= args["radius_m"]:
            distances[shop_id] = distance
            if refreshed_at is None or refreshed_at > since or shop_id not in city.standings:
                stale.append(shop_id)
    standings = overview.graded_again(city.standings, stale, _to_the_dump)
    rows = sorted((-standings[shop_id].priority, distance, shop_id) for shop_id, distance in distances.items()
                  if standings[shop_id].grade is not None)  # graded: active on the day
    page = paginate(rows, args)
    ids = [shop_id for _, _, shop_id in page["items"]]
    dump.prime("distance_m", {shop_id: distances[shop_id] for shop_id in ids})
    page["items"] = _shops(ids)
    return page


def get(user, shop_id):
    return scope.get_shop_for(user, shop_id)


def compliance(user, shop_id, as_of=None):
    """The shop's compliance on ``as_of`` (any date), from its records."""
    return compliance_of(scope.get_shop_for(user, shop_id), as_of)


def history(user, shop_id, args):
    """The shop's audit trail, newest first (regulator, admin, inspector in jurisdiction)."""
    shop = scope.get_shop_for(user, shop_id)
    scope.require_staff(user, shop)
    statement = select(AuditEntry).where(AuditEntry.shop_id == shop.id).order_by(AuditEntry.id.desc())
    page = paginate(statement, args)
    # As plain values before the commit below expires the loaded rows (no reload per entry).
    page["items"] = [{"at": e.at, "actor_id": e.actor_id, "action": e.action, "object_type": e.object_type,
                      "object_id": e.object_id, "summary": e.summary} for e in page["items"]]
    read = shop.id
    with writing(db.session):  # a GET that writes: the audit chain's head is read under the write lock
        audit.record("shop.history_read", "shop", read, "查看店铺操作记录", shop_id=read)
        db.session.commit()
    return page
