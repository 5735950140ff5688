"""Reference data reads: districts, the current inspection checklist, and the label table."""
import json

from sqlalchemy import select
from sqlalchemy.orm import undefer

from server.errors import fail
from server.extensions import db
from server.labels import LABELS
from server.models.reference import ChecklistItem, ChecklistVersion, District


def districts(with_boundary=False):
    statement = select(District).order_by(District.position, District.code)
    return db.session.scalars(statement.options(undefer(District.boundary)) if with_boundary else statement).all()


def districts_listed(with_boundary=False):
    """``GET /districts``: code, name and kind; with ``with_boundary`` each one's polygon too."""
    listed = []
    for district in districts(with_boundary):
        row = {"code": district.code, "name": district.name, "kind": district.kind}
        if with_boundary:
            row["boundary"] = json.loads(district.boundary) if district.boundary else None
        listed.append(row)
    return listed


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
