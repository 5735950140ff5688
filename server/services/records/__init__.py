"""The shop's records (中端严管): purifier cleanings, handover slips, and what they share.

A record is evidence: never edited in place; a correction is a new version.  ``is_late`` and
``current_only`` are the rules every kind of record follows."""
import datetime as dt

from server.clock import business_date

LATE_AFTER = dt.timedelta(days=7)


def is_late(event_date, received_at):
    """补录: the event happened more than 7 days before the record reached us."""
    return event_date < business_date(received_at) - LATE_AFTER


def current_only(statement, model, args, user):
    """Lists show current versions; staff may ask for the corrected ones too."""
    if args.get("include_superseded") and user.is_staff:
        return statement
    return statement.where(model.superseded_by_id.is_(None))
