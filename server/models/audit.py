"""Append-only, hash-chained audit trail (审计日志): who did what to which object, when, from where."""
import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow
from server.extensions import db


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_shop_id_id", "shop_id", "id"),
        Index("ix_audit_entries_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None]
    # The shop the object belongs to, so a shop's history is one indexed range.
    shop_id: Mapped[int | None]
    client_addr: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(1000), default="")
    # Hash chain (tamper evidence): the previous entry's hash and this entry's own, set by
    # the audit helper when the entry is written (server/services/audit.py).
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), index=True)
