"""The records a shop keeps (中端严管): purifier cleanings and kitchen-waste handover slips.

Records are evidence: never deleted, never edited in place.  A correction is a new row that
supersedes the old one (``superseded_by_id``), with a reason; the old row stays.
"""
import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow
from server.extensions import db
from server.models.base import Audited

CLEANING_PARTS = ("purifier", "hood", "duct", "fan")
WASTE_TYPES = ("kitchen_waste", "waste_oil")
HANDOVER_STATUSES = ("pending", "confirmed", "disputed", "rejected")


class VersionedRecord:
    """Columns every evidence record shares: who, when received, late entry, versions."""

    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    late_entry: Mapped[bool] = mapped_column(default=False)
    correction_reason: Mapped[str | None] = mapped_column(String(500))
    # When a correction replaced this version: the compliance engine evaluated as of an earlier
    # date still counts this version, as that is what was known then.
    superseded_at: Mapped[dt.datetime | None]


class Cleaning(VersionedRecord, Audited, db.Model):
    """油烟净化设施清洗记录."""

    __tablename__ = "cleanings"
    # Covers the compliance engine's "last cleaning known at the cutoff" without a table lookup.
    __table_args__ = (Index("ix_cleanings_shop_facts", "shop_id", "cleaned_on", "received_at", "superseded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    cleaned_on: Mapped[dt.date]
    parts: Mapped[list] = mapped_column(JSON)
    performed_by: Mapped[str] = mapped_column(String(16))  # self | company
    company_name: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))
    logged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("cleanings.id"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("cleanings.id"), index=True)


WASTE_WINDOW_ROWS = ("waste_type = 'kitchen_waste' AND superseded_at IS NULL "
                     "AND status IN ('confirmed', 'disputed')")


class Handover(VersionedRecord, Audited, db.Model):
    """餐厨废弃物收运联单.  One serial per slip; corrections keep the serial with a new version."""

    __tablename__ = "handovers"
    __table_args__ = (
        UniqueConstraint("serial", "version"),
        # Covers the compliance engine's "last counting slip" without a table lookup.
        Index("ix_handovers_shop_facts", "shop_id", "handed_over_at", "received_at", "superseded_at", "answered_at",
              "status"),
        Index("ix_handovers_company_status", "collector_company_id", "status"),
        # A status's current slips, newest first (the disputed-slips queue), paged and counted in the index.
        # Partial: PostgreSQL does not take "superseded_by_id IS NULL" as fixing that column, so with it
        # in the key it sorted 100,000 rows for a page (180 ms) instead of reading 20 backwards.
        Index("ix_handovers_current_status_time", "status", "handed_over_at", "id", "shop_id",
              sqlite_where=text("superseded_by_id IS NULL"), postgresql_where=text("superseded_by_id IS NULL")),
        # The city's kitchen waste of the last 30 days (the peers' medians behind waste_low) is one
        # range of this index (queries must state its conditions literally for the planner to pick it).
        Index("ix_handovers_waste_window", "handed_over_at", "shop_id", "settled_kg", "weighed_kg", "declared_kg",
              "bins", "answered_at", sqlite_where=text(WASTE_WINDOW_ROWS), postgresql_where=text(WASTE_WINDOW_ROWS)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(default=1)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    collector_company_id: Mapped[int] = mapped_column(ForeignKey("collector_companies.id"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    handed_over_at: Mapped[dt.datetime]
    waste_type: Mapped[str] = mapped_column(String(16))
    bins: Mapped[int | None]
    # active_history: the old value is loaded before a change, for the waste tallies' "before".
    declared_kg: Mapped[float | None] = mapped_column(Numeric(10, 2, asdecimal=False), active_history=True)
    weighed_kg: Mapped[float | None] = mapped_column(Numeric(10, 2, asdecimal=False), active_history=True)
    vehicle_plate: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending", active_history=True)
    started_by_party: Mapped[str] = mapped_column(String(16))  # shop | collector
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[dt.datetime | None]
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    # A disputed slip settled by staff: the figure accepted (declared or weighed) is what counts.
    settled_kg: Mapped[float | None] = mapped_column(Numeric(10, 2, asdecimal=False), active_history=True)
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    settled_at: Mapped[dt.datetime | None]
    settle_reason: Mapped[str | None] = mapped_column(String(500))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"), index=True, active_history=True)
