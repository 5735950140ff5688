"""Reference data: jurisdictions (districts) and the versioned inspection checklist."""
import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.clock import utcnow
from server.extensions import db


class District(db.Model):
    """区县 / 功能区: a jurisdiction, keyed by its GB/T 2260 code (or a project code for zones without one)."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # county | district | city | zone
    position: Mapped[int] = mapped_column(default=0)
    # Its boundary: a GeoJSON Polygon/MultiPolygon in WGS-84 (see services.places), where it came from, when.
    boundary: Mapped[str | None] = mapped_column(Text, deferred=True)  # read only when asked for
    boundary_source: Mapped[str | None] = mapped_column(String(200))
    boundary_updated_at: Mapped[dt.datetime | None]


class ChecklistVersion(db.Model):
    """一店三查 checklist, one row per published version; the highest version is current."""

    __tablename__ = "checklist_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="checklist", order_by="ChecklistItem.position")


class ChecklistItem(db.Model):
    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    code: Mapped[str] = mapped_column(String(8))
    check: Mapped[str] = mapped_column(String(16))  # purifier | waste | outside
    text: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    checklist: Mapped[ChecklistVersion] = relationship(back_populates="items")
