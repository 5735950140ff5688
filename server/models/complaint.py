"""Citizen complaints (投诉) about fumes, open-air barbecue, outside-store trading and dumped kitchen
waste: from the mini-program or an Open311 partner, triaged by staff of the district."""
import datetime as dt

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow
from server.extensions import db
from server.models.base import Audited

CATEGORIES = {"fume": "油烟扰民", "open_air_bbq": "露天烧烤", "outside_store": "占道（出店）经营",
              "waste_dumping": "乱倒餐厨垃圾"}
COMPLAINT_STATUSES = ("open", "linked", "duplicate", "not_ours", "case", "closed")
STILL_OPEN = ("open", "linked", "case")  # what a duplicate may be of, and what raises a shop's priority


class Complaint(Audited, db.Model):
    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_dedupe", "category", "status", "created_at"),
        Index("ix_complaints_district_status", "district_code", "status"),
        Index("ix_complaints_user_created", "user_id", "created_at"),
        Index("ix_complaints_shop_status", "shop_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: through an Open311 partner
    partner_key_id: Mapped[int | None] = mapped_column(ForeignKey("partner_keys.id"))
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(1000))
    district_code: Mapped[str] = mapped_column(String(6))
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    address: Mapped[str | None] = mapped_column(String(200))
    media_url: Mapped[str | None] = mapped_column(String(500))
    contact_phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    possible_duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    reply: Mapped[str | None] = mapped_column(String(500))  # the public reply the citizen sees
    reason: Mapped[str | None] = mapped_column(String(500))  # why not the bureau's matter (staff only)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    triaged_at: Mapped[dt.datetime | None]
    triaged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PartnerKey(db.Model):
    """An Open311 partner's API key (stored hashed; shown once when made)."""

    __tablename__ = "partner_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
