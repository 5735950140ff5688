"""导出回执: what an export served, signed, so the file can be checked outside the system."""
import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow
from server.extensions import db
from server.models.base import Audited


class ExportReceipt(Audited, db.Model):
    __tablename__ = "export_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(16))
    filters: Mapped[str] = mapped_column(Text)  # canonical JSON of the query's filters (strings only)
    exported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The audit chain's head when the export began (null id: the chain was empty).
    audit_head_id: Mapped[int | None]
    audit_head_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    # Set when the last byte has gone; an interrupted download leaves them null.
    complete: Mapped[bool] = mapped_column(default=False)
    rows: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    completed_at: Mapped[dt.datetime | None]
    signature: Mapped[str | None] = mapped_column(String(128))
