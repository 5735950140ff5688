"""Photos as evidence (照片证据) and their links to the records they support."""
import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow
from server.extensions import db
from server.models.base import Audited

BANDS = 4  # the 64-bit perceptual hash split into four 16-bit bands, each indexed


class Photo(Audited, db.Model):
    __tablename__ = "photos"
    __table_args__ = tuple(Index(f"ix_photos_dhash_band{i}", f"dhash_band{i}") for i in range(BANDS)) + (
        Index("ix_photos_uploaded_by_id_received_at", "uploaded_by_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    purpose: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(16))  # camera | album, as the picker said
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int]
    format: Mapped[str] = mapped_column(String(8))
    width: Mapped[int]
    height: Mapped[int]
    dhash: Mapped[int] = mapped_column(BigInteger)  # signed 64-bit
    dhash_band0: Mapped[int]
    dhash_band1: Mapped[int]
    dhash_band2: Mapped[int]
    dhash_band3: Mapped[int]
    taken_at: Mapped[dt.datetime | None]
    gps_lat: Mapped[float | None]
    gps_lng: Mapped[float | None]
    client_lat: Mapped[float | None]
    client_lng: Mapped[float | None]
    captured_at: Mapped[dt.datetime | None]
    captured_at_suspect: Mapped[bool] = mapped_column(default=False)
    reused_photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id"))
    original_name: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), unique=True)
    thumb_name: Mapped[str] = mapped_column(String(128), unique=True)


class PhotoLink(db.Model):
    """A photo attached to a record (cleaning, handover, inspection, ...) in some role."""

    __tablename__ = "photo_links"
    __table_args__ = (
        UniqueConstraint("photo_id", "record_type", "record_id", "role"),
        Index("ix_photo_links_record", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int]
    role: Mapped[str] = mapped_column(String(32))  # before | after | evidence | invoice | contract ...
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
