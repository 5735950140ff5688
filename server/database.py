"""Engine set-up that makes SQLite safe for several gunicorn workers.

Measured on this machine (shared/MEASURED.md): with SQLite's default deferred
transactions, four processes doing ORM read-modify-write lost 2,849 of 4,000 updates
without an error, and ``busy_timeout`` is not applied when a read upgrades to a write.
So every transaction on SQLite starts with ``BEGIN IMMEDIATE``: it takes the write
lock up front and waits (busy timeout) for it instead of failing or losing an update.

Long pure reads (streamed exports) should not hold the write lock for their whole
length; they run inside :func:`read_only`, which opens a plain deferred ``BEGIN``.
WAL lets those readers run beside the one writer.
"""
import contextlib
import contextvars
import json

from sqlalchemy import ARRAY, Date, Integer, any_, bindparam, cast, event, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite

_read_only = contextvars.ContextVar("sqlite_read_only", default=False)
_bookkeeping = contextvars.ContextVar("bookkeeping", default=False)


@contextlib.contextmanager
def read_only():
    """Transactions begun inside this block do not take SQLite's write lock."""
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


@contextlib.contextmanager
def bookkeeping():
    """Commits made inside are bookkeeping (rate-limit counts, a token's last use), not the
    request's write: the commit pipeline carries no idempotency key on them, or a request
    refused afterwards would stay remembered."""
    token = _bookkeeping.set(True)
    try:
        yield
    finally:
        _bookkeeping.reset(token)


def is_bookkeeping():
    return _bookkeeping.get()


def configure_engine(engine, busy_timeout_ms):
    """Install the SQLite pragmas and transaction mode on ``engine`` (no-op elsewhere)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN" if _read_only.get() else "BEGIN IMMEDIATE")


def upsert(model, session):
    """An INSERT into ``model`` that takes ``on_conflict_do_nothing/_do_update`` (both databases
    spell it the same; SQLAlchemy keeps it per dialect)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def business_day(column, session):
    """SQL for the Asia/Shanghai calendar date of a UTC timestamp column (``clock.business_date``
    in the database): SQLite keeps naive UTC text, PostgreSQL a timestamptz."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", column), Date)
    return func.date(column, "+8 hours")


def in_ids(column, ids, session):
    """``column IN ids``.  A list goes as one parameter — an array on PostgreSQL, where
    thousands of separate parameters (an export's chunk) made each query several times slower;
    a JSON array on SQLite, which caps the parameters of one statement — so any number of ids
    may be asked for.  Anything else (a ``select`` of ids) is a plain ``IN``."""
    if not isinstance(ids, list):
        return column.in_(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    return column.in_(select(literal_column("value", Integer)).select_from(
        func.json_each(bindparam(None, json.dumps([int(i) for i in ids])))))


def one_at_a_time(session, name):
    """Until this transaction ends, no other transaction passes this point for ``name`` (a text
    key, e.g. ``"login:alice"``): a transaction-scoped advisory lock on PostgreSQL; on SQLite every
    write transaction is one at a time already (``BEGIN IMMEDIATE``)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(name))))
