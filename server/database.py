"""Engine set-up that makes SQLite safe for several gunicorn workers.

Measured on this machine (shared/MEASURED.md): with SQLite's default deferred
transactions, four processes doing ORM read-modify-write lost 2,849 of 4,000 updates
without an error, and ``busy_timeout`` is not applied when a read upgrades to a write.
So every transaction on SQLite starts with ``BEGIN IMMEDIATE``: it takes the write
lock up front and waits (busy timeout) for it instead of failing or losing an update.

Reads need no lock: WAL lets readers run beside the one writer.  So transactions begun inside
:func:`read_only` (streamed exports, the overview's grading) and every transaction of a GET or HEAD
request open a plain deferred ``BEGIN``; the two workers then read at once instead of queueing for
the write lock (a GET under ``BEGIN IMMEDIATE`` waited up to a second for the other worker's).
The few writes such a request makes (a token's last use, a rate count, a kept snapshot, the audit
entry of a history read) go inside :func:`writing`, which ends the read first, so they take the
write lock in a transaction of their own.  A write in a deferred transaction is refused
(``WriteInReadTransaction``) rather than left to fail now and then under load.
"""
import contextlib
import contextvars
import functools
import json
import logging
import sqlite3
import time

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import ARRAY, Date, Integer, String, TypeDecorator, any_, bindparam, cast, event, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import scoped_session

log = logging.getLogger(__name__)
_read_only = contextvars.ContextVar("sqlite_read_only", default=False)
_bookkeeping = contextvars.ContextVar("bookkeeping", default=False)
_writing = contextvars.ContextVar("sqlite_writing", default=False)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READ_REQUEST = "sqlite_read_request"
DEFERRED = "sqlite_deferred"  # connection.info: the open transaction began without the write lock
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


class WriteInReadTransaction(RuntimeError):
    """A statement that writes ran in a transaction begun without SQLite's write lock."""


@contextlib.contextmanager
def read_only():
    """Transactions begun inside this block do not take SQLite's write lock."""
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


@contextlib.contextmanager
def writing(session):
    """The writes of a read request go inside: on SQLite the deferred transaction of the read ends
    first (it holds no changes), and transactions begun inside take the write lock.  Objects loaded
    before are expired by that and read again when used."""
    if not _writing.get():
        end_read(session)
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


def _own(session):
    """The session itself behind a ``scoped_session`` (``db.session``)."""
    return session() if isinstance(session, scoped_session) else session


def end_read(session, *, strict=True):
    """End ``session``'s transaction if it is a deferred one on SQLite (a read: nothing to keep).
    ``strict``: changes waiting in it are a programming error (else they are dropped, as the end of
    the request would drop them)."""
    session = _own(session)
    if session.get_bind().dialect.name == "sqlite" and session.in_transaction() \
            and session.connection().info.get(DEFERRED):
        if strict and (session.new or session.dirty or session.deleted):
            raise WriteInReadTransaction("changes made in a read transaction")
        session.rollback()


def _deferred():
    if _read_only.get():
        return True
    if _writing.get():
        return False
    return has_app_context() and g.get(_READ_REQUEST, False)


def watch_requests(app, session):
    """Transactions of a GET or HEAD request (from its first hook to its end) begin deferred; the
    request's read transaction ends with it."""
    @app.before_request
    def _note_read_request():
        setattr(g, _READ_REQUEST, request.method in READ_METHODS)

    @app.teardown_request
    def _end_read_request(_exc):
        if g.pop(_READ_REQUEST, False):
            try:
                end_read(session, strict=False)
            except SQLAlchemyError:  # the database went away: the session is removed with the context
                log.exception("could not end a read request's transaction")


def commit_last(session):
    """Commit the request's last write.  What remains of the request (reading the record back for
    its answer) begins deferred on SQLite: it neither queues for the write lock nor holds it while
    the answer is serialised.  A write after it would be refused unless inside :func:`writing`."""
    session.commit()
    if has_request_context() and session.get_bind().dialect.name == "sqlite":
        setattr(g, _READ_REQUEST, True)


@contextlib.contextmanager
def bookkeeping(session):
    """Commits made inside are bookkeeping (rate-limit counts, a token's last use), not the
    request's write: the commit pipeline carries no idempotency key on them, or a request
    refused afterwards would stay remembered.  In a read request they are :func:`writing`.  They do
    not expire what the session holds (the caller's token and user, loaded just before, stay loaded
    for the request's own transaction instead of being read again)."""
    token = _bookkeeping.set(True)
    own = _own(session)
    expire, own.expire_on_commit = own.expire_on_commit, False
    try:
        with writing(session):
            yield
    finally:
        own.expire_on_commit = expire
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
        deferred = connection.info[DEFERRED] = _deferred()
        if deferred:
            connection.exec_driver_sql("BEGIN")
        else:
            _begin_immediate(connection, busy_timeout_ms)

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_deferred_writes(connection, _cursor, statement, _parameters, context, _many):
        if connection.info.get(DEFERRED) and connection.in_transaction() and (
                context.isinsert or context.isupdate or context.isdelete
                or statement.lstrip()[:7].upper().startswith(_WRITES)):
            raise WriteInReadTransaction("a write outside writing() in a deferred SQLite transaction: "
                                          + statement[:80])


