"""Several processes write at once and nothing is lost (SQLite: BEGIN IMMEDIATE; PostgreSQL: row locks)."""
import datetime as dt
import multiprocessing
import threading
import time

import pytest
import sqlalchemy as sa

from server import create_app
from server.clock import SHANGHAI
from server.database import WriteInReadTransaction, id_in, ids_param, prepared, read_only, upsert, writing
from server.extensions import db
from server.models import AuditEntry, Counter, User
from server.services.records import sequences

PROCESSES = 4
PER_PROCESS = 200


def _orm_read_modify_write(url, times):
    """The pattern that lost 2,849 of 4,000 updates with deferred transactions."""
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url})
    with app.app_context():
        for _ in range(times):
            counter = db.session.get(Counter, "rmw")
            counter.value += 1
            db.session.commit()
        db.engine.dispose()


def _take_serials(url, times, queue):
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url})
    taken = []
    with app.app_context():
        for _ in range(times):
            taken.append(sequences.next_value("serial"))
            db.session.commit()
        db.engine.dispose()
    queue.put(taken)


def _run(target, *args):
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=args) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=240)
    assert all(p.exitcode == 0 for p in processes), [p.exitcode for p in processes]


def test_no_update_is_lost_by_orm_read_modify_write_on_sqlite(app, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's transaction mode; PostgreSQL uses row locks (next test)")
    db.session.add(Counter(name="rmw", value=0))
    db.session.commit()
    _run(_orm_read_modify_write, db_url, PER_PROCESS)
    db.session.expire_all()
    assert db.session.get(Counter, "rmw").value == PROCESSES * PER_PROCESS


def test_serials_are_unique_across_processes(app, db_url):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_take_serials, args=(db_url, PER_PROCESS, queue))
                 for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    taken = [value for _ in processes for value in queue.get(timeout=240)]
    for process in processes:
        process.join(timeout=60)
    assert sorted(taken) == list(range(1, PROCESSES * PER_PROCESS + 1))


