"""The console overview's last graded pass per jurisdiction, shared by every worker and machine.

Grading a 50,000-shop city takes seconds; one process makes a pass (under a lease) and stores it
here, the others read it (see :mod:`server.services.reports.overview`), so a worker that has just
started shows the last pass at once instead of grading the city itself.
"""
import datetime as dt

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class OverviewPass(db.Model):
    __tablename__ = "overview_passes"

    # "*" for city-wide staff, else the jurisdiction's district codes, sorted, joined by ",".
    jurisdiction: Mapped[str] = mapped_column(String(400), primary_key=True)
    made_at: Mapped[dt.datetime]
    body: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed JSON (see overview._encode)
