"""Grade tallies of a district as of a past day, kept for the statistics.

Grading 50,000 shops as of a past day takes seconds, and the answer hardly ever changes: every
record is judged by what was known at that day's end (received, answered, voided, superseded
before it).  What can still change it — a shop's own row (its scale, registration, district,
claim), a working-day override, retention — marks the district changed
(:mod:`server.services.reports.past_grades`); a snapshot made before that mark is not used.
"""
import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class GradeSnapshot(db.Model):
    __tablename__ = "grade_snapshots"

    district_code: Mapped[str] = mapped_column(String(16), ForeignKey("districts.code"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    made_at: Mapped[dt.datetime]  # when the read it was made from began (less a margin)
    tally: Mapped[str] = mapped_column(Text)  # JSON: {"shops": {...}, "grades": {...}, "overdue": {...}}