def test_sqlite_connection_settings(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_read_only_block_does_not_take_the_write_lock(app, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    other = sa.create_engine(db_url, connect_args={"timeout": 0.1})
    with read_only():
        db.session.scalar(sa.select(sa.func.count()).select_from(Counter))
        # Another connection can still write while this read transaction is open.
        with other.begin() as conn:
            conn.execute(sa.insert(Counter).values(name="beside", value=1))
    db.session.rollback()
    # Outside read_only() the session holds the write lock, and the other writer must wait.
    db.session.scalar(sa.select(sa.func.count()).select_from(Counter))
    with pytest.raises(sa.exc.OperationalError, match="locked"):
        with other.begin() as conn:
            conn.execute(sa.insert(Counter).values(name="blocked", value=1))
    db.session.rollback()
    other.dispose()


def test_times_are_stored_in_utc_and_come_back_aware(app):
    local = dt.datetime(2024, 3, 22, 9, 30, tzinfo=SHANGHAI)
    entry = AuditEntry(at=local, actor_role="system", action="test", object_type="test", summary="")
    db.session.add(entry)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(AuditEntry, entry.id).at
    assert stored == local and stored.utcoffset() == dt.timedelta(0)
    assert stored.hour == 1


def test_naive_times_are_refused(app):
    db.session.add(AuditEntry(at=dt.datetime(2024, 3, 22, 9, 30), actor_role="system", action="t",
                              object_type="t", summary=""))
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        db.session.flush()
    db.session.rollback()


def test_a_get_reads_beside_a_writer_and_its_own_writes_wait_for_the_lock(app, db_url, client, make_shop, login_as):
    """SQLite: a GET's transaction is a deferred read, so it is answered while another connection
    holds the write lock; the writes of a read request (the audit entry of a history read) go in a
    transaction of their own that waits for the lock instead of failing."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's transaction modes")
    made = make_shop()
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    other = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    holder = other.connect()
    holder.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert client.get(f"/api/v1/shops/{made.shop_id}", headers=made.owner).status_code == 200
        assert time.monotonic() - started < 2  # did not wait for the lock (the busy timeout is 15 s)
        answers = []
        reader = threading.Thread(target=lambda: answers.append(
            client.get(f"/api/v1/shops/{made.shop_id}/history", headers=inspector)))
        reader.start()
        time.sleep(0.5)
        assert not answers  # its audit entry waits for the write lock
    finally:
        holder.exec_driver_sql("COMMIT")
        holder.close()
    reader.join(timeout=30)
    assert answers[0].status_code == 200, answers[0].get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "shop.history_read")) == 1
    other.dispose()


def test_a_write_in_a_read_request_outside_writing_is_refused(app, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's transaction modes")
    with app.test_request_context("/api/v1/health", method="GET"):
        app.preprocess_request()
        db.session.add(Counter(name="stray", value=1))
        with pytest.raises(WriteInReadTransaction):
            db.session.flush()
        db.session.rollback()
        with writing(db.session):
            db.session.add(Counter(name="kept", value=1))
            db.session.commit()
    assert db.session.get(Counter, "kept").value == 1


def test_a_stray_write_in_a_get_fails_that_request_only(app, client, db_url, make_shop):
    """The refused write fails its request; the read transaction still ends with the request (its
    changes dropped), and the next requests are served."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's transaction modes")

    def stray():
        db.session.add(Counter(name="stray", value=1))
        db.session.flush()
        return "written"

    app.add_url_rule("/test-stray-write", view_func=stray)
    assert client.get("/test-stray-write").status_code == 500
    made = make_shop()
    assert client.get(f"/api/v1/shops/{made.shop_id}", headers=made.owner).status_code == 200
    db.session.rollback()
    assert db.session.get(Counter, "stray") is None


@prepared
def _counters_named(dialect, *variant):
    _built.append((dialect, *variant))
    statement = sa.select(Counter.name, Counter.value).where(id_in(Counter.value, ids_param("values"), dialect))
    return statement.order_by(Counter.name.desc() if variant == ("newest",) else Counter.name)


_built = []


def test_a_prepared_statement_is_built_once_and_sees_the_sessions_pending_changes(app):
    with app.app_context():
        db.session.add_all([Counter(name="p-a", value=7), Counter(name="p-b", value=8)])
        # Not flushed yet: the prepared run flushes first, as the session's own execute would.
        assert _counters_named(db.session, values=[7, 8, 9]).all() == [("p-a", 7), ("p-b", 8)]
        assert _counters_named(db.session, values=[8]).all() == [("p-b", 8)]
        assert _counters_named(db.session, "newest", values=[7, 8]).all() == [("p-b", 8), ("p-a", 7)]
        assert _counters_named(db.session, values=list(range(5000))).all() == [("p-a", 7), ("p-b", 8)]
        dialect = db.engine.dialect.name
        assert _built == [(dialect,), (dialect, "newest")]  # once per dialect and variant
        db.session.rollback()


def test_a_prepared_write_takes_many_rows_at_once(app):
    @prepared
    def add_counters(dialect):
        return upsert(Counter.__table__, dialect).on_conflict_do_nothing(index_elements=["name"])

    with app.app_context():
        add_counters(db.session, rows=[{"name": "m-1", "value": 1}, {"name": "m-2", "value": 2}])
        add_counters(db.session, rows=[{"name": "m-1", "value": 5}])
        assert db.session.execute(sa.select(Counter.name, Counter.value).where(Counter.name.like("m-%"))
                                  .order_by(Counter.name)).all() == [("m-1", 1), ("m-2", 2)]
        db.session.rollback()


def test_a_writer_waits_for_the_lock_takes_it_when_freed_and_gives_up_at_the_busy_timeout(
        app, db_url, make_app, app_config, login_as):
    """SQLite: BEGIN IMMEDIATE is tried again while another connection holds the write lock (our loop,
    not SQLite's handler); past the busy timeout the write is a 503, and every other statement keeps
    the busy timeout."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    user, headers = login_as()
    user_id = user.id
    db.session.commit()  # this session holds no lock while the others wait
    short = make_app(dict(app_config, SQLITE_BUSY_TIMEOUT_MS=400))
    client = short.test_client()
    other = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    holder = other.connect()
    holder.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        response = client.patch("/api/v1/me", json={"display_name": "等锁"}, headers=headers)
        assert response.status_code == 503, response.get_data(as_text=True)
        answers = []
        writer = threading.Thread(target=lambda: answers.append(
            client.patch("/api/v1/me", json={"display_name": "拿到锁"}, headers=headers)))
        writer.start()
        time.sleep(0.15)
        assert not answers  # still waiting, within the busy timeout
    finally:
        holder.exec_driver_sql("COMMIT")
        holder.close()
    writer.join(timeout=10)
    assert answers[0].status_code == 200, answers[0].get_data(as_text=True)
    with short.app_context():
        assert db.session.execute(sa.text("PRAGMA busy_timeout")).scalar() == 400
        assert db.session.scalar(sa.select(User.display_name).where(User.id == user_id)) == "拿到锁"
        db.session.rollback()
    other.dispose()
