"""What every commit does, written down once and in order.

A service changes records and commits; just before the commit reaches the database:

1. **carry the idempotency key** — the request's first write commits its ``Idempotency-Key``
   row with it, so either both exist or neither (:func:`server.idempotency.carry_key`);
2. **refresh stale shop facts** — the shops whose records the transaction touched get their
   ``shop_facts`` row rewritten from those records (``compliance.refresh_stale``);
3. **add to the waste tallies** — the slips' changes move the per-district daily totals the
   statistics read (``records.tallies.apply``); after step 2, whose shop locks it relies on; and
   stamp the districts whose past grades a shop's changed row may move (``reports.past_grades.mark``);
4. **append the audit entries** — last, because on PostgreSQL it takes the audit chain's lock,
   which should be held for as short a time as possible (``audit.append_entries``).

The session hooks that feed these steps (noting audited and stale changes on each flush,
forgetting them when a transaction ends) are listed here too.  ``create_app`` installs them
once; nothing else registers a session hook, so the order never depends on import order.
Commits inside :func:`server.database.bookkeeping` (rate-limit counts, a token's last use) are
not the request's write: step 1 skips them.
"""
from sqlalchemy import event
from sqlalchemy.orm import Session

from server import idempotency
from server.services import audit, compliance
from server.services.records import tallies
from server.services.reports import past_grades

COMMIT_STEPS = (idempotency.carry_key, compliance.refresh_stale, tallies.apply, past_grades.mark, audit.append_entries)


def before_commit(session):
    for step in COMMIT_STEPS:
        step(session)


HOOKS = (
    ("before_flush", audit.watch_flush),
    ("after_flush", compliance.note_changes),
    ("after_flush", tallies.note_changes),
    ("after_flush", past_grades.note_changes),
    ("before_commit", before_commit),
    ("after_transaction_end", compliance.forget),
    ("after_transaction_end", tallies.forget),
    ("after_transaction_end", past_grades.forget),
    ("after_commit", audit.reset),
    ("after_rollback", audit.reset),
    ("after_soft_rollback", audit.reset),
)


def install():
    """Register the hooks on every session (idempotent: apps made by tests share the class)."""
    for name, hook in HOOKS:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
