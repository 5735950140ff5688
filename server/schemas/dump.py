"""What an Out schema needs besides the object it dumps: the viewer, and values read once a page.

A list costs a constant number of queries: the Out schemas load what their rows need (photo
references, the viewer's memberships, grades) in a ``pre_dump(pass_collection=True)`` hook, one
query per kind for the whole page, into a cache kept for the request; their fields read from it.
A single object goes the same way (a page of one).  A service that already computed a value for
the page (the grades it filtered by) hands it over with :func:`prime`.
"""
from flask import g


def viewer():
    """The caller the response is for (what it may see is decided by the schema)."""
    return g.get("current_user")


def _cache(kind):
    caches = g.get("dump_cache")
    if caches is None:
        caches = g.dump_cache = {}
    return caches.setdefault(kind, {})


def forget():
    """Start every request with an empty cache (tests may share one app context across requests)."""
    g.pop("dump_cache", None)


def prime(kind, values):
    """Values of ``kind`` by key, computed by the service for the objects about to be dumped."""
    _cache(kind).update(values)


def preload(kind, keys, load, default=None):
    """Make sure ``kind`` holds a value for each key: ``load(missing keys) → {key: value}`` is
    called once for those not held yet; a key it does not answer gets ``default``."""
    cache = _cache(kind)
    missing = [key for key in dict.fromkeys(keys) if key not in cache]
    if missing:
        found = load(missing)
        for key in missing:
            cache[key] = found.get(key, default)


def cached(kind, key, load, default=None):
    """The value of ``kind`` for ``key`` (loaded alone when no page preloaded it)."""
    cache = _cache(kind)
    if key not in cache:  # (a field of every row of a page: the usual case is the first line only)
        preload(kind, [key], load, default)
    return cache[key]


def objects(data, many):
    """The objects a ``pre_dump(pass_collection=True)`` hook was given, as a list."""
    return list(data) if many else [data]
