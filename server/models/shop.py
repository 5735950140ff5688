"""The shop roster (前端严控): shops, their members, one-time codes, status history,
change requests and collection contracts."""
import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow
from server.extensions import db
from server.geo import cell_of
from server.models.base import Audited, TimestampMixin

SCALES = ("small", "medium", "large")
STATUSES = ("active", "suspended", "closed")


class Shop(Audited, TimestampMixin, db.Model):
    __tablename__ = "shops"
    __table_args__ = (
        UniqueConstraint("uscc", "address_key"),
        Index("ix_shops_lat_lng", "lat", "lng"),
        Index("ix_shops_district_code_status", "district_code", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    address: Mapped[str] = mapped_column(String(200))
    address_key: Mapped[str] = mapped_column(String(200))  # address without spaces, for uniqueness
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    street: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float]
    lng: Mapped[float]
    # Grid cell of (lat, lng), kept by the before-insert/update hook below; radius queries look up cells.
    geo_cell: Mapped[int | None] = mapped_column(index=True)
    # The district whose boundary holds (lat, lng), kept by services.places' hook; where it
    # differs from district_code the console lists the shop for its district to correct.
    located_in: Mapped[str | None] = mapped_column(String(16), index=True)
    cooking_heads: Mapped[int]
    open_air_bbq: Mapped[bool] = mapped_column(default=False)
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    purifier_installed: Mapped[bool] = mapped_column(default=False)
    purifier_model: Mapped[str | None] = mapped_column(String(100))
    purifier_rated_efficiency: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str | None] = mapped_column(String(200))
    status_effective_on: Mapped[dt.date | None]
    registered_on: Mapped[dt.date]
    source: Mapped[str] = mapped_column(String(16))  # registration | import | patrol
    claimed_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def claimed(self):
        return self.claimed_at is not None


class ShopMember(Audited, db.Model):
    __tablename__ = "shop_members"
    __table_args__ = (UniqueConstraint("shop_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # manager | staff
    joined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ShopCode(Audited, db.Model):
    """One-time codes for a shop: ``claim`` (issued by staff, printed as a QR code) and
    ``join`` (issued by the manager to add staff).  Only a digest is stored."""

    __tablename__ = "shop_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None]


class ShopStatusChange(Audited, db.Model):
    """营业状态 history: the compliance engine leaves a shop out from ``effective_on``."""

    __tablename__ = "shop_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    effective_on: Mapped[dt.date]
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ShopChangeRequest(Audited, db.Model):
    """An owner's change to the facts that decide the shop's obligations, awaiting staff."""

    __tablename__ = "shop_change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict] = mapped_column(JSON)  # column → requested value
    previous: Mapped[dict] = mapped_column(JSON)  # column → value when requested
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(String(500))


class Contract(Audited, db.Model):
    """收运合同 between a shop and a licensed collection company, recorded by the company or staff."""

    __tablename__ = "contracts"
    __table_args__ = (Index("ix_contracts_shop_id_valid_until", "shop_id", "valid_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    collector_company_id: Mapped[int] = mapped_column(ForeignKey("collector_companies.id"), index=True)
    contract_no: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[dt.date]
    valid_until: Mapped[dt.date]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@event.listens_for(Shop, "before_insert")
@event.listens_for(Shop, "before_update")
def _keep_geo_cell(_mapper, _connection, shop):
    shop.geo_cell = cell_of(shop.lat, shop.lng)
