"""Removing photos: orphans after 7 days, photos of records past retention, and stray files in the
store (what a killed worker or a store failing midway left without a row)."""
import datetime as dt
import hashlib
import logging
import time

from flask import current_app
from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from server.clock import utcnow
from server.extensions import db
from server.models.counter import Counter
from server.models.photo import Photo, PhotoLink
from server.services import audit
from server.storage import StorageError, storage_for

log = logging.getLogger(__name__)

ORPHAN_AFTER = dt.timedelta(days=7)
STRAY_AFTER_SECONDS = 3600


def _sweep_mark(storage):
    """The counter holding the first day the next sweep of ``storage`` lists (a date ordinal)."""
    return "photo_sweep:" + hashlib.sha256(storage.url.encode()).hexdigest()[:32]


def sweep_files(age_seconds=STRAY_AFTER_SECONDS):
    """Delete files no photo row names, last written more than ``age_seconds`` ago: what a worker
    killed between writing a photo's files and committing its row (or in the middle of writing
    one, a temporary file) left behind.  In-flight uploads are younger than the age.  Each file
    found is looked up by name; on S3 only the days since the last sweep are listed (names begin
    with their day), so a sweep costs what was uploaded since, not the whole bucket."""
    storage = storage_for(current_app)
    older_than = time.time() - age_seconds
    mark_key = _sweep_mark(storage)
    mark = db.session.get(Counter, mark_key)
    since = dt.date.fromordinal(mark.value) if mark and mark.value else None
    db.session.rollback()
    removed, batch = 0, []

    def flush(batch):
        known = set()
        for column in (Photo.original_name, Photo.display_name, Photo.thumb_name):
            known.update(db.session.scalars(select(column).where(column.in_(batch))))
        db.session.rollback()
        stray = [name for name in batch if name not in known]
        delete_files(stray)
        return len(stray)

    for name, temporary in storage.stray_files(older_than, since=since):
        if temporary:
            delete_files([name])
            removed += 1
            continue
        batch.append(name)
        if len(batch) == 500:
            removed, batch = removed + flush(batch), []
    if batch:
        removed += flush(batch)
    # Whatever was named before the day ``older_than`` falls on is settled; that day is listed again.
    through = dt.datetime.fromtimestamp(older_than, dt.timezone.utc).date().toordinal()
    if db.session.execute(update(Counter).where(Counter.name == mark_key, Counter.value < through)
                          .values(value=through)).rowcount == 0 and mark is None:
        db.session.add(Counter(name=mark_key, value=through))
    try:
        db.session.commit()
    except IntegrityError:  # another machine's sweep wrote the mark first
        db.session.rollback()
    return removed


def delete_unheld(*where):
    """Delete, in the caller's transaction, the photo rows matching ``where`` that nothing holds:
    no record links them, and no later upload was flagged as reusing them (they are the evidence
    behind that flag).  Returns ``(how many, their file names)``; delete the files with
    :func:`delete_files` once the transaction has committed."""
    reusing = aliased(Photo)
    unheld = db.session.scalars(select(Photo).where(
        *where, ~exists().where(PhotoLink.photo_id == Photo.id),
        ~exists().where(reusing.reused_photo_id == Photo.id))).all()
    if unheld:
        db.session.execute(delete(Photo).where(Photo.id.in_([p.id for p in unheld])))
    return len(unheld), [n for p in unheld for n in (p.original_name, p.display_name, p.thumb_name)]


def delete_files(names):
    """Delete stored files; one the store cannot delete now (it is down) is left to the sweep."""
    storage = storage_for(current_app)
    for name in names:
        try:
            storage.delete(name)
        except StorageError as error:
            log.warning("could not delete %s from %s (the sweep will): %s", name, storage.url, error)


def purge_orphans(now=None):
    """Delete photos never attached to a record after 7 days (files and rows).  A photo that a
    later upload was flagged as reusing is kept: it is the evidence behind that flag."""
    count, names = delete_unheld(Photo.received_at < (now or utcnow()) - ORPHAN_AFTER)
    if not count:
        return 0
    audit.record("photo.purge_orphans", "photo", None, f"删除 {count} 张 7 天内未关联记录的照片")
    db.session.commit()
    delete_files(names)
    return count
