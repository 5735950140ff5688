"""Reference data reads: districts, the current inspection checklist, and the label table."""
from sqlalchemy import select

from server.errors import fail
from server.extensions import db
from server.labels import LABELS
from server.models.reference import ChecklistItem, ChecklistVersion, District


def districts():
    return db.session.scalars(select(District).order_by(District.position, District.code)).all()


def current_checklist():
    checklist = db.session.scalars(
        select(ChecklistVersion).order_by(ChecklistVersion.version.desc()).limit(1)
    ).first()
    if checklist is None:
        fail(503, "检查清单尚未初始化，请先运行数据库迁移", code="service_unavailable")
    return checklist


def checklist_texts():
    """``{code: text}`` of every checklist item ever published (a newer version's text wins), so an
    old inspection's items are named too."""
    rows = db.session.execute(select(ChecklistItem.code, ChecklistItem.text)
                              .join(ChecklistVersion, ChecklistVersion.id == ChecklistItem.version_id)
                              .order_by(ChecklistVersion.version))
    return {code: text for code, text in rows}


def items_text(codes):
    """Checklist items named by their text, for a summary a person reads: ``…；…``."""
    texts = checklist_texts()
    return "；".join(texts.get(code, code) for code in codes)


def labels():
    """``GET /labels``: every kind of coded value with its Chinese, checklist items and districts
    from the reference data beside the fixed table."""
    return {**LABELS, "checklist_item": checklist_texts(),
            "district": {district.code: district.name for district in districts()}}
