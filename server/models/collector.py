"""Licensed kitchen-waste collection companies (餐厨废弃物收运单位)."""
import datetime as dt

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import Audited, TimestampMixin


class CollectorCompany(Audited, TimestampMixin, db.Model):
    __tablename__ = "collector_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    licence_no: Mapped[str] = mapped_column(String(64))
    licence_valid_until: Mapped[dt.date]
    districts: Mapped[list] = mapped_column(JSON)  # district codes served

    def licence_valid_on(self, day):
        return self.licence_valid_until >= day
