"""What cleanings and handover slips share: late entries, photo references, visibility."""
import datetime as dt

from sqlalchemy import select

from server.clock import business_date
from server.extensions import db
from server.models.shop import Shop
from server.services import photos, scope

LATE_AFTER = dt.timedelta(days=7)


def is_late(event_date, received_at):
    """补录: the event happened more than 7 days before the record reached us."""
    return event_date < business_date(received_at) - LATE_AFTER


def _visible(model):
    def check(user, record_id):
        shop_id = db.session.scalar(select(model.shop_id).where(model.id == record_id))
        return shop_id is not None and db.session.scalar(
            scope.shops_visible_to(user).where(Shop.id == shop_id)) is not None
    return check


def register_visibility(record_type, model):
    """Photos attached to ``record_type`` are served to whoever may see the record's shop."""
    photos.RECORD_VISIBILITY[record_type] = _visible(model)


def current_only(statement, model, args, user):
    """Lists show current versions; staff may ask for the corrected ones too."""
    if args.get("include_superseded") and user.is_staff:
        return statement
    return statement.where(model.superseded_by_id.is_(None))
