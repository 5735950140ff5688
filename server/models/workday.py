"""Working days an admin entered by hand: they override the calendar package (a year it does not
know yet, or a local arrangement)."""
import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow
from server.extensions import db


class WorkdayOverride(db.Model):
    __tablename__ = "workday_overrides"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    working: Mapped[bool]
    note: Mapped[str] = mapped_column(String(200))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
