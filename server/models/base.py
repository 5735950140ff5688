"""What every model shares: the timestamp mixin and the audited marker."""
import datetime as dt

from sqlalchemy.orm import Mapped, mapped_column

from server.clock import utcnow


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Audited:
    """Marker: a change to a row of this model must be accompanied by an audit entry
    in the same transaction (enforced in :mod:`server.services.audit`)."""
