"""Where a point is: the district whose boundary holds it.

One rule, used by complaints (API and Open311), 12345 tickets with a location, inspections and the
roster: a WGS-84 point lies in the district whose polygon contains it — a functional zone's polygon
(高新区, 太白湖新区, 经开区) before its county's — else, in a gap of the polygons, in the district of
the nearest registered shop within ``FALLBACK_M``; a point outside the city's box is a 422.

The polygons live in ``districts.boundary`` (see ``places.boundaries``).  Each process holds them
prepared (GEOS indexes each ring), with their bounding boxes, for lookups in microseconds; it looks
again for newer boundaries every ``RECHECK_SECONDS`` (another process may have loaded some).
"""
import json
import threading
import time
from typing import NamedTuple

import shapely
from flask import current_app
from shapely.geometry import shape
from sqlalchemy import and_, event, func, select

from server.errors import fail
from server.extensions import db
from server.geo import bounding_box, haversine_m
from server.models.reference import District
from server.models.shop import Shop
from server.pagination import paginate
from server.services import scope

FALLBACK_M = 1000  # a point in no polygon (a gap along a simplified border) takes a shop's this near
RECHECK_SECONDS = 30
HELD_DATABASES = 4  # a process serves one database; a test run makes one per test


class Area(NamedTuple):
    code: str
    west: float
    south: float
    east: float
    north: float
    geometry: object  # a prepared shapely geometry


class Boundaries(NamedTuple):
    areas: tuple  # zones first, then counties: the first that contains a point wins
    stamp: object  # the newest boundary_updated_at when read
    coded: frozenset  # the codes that have a boundary
    names: dict  # every district's name, for the warnings
    read_at: float


_held, _lock = {}, threading.Lock()


def _read(connection):
    rows = connection.execute(select(District.code, District.kind, District.boundary, District.boundary_updated_at)
                              .where(District.boundary.is_not(None))
                              .order_by(District.kind != "zone", District.position, District.code)).all()
    areas = []
    for code, _kind, text, _at in rows:
        geometry = shape(json.loads(text))
        shapely.prepare(geometry)
        west, south, east, north = geometry.bounds
        areas.append(Area(code, west, south, east, north, geometry))
    stamp = _stamp(connection)  # the same figure held() compares with (a cleared zone counts too)
    names = dict(connection.execute(select(District.code, District.name)).all())
    return Boundaries(tuple(areas), stamp, frozenset(row[0] for row in rows), names, time.monotonic())


def _stamp(connection):
    return connection.execute(select(func.max(District.boundary_updated_at))).scalar()


def held(connection=None):
    """This process's boundaries for the app's database (read again when another process changed them)."""
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    with _lock:
        found = _held.get(key)
    if found is not None and time.monotonic() - found.read_at < RECHECK_SECONDS:
        return found
    connection = connection if connection is not None else db.session.connection()
    if found is not None and _stamp(connection) == found.stamp:
        found = found._replace(read_at=time.monotonic())
    else:
        found = _read(connection)
    with _lock:
        _held.pop(key, None)
        _held[key] = found
        while len(_held) > HELD_DATABASES:
            _held.pop(next(iter(_held)))
    return found


def forget():
    """After loading boundaries: this process reads them again at its next lookup."""
    with _lock:
        _held.pop(current_app.config["SQLALCHEMY_DATABASE_URI"], None)


def district_at(lat, lng, boundaries=None):
    """The code of the district whose polygon contains the point (a zone's before its county's), or None."""
    for area in (boundaries or held()).areas:
        if area.west <= lng <= area.east and area.south <= lat <= area.north \
                and shapely.contains_xy(area.geometry, lng, lat):
            return area.code
    return None


@event.listens_for(Shop, "before_insert")
@event.listens_for(Shop, "before_update")
def _locate(_mapper, connection, shop):
    """Every shop written through the ORM knows the district its point lies in (bulk loads set it
    themselves, or call ``boundaries.relocate``)."""
    shop.located_in = district_at(shop.lat, shop.lng, held(connection))


def in_city(lat, lng):
    south, west, north, east = current_app.config["CITY_BOUNDS"]
    return south <= lat <= north and west <= lng <= east


def place(lat, lng, field="lat"):
    """The district of a WGS-84 point: its polygon's; where no polygon holds it, the nearest active
    shop's within ``FALLBACK_M``; outside the city or with neither, 422 naming ``field``."""
    from server.services.roster.shops import check_location  # the roster's own check of the city box

    check_location(lat, lng, field=field)
    code = district_at(lat, lng)
    if code is not None:
        return code
    south, west, north, east = bounding_box(lat, lng, FALLBACK_M)
    near = db.session.execute(select(Shop.district_code, Shop.lat, Shop.lng).where(
        Shop.lat.between(south, north), Shop.lng.between(west, east), Shop.status == "active")).all()
    near = sorted((haversine_m(lat, lng, s_lat, s_lng), code) for code, s_lat, s_lng in near)
    if near and near[0][0] <= FALLBACK_M:
        return near[0][1]
    fail(422, fields={field: ["该位置不在本市任何区县的边界内，附近也没有登记的店铺，请选择所在区县"]})


def label_points():
    """``{code: [lat, lng]}``: a point inside each district's polygon, where its name goes on a map."""
    points = {}
    for area in held().areas:
        point = area.geometry.representative_point()
        points[area.code] = [round(point.y, 5), round(point.x, 5)]
    return points


def name_of(code):
    return held().names.get(code, code)


def mismatch(declared, located):
    """The warning for a shop declared in ``declared`` whose point lies in ``located`` (None when they
    agree, or when either is unknown: a district with no boundary loaded cannot be checked)."""
    boundaries = held()
    if located is None or declared == located or declared not in boundaries.coded:
        return None
    names = boundaries.names
    return {"code": "district_mismatch", "declared": declared, "located_in": located,
            "message": f"店铺坐标位于{names.get(located, located)}，登记的区县为{names.get(declared, declared)}，"
                       f"请核对区县或坐标"}


def shop_warnings(shop):
    """``[warning]`` for a stored shop (its ``located_in`` is kept by the model's hook)."""
    warning = mismatch(shop.district_code, shop.located_in)
    return [warning] if warning else []


def mismatched():
    """The SQL condition of :func:`mismatch` over shops: located in another district than the one
    declared, the declared one having a boundary."""
    return and_(Shop.located_in.is_not(None), Shop.located_in != Shop.district_code,
                Shop.district_code.in_(select(District.code).where(District.boundary.is_not(None))))


def misplaced(user, args):
    """``/console/boundaries``' list: the shops ``user`` sees whose point lies in another district than
    the one declared, by district then id (a page)."""
    statement = select(Shop).where(scope.of_visible_shops(Shop.id, user), mismatched())
    if args.get("district_code"):
        statement = statement.where(Shop.district_code == args["district_code"])
    return paginate(statement.order_by(Shop.district_code, Shop.id), args)
