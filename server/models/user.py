"""People and their sessions: users (WeChat or console), login tokens, failed logins."""
import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow
from server.extensions import db
from server.models.base import Audited, TimestampMixin
from server.roles import STAFF_ROLES


class User(Audited, TimestampMixin, db.Model):
    """A person.  ``role`` is ``user`` until an invitation grants a staff or collector role;
    a plain user who is a member of a shop is shown as ``owner``."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str | None] = mapped_column(String(128), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(128), index=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    # Set by an admin who set or reset it: the user must choose their own at the next login.
    password_must_change: Mapped[bool] = mapped_column(default=False, server_default=false())
    role: Mapped[str] = mapped_column(String(32), default="user")
    display_name: Mapped[str | None] = mapped_column(String(64))
    phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # District codes; None = the whole city (meaningful for staff roles only).
    jurisdiction: Mapped[list | None] = mapped_column(JSON)
    collector_company_id: Mapped[int | None] = mapped_column(ForeignKey("collector_companies.id"), index=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    deactivated_at: Mapped[dt.datetime | None]
    privacy_accepted_version: Mapped[str | None] = mapped_column(String(32))
    privacy_accepted_at: Mapped[dt.datetime | None]

    @property
    def is_staff(self):
        return self.role in STAFF_ROLES

    @property
    def city_wide(self):
        return self.role in STAFF_ROLES and self.jurisdiction is None

    def covers(self, district_code):
        """Whether this staff member's jurisdiction includes ``district_code``."""
        return self.is_staff and (self.jurisdiction is None or district_code in self.jurisdiction)


class AuthToken(db.Model):
    """A login session.  Only the SHA-256 of the token is stored."""

    __tablename__ = "auth_tokens"
    __table_args__ = (Index("ix_auth_tokens_user_id_revoked_at", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # wechat | console
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]


class LoginFailure(db.Model):
    """A failed password login, counted by every worker to throttle guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_client_addr_at", "client_addr", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
