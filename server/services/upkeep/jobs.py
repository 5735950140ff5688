"""Jobs that cron starts on every machine (``retention run``...) but that must run on one at a time.

A job holds a lease: a row in ``counters`` whose value is the POSIX second it expires.  Taking it
is one conditional UPDATE (or the INSERT of the row), which the database lets only one machine win;
the holder gives it back when done, and a holder that died loses it when it expires.
"""
import contextlib
import logging
import secrets

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from server.clock import utcnow
from server.database import writing
from server.extensions import db
from server.models.counter import Counter

log = logging.getLogger(__name__)


@contextlib.contextmanager
def lease(name, seconds):
    """``with lease("retention", 6 * 3600) as held:`` — ``held`` is False when another process
    holds it (then do nothing).  The lease is longer than the job can run."""
    key = "lease:" + name
    db.session.rollback()
    with writing(db.session):
        held, until = _take(key, seconds)
    try:
        yield held
    finally:
        if held:
            try:
                db.session.rollback()
                with writing(db.session):
                    db.session.execute(update(Counter).where(Counter.name == key, Counter.value == until)
                                       .values(value=0))
                    db.session.commit()
            except SQLAlchemyError:  # the database went away: the lease runs out by itself
                log.exception("could not give back the lease %s", key)


def _take(key, seconds):
    now = int(utcnow().timestamp())
    # The value is in milliseconds, its random last digits our token: we give back only our own lease.
    until = (now + seconds) * 1000 + secrets.randbelow(1000)
    held = db.session.execute(update(Counter).where(Counter.name == key, Counter.value < now * 1000)
                              .values(value=until)).rowcount == 1
    if not held and db.session.get(Counter, key) is None:
        db.session.add(Counter(name=key, value=until))
        try:
            db.session.flush()
            held = True
        except IntegrityError:
            db.session.rollback()
    db.session.commit()
    return held, until
