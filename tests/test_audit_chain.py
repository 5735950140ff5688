"""The audit trail is a hash chain: `flask audit verify` finds the first altered, removed or
inserted entry, and an anchor kept outside proves nothing before it was rewritten."""
import contextlib
import multiprocessing
import re
import types
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from server import create_app
from server.extensions import db
from server.models import AuditEntry
from server.services import audit
from tests.helpers import shop_body

ROOT = Path(__file__).resolve().parent.parent


def entries():
    return db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()


def write(n, prefix="e"):
    for i in range(n):
        audit.record(f"{prefix}.{i}", "thing", i, f"第 {i} 条 — 含中文与 'quotes'")
        db.session.commit()


def run(app, *args):
    return app.test_cli_runner().invoke(args=["audit", *args])


@contextlib.contextmanager
def triggers_lifted():
    """What someone with direct database access could do: bypass the append-only triggers."""
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_entries_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_entries_no_delete")
    try:
        with db.engine.begin() as conn:
            yield conn
    finally:
        with db.engine.begin() as conn:
            if dialect == "postgresql":
                conn.exec_driver_sql("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only")
            else:
                for event in ("update", "delete"):
                    conn.exec_driver_sql(
                        f"CREATE TRIGGER audit_entries_no_{event} BEFORE {event.upper()} ON audit_entries "
                        "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END")
        db.session.expire_all()


def test_each_entry_carries_the_previous_hash(app):
    write(5)
    rows = entries()
    assert rows[0].prev_hash == audit.GENESIS
    for before, after in zip(rows, rows[1:]):
        assert after.prev_hash == before.hash and after.id == before.id + 1
    assert all(row.hash == audit.entry_digest(row, row.prev_hash) for row in rows)
    result = run(app, "verify")
    assert result.exit_code == 0, result.output
    assert "共 5 条" in result.output


def test_entries_of_one_commit_chain_in_order(app):
    for i in range(3):
        audit.record(f"batch.{i}", "thing", i)
    db.session.commit()
    assert [e.action for e in entries()] == ["batch.0", "batch.1", "batch.2"]
    assert run(app, "verify").exit_code == 0


def test_writes_through_the_api_are_chained(app, client, login_as):
    _user, headers = login_as()
    for i in range(3):
        response = client.post("/api/v1/shops", json=shop_body(i), headers=headers)
        assert response.status_code == 201, response.json
    assert len(entries()) >= 3
    assert run(app, "verify").exit_code == 0


def test_an_altered_row_is_found(app):
    write(5)
    with triggers_lifted() as conn:
        conn.exec_driver_sql("UPDATE audit_entries SET summary = '已被改写' WHERE id = 3")
    result = run(app, "verify")
    assert result.exit_code == 1
    assert "第 3 条" in result.output and "改写" in result.output


def test_a_removed_row_is_found(app):
    write(5)
    with triggers_lifted() as conn:
        conn.exec_driver_sql("DELETE FROM audit_entries WHERE id = 2")
    result = run(app, "verify")
    assert result.exit_code == 1
    assert "第 3 条" in result.output  # the entry after the gap no longer links


def test_a_rewritten_history_with_recomputed_hashes_fails_against_the_anchor(app):
    write(3)
    anchor = run(app, "anchor")
    assert anchor.exit_code == 0
    head = re.search(r"id=(\d+) at=(\S+) hash=([0-9a-f]{64})", anchor.output)
    assert head and int(head.group(1)) == 3 and head.group(3) == entries()[-1].hash
    write(2, "later")
    assert run(app, "verify", "--anchor", head.group(3)).exit_code == 0

    # Someone rewrites entry 2 and recomputes every hash after it: the chain itself is consistent...
    with triggers_lifted() as conn:
        conn.exec_driver_sql("UPDATE audit_entries SET summary = '伪造' WHERE id = 2")
        prev = conn.exec_driver_sql("SELECT hash FROM audit_entries WHERE id = 1").scalar()
        for entry_id in range(2, 6):
            row = conn.execute(sa.select(AuditEntry.__table__).where(AuditEntry.id == entry_id)).first()
            digest = audit.entry_digest(types.SimpleNamespace(**row._mapping), prev)
            conn.execute(sa.update(AuditEntry.__table__).where(AuditEntry.id == entry_id)
                         .values(prev_hash=prev, hash=digest))
            prev = digest
    assert run(app, "verify").exit_code == 0
    # ... but the anchor kept outside is no longer in it.
    result = run(app, "verify", "--anchor", head.group(3))
    assert result.exit_code == 1 and "锚点" in result.output


def test_empty_chain_verifies(app):
    assert run(app, "verify").exit_code == 0
    assert audit.GENESIS in run(app, "anchor").output


def _audited_writes(url, times):
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url})
    with app.app_context():
        for i in range(times):
            audit.record("parallel", "thing", i)
            db.session.commit()
        db.engine.dispose()


def test_parallel_writers_keep_one_chain(app, db_url):
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_audited_writes, args=(db_url, 50)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=240)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    assert len(entries()) == 200
    result = run(app, "verify")
    assert result.exit_code == 0, result.output


def test_documented_postgresql_grants_keep_the_app_from_rewriting_the_trail(app, db_url):
    """deploy/postgresql-grants.sql, applied to a role, leaves it INSERT and SELECT on the trail only."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL roles")
    write(1)
    role = "fume_app_" + uuid.uuid4().hex[:8]
    script = (ROOT / "deploy" / "postgresql-grants.sql").read_text()
    code = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    statements = [s.strip() for s in code.replace(':"app_role"', f'"{role}"').split(";") if s.strip()]
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" NOLOGIN')
    try:
        with db.engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
        with db.engine.connect() as conn:
            conn.exec_driver_sql(f'SET ROLE "{role}"')
            assert conn.exec_driver_sql("SELECT count(*) FROM audit_entries").scalar() == 1
            conn.exec_driver_sql("SELECT count(*) FROM shops")
            conn.rollback()
            for statement in ("UPDATE audit_entries SET summary = 'x'", "DELETE FROM audit_entries",
                              "TRUNCATE audit_entries"):
                conn.exec_driver_sql(f'SET ROLE "{role}"')
                with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                    conn.exec_driver_sql(statement)
                conn.rollback()
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
