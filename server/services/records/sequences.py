"""Gap-tolerant named counters, safe under concurrency on SQLite and PostgreSQL.

One statement takes the next value: ``INSERT … ON CONFLICT DO UPDATE SET value = value + 1
RETURNING value``.  SQLite: every write transaction is ``BEGIN IMMEDIATE`` (server.database), so
one writer at a time.  PostgreSQL: the upsert locks the counter row until the commit, so a
concurrent transaction waits and then counts on from the committed value.
"""
from sqlalchemy import bindparam

from server.database import prepared, upsert
from server.extensions import db
from server.models.counter import Counter


def next_value(name):
    """Take the next value of counter ``name`` inside the caller's transaction."""
    return _take(db.session, name=name).scalar_one()


@prepared
def _take(dialect):
    statement = upsert(Counter, dialect).values(name=bindparam("name", type_=Counter.name.type), value=1)
    return statement.on_conflict_do_update(index_elements=["name"], set_={"value": Counter.value + 1}
                                           ).returning(Counter.value)
