"""The audit helper (审计).  Every write records an entry in the same transaction.

``record()`` queues the entry on the current session; the service that made the change
commits both together, so there is never a change without its entry, nor an entry
for a change that was rolled back.  A commit that changed an :class:`Audited` model
without recording an entry raises :class:`MissingAuditEntry` — a programming error
caught by the tests, never a silent gap in the trail.  Entries are append-only: the ORM
refuses to update or delete them, and database triggers refuse it as well.

The entries form a hash chain (tamper evidence): each stores the SHA-256 of its own
content and of the previous entry's hash.  Entries are written last, in the commit, with
one writer at a time on the chain — SQLite's ``BEGIN IMMEDIATE`` already serialises every
write transaction; on PostgreSQL a transaction-scoped advisory lock is taken just before
the head is read, and held until the commit, so it is held for as short a time as possible
and after every other lock the transaction takes.  :func:`verify` walks the chain.
"""
import hashlib
import json

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import select, text

from server.clock import UTC, utcnow
from server.extensions import db
from server.models.audit import AuditEntry
from server.models.base import Audited

SUMMARY_MAX = 1000
GENESIS = "0" * 64
# Arbitrary constant naming the audit chain's advisory lock on PostgreSQL.
CHAIN_LOCK_KEY = 0x61756469  # "audi"


class MissingAuditEntry(RuntimeError):
    """A transaction changed audited records without an audit entry."""


class AuditTampering(RuntimeError):
    """Something tried to change or delete an audit entry."""


def current_actor():
    return getattr(g, "current_user", None) if has_app_context() else None


def record(action, object_type, object_id=None, summary="", *, shop_id=None, actor=None, session=None):
    """Add an audit entry for ``action`` on ``object_type``/``object_id`` to the session."""
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
    (session or db.session).info.setdefault("audit_pending", []).append(entry)
    return entry


def entry_digest(entry, prev_hash):
    """SHA-256 (hex) of an entry's content and the previous entry's hash."""
    content = [entry.id, entry.at.isoformat(timespec="microseconds"), entry.actor_id, entry.actor_role,
               entry.action, entry.object_type, entry.object_id, entry.shop_id, entry.client_addr,
               entry.summary, prev_hash]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


_CHAIN_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_HEAD = select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)


def _chain(session, entries):
    """Give ``entries`` ids and hashes continuing the chain's head (one writer at a time)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_CHAIN_LOCK, {"key": CHAIN_LOCK_KEY})
    head = connection.execute(_HEAD).first()
    last_id, prev_hash = head if head else (0, GENESIS)
    for entry in entries:
        last_id += 1
        entry.id, entry.prev_hash = last_id, prev_hash
        if entry.at is not None and entry.at.tzinfo is not None:
            entry.at = entry.at.astimezone(UTC)  # hashed as it will read back
        entry.hash = prev_hash = entry_digest(entry, prev_hash)


def watch_flush(session, _context, _instances):
    """(before_flush) Refuse changes to entries; note audited changes; chain new entries."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry):
            raise AuditTampering("audit entries are append-only")
    unchained = []
    for obj in session.new:
        if isinstance(obj, AuditEntry):
            session.info["audit_written"] = True
            if obj.hash is None:
                unchained.append(obj)
        elif isinstance(obj, Audited):
            session.info["audit_needed"] = True
    if unchained:
        _chain(session, unchained)
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Audited) and (obj in session.deleted or session.is_modified(obj)):
            session.info["audit_needed"] = True


def append_entries(session):
    """(the last commit step) Refuse an audited change without an entry; append the queued
    entries, last thing in the transaction."""
    session.flush()
    pending = session.info.pop("audit_pending", None)
    needed, written = session.info.get("audit_needed"), session.info.get("audit_written") or pending
    if needed and not written:
        raise MissingAuditEntry("a change to audited records was committed without an audit entry")
    if pending:
        # Last thing in the transaction: the chain's lock is held only until the commit.
        session.add_all(pending)
        session.flush()


def reset(session, *_args):
    """(after commit or rollback) Forget the transaction's bookkeeping."""
    for key in ("audit_needed", "audit_written", "audit_pending"):
        session.info.pop(key, None)


def head(session):
    """The newest entry (the chain's head), or None."""
    return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).first()


def verify(session, anchor=None, batch=5000):
    """Walk the chain in id order.  Returns ``(checked, problem)``; ``problem`` is None when
    intact, else ``(entry id, Chinese explanation)`` for the first broken link.  With
    ``anchor`` (a hash printed earlier by ``audit anchor``) the chain must also contain it."""
    prev_hash, checked, anchor_seen = GENESIS, 0, anchor is None
    anchor = anchor.strip().lower() if anchor else None
    last_id = 0
    while True:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.id > last_id)
                               .order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            break
        for entry in rows:
            if entry.prev_hash != prev_hash:
                return checked, (entry.id, "与上一条记录的链接断开（之前的记录被删除、插入或改写）")
            if entry.hash != entry_digest(entry, prev_hash):
                return checked, (entry.id, "记录内容与其哈希不符（该记录被改写）")
            anchor_seen = anchor_seen or entry.hash == anchor
            prev_hash, last_id, checked = entry.hash, entry.id, checked + 1
        session.expunge_all()
    if not anchor_seen:
        return checked, (None, "链中找不到该锚点：锚点及其之前的记录已被改写或删除")
    return checked, None
