"""Reference data reads: districts and the current inspection checklist."""
from sqlalchemy import select

from server.errors import fail
from server.extensions import db
from server.models.reference import ChecklistVersion, District


def districts():
    return db.session.scalars(select(District).order_by(District.position, District.code)).all()


def current_checklist():
    checklist = db.session.scalars(
        select(ChecklistVersion).order_by(ChecklistVersion.version.desc()).limit(1)
    ).first()
    if checklist is None:
        fail(503, "检查清单尚未初始化，请先运行数据库迁移", code="service_unavailable")
    return checklist
