"""`flask retention run`: old evidence and its photos go, recent records and audit entries stay."""
import datetime as dt

import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEntry, Cleaning, Contract, Handover, IdempotencyKey, Inspection, Photo, ShopFacts
from server.services import compliance
from server.services.records import tallies
from server.services.upkeep import retention
from tests.helpers import stored_names, upload_photo
from tests.test_inspections import NEAR, items

OLD = dt.datetime(2018, 3, 22, 1, 30, tzinfo=dt.timezone.utc)
NOW = dt.datetime(2024, 3, 22, 1, 30, tzinfo=dt.timezone.utc)


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def cleaning(client, shop_id, headers, day, seed):
    response = client.post(f"/api/v1/shops/{shop_id}/cleanings", headers=headers, json={
        "cleaned_on": day, "parts": ["purifier"], "performed_by": "self",
        "before_photo_ids": [upload_photo(client, headers, seed)],
        "after_photo_ids": [upload_photo(client, headers, seed + 1)]})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def test_retention_removes_old_evidence_and_keeps_the_rest(app, client, frozen_clock, make_shop, make_company,
                                                           login_as, login):
    frozen_clock.set(OLD)
    shop, owner_user, owner = make_shop()
    company = make_company(["370811"])
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    contract = client.post(f"/api/v1/shops/{shop['id']}/contract", headers=regulator, json={
        "collector_company_id": company.id, "contract_no": "HT-2018", "valid_from": "2018-01-01",
        "valid_until": "2018-12-31", "photo_ids": [upload_photo(client, regulator, 900)]})
    assert contract.status_code == 201, contract.get_data(as_text=True)
    old_cleaning = cleaning(client, shop["id"], owner, "2018-03-20", 1)
    slip = client.post(f"/api/v1/shops/{shop['id']}/handovers", headers=owner, json={
        "handed_over_at": "2018-03-22T09:00:00+08:00", "waste_type": "kitchen_waste", "bins": 1,
        "declared_kg": 20, "collector_company_id": company.id})
    assert slip.status_code == 201, slip.get_data(as_text=True)
    _inspector, inspector = login_as("inspector", jurisdiction=["370811"])
    inspection = client.post(f"/api/v1/shops/{shop['id']}/inspections", headers=inspector, json={
        "inspected_at": "2018-03-22T09:00:00+08:00", **NEAR, "items": items(client, inspector)})
    assert inspection.status_code == 201, inspection.get_data(as_text=True)
    old_photo_files = [p.display_name for p in db.session.scalars(sa.select(Photo))]
    upload_photo(client, owner, 50)  # never attached: an orphan

    frozen_clock.set(NOW)
    owner = login(owner_user)  # the 2018 token has long expired
    recent = cleaning(client, shop["id"], owner, "2024-03-20", 3)
    audit_before = count(AuditEntry)

    result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "cleanings: 1" in result.output and "handovers: 1" in result.output
    assert "inspections: 1" in result.output and "contracts: 1" in result.output
    assert "orphan_photos: 1" in result.output

    db.session.expire_all()
    assert db.session.get(Cleaning, old_cleaning) is None and db.session.get(Cleaning, recent) is not None
    assert count(Handover) == 0 and count(Inspection) == 0 and count(Contract) == 0
    assert count(Photo) == 2  # the recent cleaning's before and after
    assert not stored_names(app) & set(old_photo_files)
    # Audit entries are never removed; the run itself is one more, and the chain still verifies.
    assert count(AuditEntry) > audit_before
    assert db.session.scalar(sa.select(AuditEntry.summary).where(AuditEntry.action == "retention.run"))
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    # The recent cleaning is still served with its photos.
    assert client.get(f"/api/v1/shops/{shop['id']}/cleanings", headers=owner).get_json()["total"] == 1
    # The shop's stored compliance facts were rewritten with the deletions (its contract is gone).
    assert compliance.check_all(db.session) == (1, [], [])
    assert db.session.get(ShopFacts, shop["id"]).lists is None
    # The removed slips left the waste tallies too (they were deleted past the ORM).
    assert tallies.check(db.session) == (0, [])


def test_a_kept_correction_keeps_the_version_it_replaced(app, client, frozen_clock, make_shop, login):
    frozen_clock.set(OLD)
    shop, owner_user, owner = make_shop()
    first = cleaning(client, shop["id"], owner, "2018-03-20", 1)
    frozen_clock.set(NOW)
    owner = login(owner_user)
    correction = client.post(f"/api/v1/cleanings/{first}/corrections", headers=owner, json={
        "cleaned_on": "2018-03-21", "parts": ["purifier"], "performed_by": "self", "reason": "日期填错",
        "before_photo_ids": [upload_photo(client, owner, 7)], "after_photo_ids": [upload_photo(client, owner, 8)]})
    assert correction.status_code == 201, correction.get_data(as_text=True)
    removed = retention.run()
    assert removed["cleanings"] == 0  # the correction was received in 2024: both stay
    assert count(Cleaning) == 2


def test_bookkeeping_rows_go_after_their_window(app, client, frozen_clock, login_as):
    _user, headers = login_as()
    response = client.patch("/api/v1/me", json={"display_name": "甲"}, headers=headers)
    assert response.status_code == 200
    client.post("/api/v1/auth/logout", headers=dict(headers, **{"Idempotency-Key": "k-1"}))
    frozen_clock.advance(dt.timedelta(days=9))
    removed = retention.run()
    assert removed["rate_counts"] >= 1
    assert count(IdempotencyKey) == 0


def test_cutoff_of_a_leap_day():
    assert retention.cutoff_of(dt.datetime(2024, 2, 29, tzinfo=dt.timezone.utc), 5) == dt.datetime(
        2019, 2, 28, tzinfo=dt.timezone.utc)
