"""How long placing a point takes: the district of a WGS-84 point, over random points in the city box.

    .venv/bin/python bench/places.py [--points 100000] [--zones]

Migrates a temporary SQLite database (which loads the shipped boundaries of 济宁's 11 county-level
districts), optionally adds three functional-zone polygons over them (--zones: the zones are tried
first, the worst case), then times ``places.district_at`` for every point, one call at a time as a
request makes it.  Beside it, in the same run: the floor — GEOS's own point-in-polygon on the one
prepared polygon that holds the point, with nothing else (no bounding boxes, no order) — so the
ratio says what the lookup around it costs on this machine.  Goal: median ≤ 50 µs.
"""
import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import shapely  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402
from server.services import places  # noqa: E402
from server.services.places import boundaries  # noqa: E402

GOAL_US = 50
ZONES = {"370871": (35.36, 116.46, 35.42, 116.56), "370891": (35.32, 116.57, 35.38, 116.66),
         "370800-JK": (35.24, 116.48, 35.30, 116.58)}  # (south, west, north, east)


def zone_file():
    features = [{"type": "Feature", "id": code, "geometry": {"type": "Polygon", "coordinates": [[
        [west, south], [east, south], [east, north], [west, north], [west, south]]]}}
        for code, (south, west, north, east) in ZONES.items()]
    return json.dumps({"type": "FeatureCollection", "features": features})


def timed(function, points):
    """Per-call times in µs (each call timed alone, as a request makes one)."""
    clock, times = time.perf_counter, []
    for lat, lng in points:
        started = clock()
        function(lat, lng)
        times.append((clock() - started) * 1e6)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--zones", action="store_true", help="also three functional zones over the counties")
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"APP_ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp}/places.db"})
        with app.app_context():
            upgrade()
            if args.zones:
                boundaries.load(db.session, zone_file(), "wgs84", "bench zones")
                db.session.commit()
            held = places.held()
            south, west, north, east = app.config["CITY_BOUNDS"]
            rnd = random.Random(7)
            points = [(rnd.uniform(south, north), rnd.uniform(west, east)) for _ in range(args.points)]
            found = [places.district_at(lat, lng, held) for lat, lng in points]  # also warms the caches
            owner = {area.code: area.geometry for area in held.areas}

            within = [(point, code) for point, code in zip(points, found) if code]
            holder = iter([owner[code] for _point, code in within])
            lookup = timed(lambda lat, lng: places.district_at(lat, lng), points)  # held() checked per call
            lookup_in = timed(lambda lat, lng: places.district_at(lat, lng), [point for point, _code in within])
            bare = timed(lambda lat, lng: shapely.contains_xy(next(holder), lng, lat), [p for p, _c in within])
    base = statistics.median(bare)
    print(f"{args.points} random points in the city box ({south}–{north} N, {west}–{east} E); "
          f"{len(within)} inside a district ({len(within) / args.points:.0%}); {len(held.areas)} polygons"
          + (" (3 zones first)" if args.zones else ""))
    for name, times in (("district_at, every point", lookup), ("district_at, points inside", lookup_in)):
        median, p99 = statistics.median(times), statistics.quantiles(times, n=100)[98]
        print(f"{name:28s} median {median:6.2f} µs   p99 {p99:6.2f} µs   {median / base:5.1f}× floor")
    print(f"{'floor (contains_xy alone)':28s} median {base:6.2f} µs   (GEOS on the one polygon that holds the point)")
    print(f"goal: median ≤ {GOAL_US} µs: " + ("met" if statistics.median(lookup) <= GOAL_US
                                              and statistics.median(lookup_in) <= GOAL_US else "MISSED"))


if __name__ == "__main__":
    main()
