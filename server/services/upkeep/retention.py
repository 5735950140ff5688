"""Retention (SPEC "Personal information and security"), run daily by ``flask retention run``.

- Photos never attached to a record: deleted after 7 days (:func:`photos.purge_orphans`); files
  no photo row names (a worker killed mid-upload) after an hour (:func:`photos.sweep_files`).
- Evidence records — cleanings, handover slips, inspections with their items, rectification
  orders and events, closed cases, contracts — and their photos: deleted once older than
  ``RETENTION_YEARS``.  A record is kept while anything kept still points at it: a slip or an
  order behind a case that is not itself due, a superseded version whose correction is kept,
  a contract a kept slip names, an inspection a kept order names as its re-inspection.
- Bookkeeping: idempotency keys past their replay window, old rate-limit windows, old login
  failures.
- Audit entries are never removed, so the hash chain stays verifiable; the run itself is
  audited with what it removed.
"""
import datetime as dt

from flask import current_app
from sqlalchemy import and_, delete, exists, inspect, not_, or_, select
from sqlalchemy.orm import aliased

from server.clock import utcnow
from server.extensions import db
from server.models import (Case, CaseEvent, Cleaning, Contract, Handover, IdempotencyKey, Inspection,
                           InspectionItem, LoginFailure, Photo, PhotoLink, Rectification, RectificationEvent)
from server.ratelimit import purge as purge_rate_counts
from server.services import audit, compliance, photos
from server.services.records import tallies
from server.services.reports import past_grades

BOOKKEEPING_AFTER = dt.timedelta(days=8)


def cutoff_of(now, years):
    """The same calendar moment ``years`` earlier (29 February → 28 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def _ids(statement):
    return list(db.session.scalars(statement))


def _versioned_goes(row, old):
    """A version may go when it is old and its neighbours in the version chain are old too
    (a kept correction still points at the version it replaced)."""
    model = inspect(row).mapper.class_
    newer, older = aliased(model), aliased(model)
    return and_(old(row),
                or_(row.superseded_by_id.is_(None), exists().where(newer.id == row.superseded_by_id, old(newer))),
                not_(exists().where(older.supersedes_id == row.id, not_(old(older)))))


def _versioned(model, old):
    return _ids(select(model.id).where(_versioned_goes(model, old)))


def run(now=None):
    """Apply every rule; returns ``{what: how many removed}``."""
    now = now or utcnow()
    cutoff = cutoff_of(now, current_app.config["RETENTION_YEARS"])
    removed = {"orphan_photos": photos.purge_orphans(now)}

    # Each "may go" rule is a predicate, so "kept" is its negation inside SQL (no long id lists).
    def case_goes(case):
        return and_(case.closed_at.is_not(None), case.closed_at < cutoff)

    def behind_kept_case(source, column):
        case = aliased(Case)
        return exists().where(case.source == source, case.source_id == column, not_(case_goes(case)))

    def order_goes(order):
        inspection = aliased(Inspection)
        return and_(order.closed_at.is_not(None), order.closed_at < cutoff,
                    exists().where(inspection.id == order.inspection_id, inspection.inspected_at < cutoff),
                    not_(behind_kept_case("rectification", order.id)))

    def slip_goes(slip):
        return and_(slip.handed_over_at < cutoff, slip.received_at < cutoff,
                    not_(behind_kept_case("handover", slip.id)))

    cases = _ids(select(Case.id).where(case_goes(Case)))
    orders = _ids(select(Rectification.id).where(order_goes(Rectification)))
    kept_order = aliased(Rectification)
    inspections = _ids(select(Inspection.id).where(
        Inspection.inspected_at < cutoff, Inspection.received_at < cutoff,
        not_(exists().where(kept_order.inspection_id == Inspection.id, not_(order_goes(kept_order)))),
        not_(exists().where(RectificationEvent.reinspection_id == Inspection.id,
                            RectificationEvent.rectification_id == kept_order.id, not_(order_goes(kept_order))))))
    order_events = _ids(select(RectificationEvent.id).where(
        RectificationEvent.rectification_id.in_(select(Rectification.id).where(order_goes(Rectification)))))

    slips = _versioned(Handover, slip_goes)
    cleanings = _versioned(Cleaning, lambda c: and_(c.cleaned_on < cutoff.date(), c.received_at < cutoff))
    kept_slip = aliased(Handover)
    contracts = _ids(select(Contract.id).where(
        Contract.valid_until < cutoff.date(), Contract.recorded_at < cutoff,
        not_(exists().where(kept_slip.contract_id == Contract.id, not_(_versioned_goes(kept_slip, slip_goes))))))

    records = {"cleaning": cleanings, "handover": slips, "inspection": inspections, "contract": contracts,
               "rectification_event": order_events}
    photo_ids = set()
    for record_type, ids in records.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            photo_ids.update(db.session.scalars(select(PhotoLink.photo_id).where(
                PhotoLink.record_type == record_type, PhotoLink.record_id.in_(chunk))))
            db.session.execute(delete(PhotoLink).where(PhotoLink.record_type == record_type,
                                                       PhotoLink.record_id.in_(chunk)))

    for model, column, ids in (
            (CaseEvent, CaseEvent.case_id, cases), (Case, Case.id, cases),
            (RectificationEvent, RectificationEvent.id, order_events), (Rectification, Rectification.id, orders),
            (InspectionItem, InspectionItem.inspection_id, inspections), (Inspection, Inspection.id, inspections),
            (Handover, Handover.id, slips), (Cleaning, Cleaning.id, cleanings), (Contract, Contract.id, contracts)):
        for start in range(0, len(ids), 500):
            if model is Handover:  # deleted past the ORM: out of the waste tallies first
                tallies.subtract(db.session, ids[start:start + 500])
            if model in compliance.BY_SHOP:  # deleted past the ORM: their shops' facts are rewritten at commit
                compliance.mark_stale(db.session, db.session.scalars(
                    select(model.shop_id).where(column.in_(ids[start:start + 500])).distinct()))
            db.session.execute(delete(model).where(column.in_(ids[start:start + 500])))

    # Photos of removed records that nothing else holds (another record, a later "reused" flag).
    evidence_photos, names = 0, []
    candidates = sorted(photo_ids)
    for start in range(0, len(candidates), 500):
        count, files = photos.delete_unheld(Photo.id.in_(candidates[start:start + 500]))
        evidence_photos, names = evidence_photos + count, names + files

    removed.update(cases=len(cases), rectifications=len(orders), inspections=len(inspections),
                   handovers=len(slips), cleanings=len(cleanings), contracts=len(contracts),
                   evidence_photos=evidence_photos)
    bookkeeping_cutoff = now - BOOKKEEPING_AFTER
    removed["idempotency_keys"] = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < bookkeeping_cutoff)).rowcount
    removed["login_failures"] = db.session.execute(
        delete(LoginFailure).where(LoginFailure.at < bookkeeping_cutoff)).rowcount
    removed["rate_counts"] = purge_rate_counts(now)
    past_grades.mark_everything(db.session)  # records deleted: a past day may be judged differently
    audit.record("retention.run", "retention", None,
                 f"按保存期限（{current_app.config['RETENTION_YEARS']} 年，截至 {cutoff:%Y-%m-%d}）删除："
                 + "，".join(f"{k} {v}" for k, v in removed.items()))
    db.session.commit()
    photos.delete_files(names)
    removed["stray_files"] = photos.sweep_files()
    return removed
