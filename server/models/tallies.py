"""Running totals of kitchen-waste slips per district and business day, for the statistics.

A quarter of a 50,000-shop city is about 350,000 slips; summing them for every request took
seconds.  These rows hold the same sums, kept by every write that changes a slip (see
:mod:`server.services.records.tallies`), so a quarter is a few thousand rows.  Only slips in
force (not superseded by a correction) count; ``day`` is the Asia/Shanghai date of handover and
``district_code`` the shop's district now (a shop that moves takes its totals with it).
"""
import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class WasteTally(db.Model):
    __tablename__ = "waste_tallies"

    # The key's order serves both readers: a district's days (districts), every district's days (collectors).
    district_code: Mapped[str] = mapped_column(String(16), ForeignKey("districts.code"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    collector_company_id: Mapped[int] = mapped_column(ForeignKey("collector_companies.id"), primary_key=True)
    waste_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    slips: Mapped[int] = mapped_column(default=0)
    # Hundredths of a kilogram (weighed, else declared, else 0): exact sums, unlike floats.
    centi_kg: Mapped[int] = mapped_column(BigInteger, default=0)
