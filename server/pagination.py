"""The one pagination helper: ``?page=1&per_page=20`` → ``{items, page, per_page, total}``."""
import functools

import marshmallow as ma
from sqlalchemy import func, select

from server.extensions import db
from server.schemas.base import StrictSchema
from server.validators import DistrictCode

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


class AreaArgs(StrictSchema):
    """A work queue's area: a district and, within it, a street (the shop's)."""

    district_code = DistrictCode()
    street = ma.fields.String(validate=ma.validate.Length(min=1, max=64))


class PageArgs(StrictSchema):
    """Query arguments of every list; filters subclass this."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(load_default=DEFAULT_PER_PAGE, validate=ma.validate.Range(min=1),
                                 metadata={"description": f"larger values are clamped to {MAX_PER_PAGE}"})

    @ma.post_load
    def clamp(self, data, **_kwargs):
        data["per_page"] = min(data["per_page"], MAX_PER_PAGE)
        return data


@functools.cache
def page_of(item_schema):
    """The envelope schema for a page of ``item_schema`` (one class per item schema)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(name, (ma.Schema,), {
        # One nested dump of the whole page, so the item schema's pre_dump loads for all rows at once.
        "items": ma.fields.Nested(item_schema, many=True, required=True),
        "page": ma.fields.Integer(required=True),
        "per_page": ma.fields.Integer(required=True),
        "total": ma.fields.Integer(required=True),
    })


def paginate(statement, args):
    """One page of ``statement`` (an ordered ``select`` of ORM entities) or of a list already loaded."""
    page, per_page = args["page"], args["per_page"]
    if isinstance(statement, list):
        start = (page - 1) * per_page
        return {"items": statement[start:start + per_page], "page": page, "per_page": per_page,
                "total": len(statement)}
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    items = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "page": page, "per_page": per_page, "total": total}