def _begin_immediate(connection, timeout_ms):
    """``BEGIN IMMEDIATE``, trying again every half millisecond while another connection holds the
    write lock (every 2 ms after the first 100 ms), until the busy timeout.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ms... between its tries, so a worker
    waiting for the lock woke up to 10 ms after the other had committed: with two workers the
    writes of one waited out most of the other's and barely overlapped (slips: as many per second
    with ``-w 2`` as with ``-w 1``).  The stdlib driver offers no busy handler of our own, so the
    handler is off while this loop tries (and back on for every other statement); the last try goes
    through SQLAlchemy, so a timeout is the same error as before (503 ``database is locked``)."""
    raw = connection.connection.driver_connection
    started = time.monotonic()
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # (extended codes: BUSY_RECOVERY...)
                    break  # any other error: the last try below raises it as SQLAlchemy's
            waited = time.monotonic() - started
            if waited * 1000 >= timeout_ms:
                break
            time.sleep(0.0005 if waited < 0.1 else 0.002)
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the last try: its error is SQLAlchemy's (503)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")


def upsert(model, session_or_dialect):
    """An INSERT into ``model`` that takes ``on_conflict_do_nothing/_do_update`` (both databases
    spell it the same; SQLAlchemy keeps it per dialect).  For a session or a dialect's name."""
    dialect = session_or_dialect if isinstance(session_or_dialect, str) else session_or_dialect.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def business_day(column, session):
    """SQL for the Asia/Shanghai calendar date of a UTC timestamp column (``clock.business_date``
    in the database): SQLite keeps naive UTC text, PostgreSQL a timestamptz."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", column), Date)
    return func.date(column, "+8 hours")


class IdList(TypeDecorator):
    """A list of integer ids bound as one parameter: an array on PostgreSQL, where thousands of
    separate parameters (an export's chunk) made each query several times slower; a JSON array on
    SQLite, which caps the parameters of one statement."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(ARRAY(Integer) if dialect.name == "postgresql" else String())

    def process_bind_param(self, value, dialect):
        ids = [int(i) for i in value]
        return ids if dialect.name == "postgresql" else json.dumps(ids)


def id_in(column, parameter, dialect_name):
    """``column IN`` the ids bound to ``parameter`` (a ``bindparam`` of :class:`IdList`)."""
    if dialect_name == "postgresql":
        return column == any_(parameter)
    return column.in_(select(literal_column("value", Integer)).select_from(func.json_each(parameter)))


def in_ids(column, ids, session):
    """``column IN ids``: a list goes as one parameter (:class:`IdList`), so any number of ids may be
    asked for; anything else (a ``select`` of ids) is a plain ``IN``."""
    if not isinstance(ids, list):
        return column.in_(ids)
    return id_in(column, bindparam(None, ids, type_=IdList()), session.get_bind().dialect.name)


def ids_param(name="ids"):
    """The parameter of a :func:`prepared` statement that takes a list of ids (see :func:`id_in`)."""
    return bindparam(name, type_=IdList())


def prepared(build):
    """A statement on a hot path, built once per dialect by ``build(dialect_name, *variant)`` and run
    on the session's connection: ``run(session, *variant, rows=None, **params)`` → a Core result, with
    ``params``, or once per dict of ``rows`` (executemany).  A variant (hashable: a few column names)
    picks one of a small, fixed set of statements the builder makes.

    Measured (SQLite, one shop's open complaints): building the ``select`` and running it through the
    ORM session took 0.52 ms, the same statement built once and run on the connection 0.12 ms — the
    query itself is a small part of either.  Pending ORM changes are flushed first, as the session's
    own execute would (autoflush)."""
    built = {}

    @functools.wraps(build)
    def run(session, *variant, rows=None, **params):
        own = _own(session)
        own._autoflush()  # as Session.execute does: pending changes first, unless already flushing
        connection = own.connection()
        key = (connection.dialect.name, *variant)
        statement = built.get(key)
        if statement is None:
            statement = built[key] = build(*key)
        return connection.execute(statement, params if rows is None else rows)

    return run


def one_at_a_time(session, name):
    """Until this transaction ends, no other transaction passes this point for ``name`` (a text
    key, e.g. ``"login:alice"``): a transaction-scoped advisory lock on PostgreSQL; on SQLite every
    write transaction is one at a time already (``BEGIN IMMEDIATE``)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(name))))
