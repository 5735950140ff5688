"""一店三查 inspections, rectification orders (整改通知) and cases (案件)."""
import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.clock import utcnow
from server.extensions import db
from server.models.base import Audited

RESULTS = ("pass", "fail", "na", "not_checked")
CASE_STATUSES = ("accepted", "assigned", "handled", "returned", "closed", "sent_back")
CASE_ENDED = ("closed", "sent_back")  # a case in neither is open


class Inspection(Audited, db.Model):
    """A check filed on patrol.  Evidence: never edited or deleted; a regulator may void it."""

    __tablename__ = "inspections"
    # Covers the compliance engine's "last standing inspection" without a table lookup.
    __table_args__ = (Index("ix_inspections_shop_facts", "shop_id", "inspected_at", "received_at", "voided_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    co_inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    inspected_at: Mapped[dt.datetime] = mapped_column(index=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    late_entry: Mapped[bool] = mapped_column(default=False)
    lat: Mapped[float]
    lng: Mapped[float]
    distance_m: Mapped[float]
    located_in: Mapped[str | None] = mapped_column(String(16))  # the district the inspector's point lies in
    far_from_shop: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(String(1000))
    voided_at: Mapped[dt.datetime | None]
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(String(500))

    # Read-only views for dumping (lists load them with selectinload); rows are added explicitly.
    items: Mapped[list["InspectionItem"]] = relationship(order_by="InspectionItem.id", viewonly=True)
    rectification: Mapped["Rectification | None"] = relationship(
        primaryjoin="Rectification.inspection_id == Inspection.id", viewonly=True)


class InspectionItem(db.Model):
    __tablename__ = "inspection_items"
    __table_args__ = (
        UniqueConstraint("inspection_id", "code"),
        # The compliance engine counts failed items per shop: only those, straight from the index
        # (queries must say result = 'fail' literally for the planner to pick it).
        Index("ix_inspection_items_failed", "inspection_id", "code",
              sqlite_where=text("result = 'fail'"), postgresql_where=text("result = 'fail'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"))
    code: Mapped[str] = mapped_column(String(8))
    result: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))


class Rectification(Audited, db.Model):
    """整改通知: open → submitted → closed, or back to open with a new deadline.  Overdue is derived."""

    __tablename__ = "rectifications"
    __table_args__ = (Index("ix_rectifications_shop_id_status", "shop_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), unique=True)
    items: Mapped[list] = mapped_column(JSON)  # the failed checklist codes
    status: Mapped[str] = mapped_column(String(16), default="open")
    deadline: Mapped[dt.date] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[dt.datetime | None]

    events: Mapped[list["RectificationEvent"]] = relationship(order_by="RectificationEvent.id", viewonly=True)


class RectificationEvent(db.Model):
    """Who moved an order, when, and with what (acknowledged, responded, rejected, accepted)."""

    __tablename__ = "rectification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)  # the reminders' recent events
    note: Mapped[str | None] = mapped_column(String(1000))
    deadline: Mapped[dt.date | None]
    reinspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))


class Case(Audited, db.Model):
    """案件: 受理 (accepted) → 转办 (assigned) → 处置 (handled) → 结案 (closed); 退回重办 (returned)
    sends a handled case back to assigned.  A 12345 hotline case (``source`` hotline) may also be
    回退 (sent_back: not ours, within 2 working days of receipt) and extended once; its deadline counts
    working days and is stored when the case is made."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_source", "source", "source_id"),
                      Index("ix_cases_district_code", "district_code"),
                      # One case per 12345 ticket number, even when it is entered twice at once.
                      Index("uq_cases_hotline_number", "source", "external_case_no", unique=True,
                            sqlite_where=text("source = 'hotline'"), postgresql_where=text("source = 'hotline'")))

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"), index=True)  # a hotline ticket may name none
    source: Mapped[str] = mapped_column(String(16))  # rectification | handover | hotline | complaint
    source_id: Mapped[int | None]
    district_code: Mapped[str | None] = mapped_column(String(16))  # the shop's, or the hotline ticket's
    received_at: Mapped[dt.datetime | None]  # hotline: when 12345 received the ticket
    # hotline: where the ticket says it happened (WGS-84), when it says
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    address: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(String(1000))
    calendar_note: Mapped[str | None] = mapped_column(String(200))  # the deadline counted without the holidays
    extended_days: Mapped[int | None]  # the one extension (working days)
    redo_count: Mapped[int] = mapped_column(default=0)  # 重办 after a dissatisfied follow-up
    satisfied: Mapped[bool | None]
    followed_up_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deadline: Mapped[dt.date | None]
    external_case_no: Mapped[str | None] = mapped_column(String(64))
    returned_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]

    events: Mapped[list["CaseEvent"]] = relationship(order_by="CaseEvent.id", viewonly=True)


class CaseEvent(db.Model):
    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)  # the reminders' recent events
    note: Mapped[str | None] = mapped_column(String(1000))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payload: Mapped[dict | None] = mapped_column(JSON)
