"""Gap-tolerant named counters, safe under concurrency on SQLite and PostgreSQL.

SQLite: every transaction is ``BEGIN IMMEDIATE`` (server.database), so one writer at a
time.  PostgreSQL: the counter row is locked with ``SELECT ... FOR UPDATE`` until commit.
"""
from sqlalchemy import select

from server.database import upsert
from server.extensions import db
from server.models.counter import Counter


def _insert_ignore(name):
    return upsert(Counter, db.session).values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"])


def next_value(name):
    """Take the next value of counter ``name`` inside the caller's transaction."""
    db.session.execute(_insert_ignore(name))
    counter = db.session.execute(
        select(Counter).where(Counter.name == name).with_for_update()
    ).scalar_one()
    counter.value += 1
    db.session.flush()
    return counter.value
