"""Gap-tolerant named counters, safe under concurrency on SQLite and PostgreSQL.

One statement takes the next value: ``INSERT … ON CONFLICT DO UPDATE SET value = value + 1
RETURNING value``.  SQLite: every write transaction is ``BEGIN IMMEDIATE`` (server.database), so
one writer at a time.  PostgreSQL: the upsert locks the counter row until the commit, so a
concurrent transaction waits and then counts on from the committed value.
"""
from server.database import upsert
from server.extensions import db
from server.models.counter import Counter


def next_value(name):
    """Take the next value of counter ``name`` inside the caller's transaction."""
    statement = upsert(Counter, db.session).values(name=name, value=1)
    return db.session.execute(
        statement.on_conflict_do_update(index_elements=["name"], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    ).scalar_one()
