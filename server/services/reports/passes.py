"""Where the overview's graded passes are kept: in each process, and in the database for all of them.

A pass grades a jurisdiction (seconds for a 50,000-shop city).  It is fresh for
``OVERVIEW_CACHE_SECONDS`` [60].  A process holds the last pass it saw; past that age it looks for a
newer one in ``overview_passes`` (another worker's or machine's) and, if that is stale too, shows
what it has while one background thread grades again — under a lease, so one process in the whole
deployment does it and the others read its result.  So a worker that has just started shows the
stored pass at once.  Lists and statistics, which must not be much behind the clock, wait for a new
pass when the one found is older than ``STALE_LIMIT`` periods; the map page shows any pass, with its
time.  ``flask --app wsgi overview refresh`` (cron, every minute) keeps them fresh with no visitor.
"""
import base64
import json
import logging
import sys
import threading
import zlib
from array import array
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select

from server.clock import utcnow
from server.database import upsert, writing
from server.extensions import db
from server.models.overview_pass import OverviewPass
from server.models.user import User
from server.services.compliance import Standing, Standings
from server.services.upkeep import jobs

logger = logging.getLogger(__name__)
# A pass older than this many fresh periods is not used for lists and statistics: they wait for a new one.
STALE_LIMIT = 10
LEASE_SECONDS = 600  # longer than any pass takes
FORMAT = 2  # of a stored pass (1: the standings as JSON lists)

_held, _lock, _running = {}, threading.Lock(), {}


class CityPass(NamedTuple):
    """One graded pass: per district code, its points, numbers and bounds; every shop's standing;
    when it was made."""
    points: dict     # district code → its points' JSON text, "[id,lat,lng,colour],..."
    numbers: dict
    bounds: dict
    standings: Standings  # shop id → compliance.Standing, inactive shops included
    made_at: object  # aware datetime: its age, and shown on the page
    encoded: dict    # map.json bodies already serialised in this process, per district choice


def jurisdiction_of(user):
    return "*" if user.jurisdiction is None else ",".join(sorted(user.jurisdiction))


def held_pass(user, compute, *, any_age=False):
    """The pass over what ``user`` sees: held here, stored by another process, or made now by
    ``compute(user)``.  ``any_age``: a stale pass of any age will do (the map, which shows its time)."""
    seconds = current_app.config["OVERVIEW_CACHE_SECONDS"]
    if seconds <= 0:
        return compute(user)
    name = jurisdiction_of(user)
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], name)
    with _lock:
        held = _held.get(key)
    if held is None or _age(held) > seconds:
        stored = _load(name, newer_than=held.made_at if held else None)
        if stored is not None:
            held = _keep(key, stored)
    if held is None or (_age(held) > seconds * STALE_LIMIT and not any_age):
        return _keep(key, _made(name, compute, user))
    if _age(held) > seconds and current_app.config["OVERVIEW_REFRESH_IN_WORKERS"]:
        _refresh_later(key, name, compute, user.id)
    return held


def _age(city):
    return (utcnow() - city.made_at).total_seconds()


def _keep(key, city):
    with _lock:
        if key not in _held or _held[key].made_at <= city.made_at:
            _held[key] = city
        return _held[key]


def _made(name, compute, user):
    city = compute(user)
    _store(name, city)
    return city


def _refresh_later(key, name, compute, user_id):
    """Grade again in a thread of this process, if no other process holds the jurisdiction's lease."""
    app = current_app._get_current_object()

    def run():
        try:
            with app.app_context():
                try:
                    with jobs.lease("overview:" + name, LEASE_SECONDS) as mine:
                        user = db.session.get(User, user_id) if mine else None
                        if user is not None:
                            _keep(key, _made(name, compute, user))
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


def refresh_all(compute, echo=print):
    """(cron) A new pass for every jurisdiction some active staff account has, each under its lease."""
    users = {}
    for user in db.session.scalars(select(User).where(User.disabled.is_(False)).order_by(User.id)):
        if user.is_staff:
            users.setdefault(jurisdiction_of(user), user)
    for name, user in users.items():
        with jobs.lease("overview:" + name, LEASE_SECONDS) as mine:
            if mine:
                city = _made(name, compute, user)
                echo(f"{'全市' if name == '*' else name}：{sum(t['active'] for t in city.numbers.values())} 家在营店铺")
            else:
                echo(f"{name}：另一进程正在评定，跳过")
    return len(users)


def _encode(city):
    """The pass as compressed JSON whose bulk decodes without a Python object per shop: the points
    stay text; the standings are two binary arrays (the shop ids, and each one's index among the few
    hundred distinct standings), so a worker reading it holds no 200,000 temporary numbers."""
    ids, codes, distinct = city.standings.to_codes()
    return zlib.compress(json.dumps({
        "format": FORMAT, "byteorder": sys.byteorder,
        "points": city.points, "numbers": city.numbers, "bounds": city.bounds,
        "standings": {"distinct": list(distinct), "ids": base64.b64encode(ids.tobytes()).decode(),
                      "codes": base64.b64encode(codes.tobytes()).decode()}}, separators=(",", ":")).encode(), 1)


def _decode(body, made_at):
    """The stored pass, or None for one an earlier release stored in another form (graded again)."""
    data = json.loads(zlib.decompress(body))
    if data.get("format") != FORMAT:
        return None
    held = data["standings"]
    ids, codes = array("q"), array("I")
    ids.frombytes(base64.b64decode(held["ids"]))
    codes.frombytes(base64.b64decode(held["codes"]))
    if data["byteorder"] != sys.byteorder:
        ids.byteswap()
        codes.byteswap()
    distinct = [Standing(grade, purifier, waste, tuple(flags), priority)
                for grade, purifier, waste, flags, priority in held["distinct"]]
    return CityPass(data["points"], data["numbers"], data["bounds"], Standings.from_codes(ids, codes, distinct),
                    made_at, {})


def _store(name, city):
    """Keep the pass for every process (a short write of its own, after the pass's read ended)."""
    row = {"jurisdiction": name, "made_at": city.made_at, "body": _encode(city)}
    statement = upsert(OverviewPass, db.session).values(row)
    with writing(db.session):
        db.session.execute(statement.on_conflict_do_update(
            index_elements=["jurisdiction"], set_={"made_at": statement.excluded.made_at, "body": statement.excluded.body},
            where=OverviewPass.made_at < statement.excluded.made_at))
        db.session.commit()


def _load(name, newer_than=None):
    """The stored pass of a jurisdiction, if there is one newer than ``newer_than`` (two reads by key)."""
    made_at = db.session.scalar(select(OverviewPass.made_at).where(OverviewPass.jurisdiction == name))
    if made_at is None or (newer_than is not None and made_at <= newer_than):
        return None
    return _decode(db.session.scalar(select(OverviewPass.body).where(OverviewPass.jurisdiction == name)), made_at)


def forget():
    """Drop what this process holds (tests; a deployment just waits a minute)."""
    settle()
    with _lock:
        _held.clear()


def settle(timeout=60):
    """Wait for background passes under way (tests; a worker's shutdown)."""
    with _lock:
        threads = list(_running.values())
    for thread in threads:
        thread.join(timeout)
