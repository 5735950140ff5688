"""The audit helper (审计).  Every write records an entry in the same transaction.

``record()`` adds the entry to the current session; the service that made the change
commits both together, so there is never a change without its entry, nor an entry
for a change that was rolled back.  A commit that changed an :class:`Audited` model
without recording an entry raises :class:`MissingAuditEntry` — a programming error
caught by the tests, never a silent gap in the trail.  Entries are append-only: the ORM
refuses to update or delete them, and database triggers refuse it as well.
"""
from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.clock import utcnow
from server.models.audit import AuditEntry
from server.models.base import Audited

SUMMARY_MAX = 1000


class MissingAuditEntry(RuntimeError):
    """A transaction changed audited records without an audit entry."""


class AuditTampering(RuntimeError):
    """Something tried to change or delete an audit entry."""


def current_actor():
    return getattr(g, "current_user", None) if has_app_context() else None


def record(action, object_type, object_id=None, summary="", *, shop_id=None, actor=None, session=None):
    """Add an audit entry for ``action`` on ``object_type``/``object_id`` to the session."""
    from server.extensions import db

    actor = actor if actor is not None else current_actor()
    entry = AuditEntry(
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_role=getattr(actor, "role", None) or "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        shop_id=shop_id,
        client_addr=request.remote_addr if has_request_context() else None,
        summary=(summary or "")[:SUMMARY_MAX],
    )
    (session or db.session).add(entry)
    return entry


@event.listens_for(Session, "before_flush")
def _watch_flush(session, _context, _instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry):
            raise AuditTampering("audit entries are append-only")
    for obj in session.new:
        if isinstance(obj, AuditEntry):
            session.info["audit_written"] = True
        elif isinstance(obj, Audited):
            session.info["audit_needed"] = True
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Audited) and (obj in session.deleted or session.is_modified(obj)):
            session.info["audit_needed"] = True


@event.listens_for(Session, "before_commit")
def _enforce(session):
    session.flush()
    needed, written = session.info.get("audit_needed"), session.info.get("audit_written")
    if needed and not written:
        raise MissingAuditEntry("a change to audited records was committed without an audit entry")


def _reset(session, *_args):
    session.info.pop("audit_needed", None)
    session.info.pop("audit_written", None)


event.listen(Session, "after_commit", _reset)
event.listen(Session, "after_rollback", _reset)
event.listen(Session, "after_soft_rollback", _reset)
