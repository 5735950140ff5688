"""The audit helper records every write in the same transaction; entries are append-only."""
import datetime as dt

import flask
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from server.extensions import db
from server.models import AuditEntry
from server.models.base import Audited
from server.services import audit


class _Base(DeclarativeBase):
    pass


class Widget(_Base, Audited):
    """An audited model that exists only in this test module."""

    __tablename__ = "test_audited_widgets"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(20))


@pytest.fixture
def widgets(app):
    _Base.metadata.create_all(db.engine)
    yield
    db.session.rollback()
    _Base.metadata.drop_all(db.engine)


def entries():
    return db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()


def test_record_stores_actor_action_object_and_client_address(app, frozen_clock):
    actor = type("User", (), {"id": 7, "role": "inspector"})()
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        flask.g.current_user = actor
        audit.record("shop.create", "shop", 42, "登记店铺 老王烧烤", shop_id=42)
        db.session.commit()
    (entry,) = entries()
    assert (entry.actor_id, entry.actor_role, entry.action, entry.object_type, entry.object_id,
            entry.shop_id, entry.client_addr, entry.summary) == (
        7, "inspector", "shop.create", "shop", 42, 42, "10.1.2.3", "登记店铺 老王烧烤")
    assert entry.at == dt.datetime(2024, 3, 22, 1, 30, tzinfo=dt.timezone.utc)  # the frozen clock


def test_entry_without_a_request_is_from_the_system(app):
    audit.record("retention.run", "photo", None, "x" * 5000)
    db.session.commit()
    (entry,) = entries()
    assert entry.actor_id is None and entry.actor_role == "system" and entry.client_addr is None
    assert len(entry.summary) == audit.SUMMARY_MAX


def test_an_audited_change_without_an_entry_cannot_commit(app, widgets):
    db.session.add(Widget(name="a"))
    with pytest.raises(audit.MissingAuditEntry):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Widget)) == 0


def test_an_audited_change_with_its_entry_commits_together(app, widgets):
    widget = Widget(name="a")
    db.session.add(widget)
    audit.record("widget.create", "widget", None, "a")
    db.session.commit()
    widget.name = "b"
    with pytest.raises(audit.MissingAuditEntry):
        db.session.commit()
    db.session.rollback()
    assert len(entries()) == 1


def test_rolled_back_change_leaves_no_entry(app, widgets):
    db.session.add(Widget(name="a"))
    audit.record("widget.create", "widget", None, "a")
    db.session.rollback()
    assert entries() == []


def test_orm_refuses_to_change_or_delete_entries(app):
    audit.record("x", "y", 1)
    db.session.commit()
    (entry,) = entries()
    entry.summary = "rewritten"
    with pytest.raises(audit.AuditTampering):
        db.session.flush()
    db.session.rollback()
    db.session.delete(entries()[0])
    with pytest.raises(audit.AuditTampering):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET summary = 'rewritten'",
    "DELETE FROM audit_entries",
])
def test_database_refuses_to_change_or_delete_entries(app, statement):
    audit.record("x", "y", 1, "original")
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert [e.summary for e in entries()] == ["original"]
