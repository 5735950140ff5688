"""Per-user request counts in fixed windows, in the database so every gunicorn worker agrees."""
import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class RateCount(db.Model):
    __tablename__ = "rate_counts"

    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bucket: Mapped[str] = mapped_column(String(16), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(primary_key=True, index=True)
    count: Mapped[int] = mapped_column(default=0)
