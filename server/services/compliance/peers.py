"""The peer medians behind ``waste_low`` (plausibility), computed city-wide from the records.

Every shop with kitchen waste in the window is a peer of the shops of its scale (and district):
one aggregate query over the window's slips, then the medians in Python.  A city's medians move
slowly, so each app keeps them for ``WASTE_PEER_CACHE_SECONDS`` per date (0 = always recompute);
every shop graded on one date by one process is judged against the same medians, whichever path
(per shop or in bulk) graded it.
"""
import time

from flask import current_app
from sqlalchemy import select

from server.extensions import db
from server.models.shop import Shop
from server.services.compliance.from_records import waste_sums
from server.services.compliance.rules import NO_PEERS, Peers, needs_peers, per_head_day, scale_of

CACHE = "waste_peers"


def compute(as_of):
    """The medians on ``as_of``, from every shop's slips (summed per shop first, index only, then
    joined with the shops: a fifth of joining every slip)."""
    per_shop = waste_sums(None, as_of).subquery()
    # Streamed: buffered, a city's 200,000 rows raised a worker's peak memory by 80 MB.
    rows = db.session.execute(select(Shop.district_code, Shop.cooking_heads, Shop.registered_on, per_shop.c.kg)
                              .join(per_shop, per_shop.c.shop_id == Shop.id).where(Shop.registered_on <= as_of)
                              .execution_options(yield_per=5000))
    return Peers((district, scale_of(heads), per_head_day(kg, heads, registered_on, as_of))
                 for district, heads, registered_on, kg in rows)


def peers_on(as_of):
    """The medians on ``as_of``, cached per app for ``WASTE_PEER_CACHE_SECONDS``."""
    ttl = current_app.config["WASTE_PEER_CACHE_SECONDS"]
    if ttl <= 0:
        return compute(as_of)
    cache = current_app.extensions.setdefault(CACHE, {})
    found = cache.get(as_of)
    now = time.monotonic()
    if found is None or found[0] <= now:
        if len(cache) > 64:  # old dates asked once (exports "as of") do not pile up
            cache.clear()
        found = cache[as_of] = (now + ttl, compute(as_of))
    return found[1]


def peers_for(facts, as_of):
    """The medians these facts are graded against (none needed when no shop has waste data)."""
    return peers_on(as_of) if needs_peers(facts) else NO_PEERS
