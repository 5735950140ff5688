"""What a shop's records currently say, summarised for the compliance engine.

Not a status: the engine still derives every status, grade and reason from these facts and
the date it is asked about.  The row is rewritten from the records in the same transaction as
any write to them (:mod:`server.services.shop_facts`), so it cannot drift from them; it
answers "as of today" only — earlier dates are gathered from the records themselves.
"""
import datetime as dt

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class ShopFacts(db.Model):
    __tablename__ = "shop_facts"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    last_cleaned_on: Mapped[dt.date | None]
    last_counted_slip_at: Mapped[dt.datetime | None]  # last confirmed or disputed slip
    last_pending_slip_at: Mapped[dt.datetime | None]  # last slip not answered yet (counts for 48 h)
    last_inspected_at: Mapped[dt.datetime | None]
    # {"statuses": [[effective_on, status]...] (in order), "contracts": [[from, until, company_id]...],
    #  "orders": [[still_open_for_the_shop, deadline]...] (orders not accepted),
    #  "failures": [[code, inspection_id, inspected_at]...] (failed items of the last 12 months)}
    lists: Mapped[dict | None] = mapped_column(JSON)
    # When the newest of those records took effect (received, answered, superseded, voided...): a
    # row read before that moment (a clock set back, a server behind another) cannot answer.
    last_change_at: Mapped[dt.datetime | None]
    refreshed_at: Mapped[dt.datetime]
