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

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite

_read_only = contextvars.ContextVar("sqlite_read_only", default=False)


@contextlib.contextmanager
def read_only():
    """Transactions begun inside this block do not take SQLite's write lock."""
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


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
