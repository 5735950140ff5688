"""What a shop's records currently say, summarised for the compliance engine.

Not a status: the engine still derives every status, grade and reason from these facts and
the date it is asked about.  The row is rewritten from the records in the same transaction as
any write to them (:mod:`server.services.shop_facts`), so it cannot drift from them; it
answers "as of today" only — earlier dates are gathered from the records themselves.
"""
import datetime as dt

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class ShopFacts(db.Model):
    __tablename__ = "shop_facts"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    last_cleaned_on: Mapped[dt.date | None]
    last_counted_slip_at: Mapped[dt.datetime | None]  # last confirmed or disputed slip
    last_pending_slip_at: Mapped[dt.datetime | None]  # last slip not answered yet (counts for 48 h)
    last_inspected_at: Mapped[dt.datetime | None]
    # JSON text (parsed by the reader, only where present — a JSON column's processing cost more
    # than the rest of the row): {"statuses": [[effective_on, status]...] (in order),
    # "contracts": [[from, until, company_id]...], "orders": [[still_open_for_the_shop, deadline]...]
    # (orders not accepted), "failures": [[code, inspection_id, inspected_at]...] (last 12 months)}
    lists: Mapped[str | None] = mapped_column(Text)
    # JSON text: the counting kitchen-waste slips in force handed over since the first day of the
    # plausibility window on the day of the refresh, [[handed_over_at, kg or null, bins or null]...]
    # (kg: weighed, else declared) — every slip of any later window, since a new one rewrites the row.
    # NULL: a row written before the column existed; the reader then reads the slips.
    recent_waste: Mapped[str | None] = mapped_column(Text)
    # The row answers from this moment on: the latest of its refresh and of every time in the records
    # (received, answered, superseded, voided, handed over...).  Read before it (a record dated
    # ahead within the clock slack, a clock set back), the shop is graded from its records.
    valid_from: Mapped[dt.datetime]
    # Indexed: the shops rewritten since the overview's held pass are graded again for the lists.
    refreshed_at: Mapped[dt.datetime] = mapped_column(index=True)
