"""seed-demo fills an empty database with a city a newcomer can look at; it refuses a full one."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from server.clock import SHANGHAI
from server.extensions import db
from server.models import Cleaning, Handover, Shop
from server.services.upkeep.bulk import Loader
from server.services import compliance
from server.services.compliance import compliance_bulk


def test_seed_demo_makes_a_small_city_and_refuses_to_run_twice(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--shops", "30"])
    assert result.exit_code == 0, result.output
    assert "30 家店铺" in result.output
    assert db.session.scalar(select(func.count()).select_from(Shop)) == 30
    assert db.session.scalar(select(func.count()).select_from(Handover)) > 30 * 20
    grades = {c["grade"] for c in compliance_bulk(select(Shop.id)).values()}
    assert grades & {"A", "B", "C"}
    assert compliance.check_all(db.session) == (30, [], [])  # the bulk load's facts were written
    again = runner.invoke(args=["seed-demo", "--shops", "5"])
    assert again.exit_code != 0 and "已有店铺" in again.output


def test_records_made_after_seeding_get_fresh_ids(app, client, login_as, frozen_clock):
    """seed-demo inserts with explicit ids; PostgreSQL's sequences must be moved past them."""
    from tests.helpers import shop_body, upload_photo
    from tests.test_inspections import CODES

    assert app.test_cli_runner().invoke(args=["seed-demo", "--shops", "10"]).exit_code == 0
    shop = db.session.get(Shop, 1)
    _inspector, inspector = login_as("inspector", jurisdiction=None)
    evidence = upload_photo(client, inspector, 5)
    response = client.post("/api/v1/shops/1/inspections", headers=inspector, json={
        "inspected_at": "2024-03-22T09:00:00+08:00", "lat": shop.lat, "lng": shop.lng,
        "items": [{"code": code, "result": "fail" if code == "P1" else "pass",
                   **({"note": "油污", "photo_ids": [evidence]} if code == "P1" else {})} for code in CODES]})
    assert response.status_code == 201, response.get_data(as_text=True)
    _owner, owner = login_as()
    response = client.post("/api/v1/shops", headers=owner, json=shop_body(77))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["id"] > 10


def test_the_bulk_loader_stores_what_the_orm_would(city, frozen_clock):
    """COPY (PostgreSQL) / executemany (SQLite) past the ORM: the same values come back (aware UTC
    times, JSON, dates), a key the first row has and a later row leaves out is NULL (company_name),
    a column no row names takes its default (late_entry)."""
    shop = city.shop()
    when = dt.datetime(2024, 3, 1, 8, 15, 30, 123456, tzinfo=SHANGHAI)
    loader = Loader(db.session, batch=2)  # three rows: one batch written early, the rest at the end
    for n, company in enumerate(["清洗公司", None, "第三家"]):
        row = {"shop_id": shop.id, "cleaned_on": dt.date(2024, 3, n + 1), "parts": ["purifier", "hood"][:n + 1],
               "performed_by": "company", "logged_by_id": shop.created_by_id,
               "received_at": when + dt.timedelta(minutes=n)}
        if company:
            row["company_name"] = company
        loader.add(Cleaning, row)
    loader.flush()
    db.session.commit()
    db.session.expire_all()
    rows = db.session.scalars(select(Cleaning).order_by(Cleaning.id)).all()
    assert [(r.cleaned_on.day, r.parts, r.company_name, r.late_entry) for r in rows] == [
        (1, ["purifier"], "清洗公司", False), (2, ["purifier", "hood"], None, False),
        (3, ["purifier", "hood"], "第三家", False)]
    assert [r.received_at for r in rows] == [when + dt.timedelta(minutes=n) for n in range(3)]
    assert rows[0].received_at.utcoffset() == dt.timedelta(0)
    with pytest.raises(KeyError, match="no column"):
        Loader(db.session).add(Cleaning, {"shop_id": shop.id, "colour": "red"})


def test_the_demo_city_is_plausible(app):
    """Roughly 60 % A, 25 % B, 15 % C; overdue orders a minority and some already cases; addresses and
    company names as a person would write them (no district codes)."""
    from collections import Counter

    from server.models import Case, CollectorCompany, Rectification
    from server.services.compliance import order_overdue

    assert app.test_cli_runner().invoke(args=["seed-demo", "--shops", "400"]).exit_code == 0
    grades = Counter(c["grade"] for c in compliance_bulk(select(Shop.id)).values())
    shares = {g: grades[g] / sum(grades.values()) for g in "ABC"}
    assert 0.45 < shares["A"] < 0.75 and 0.12 < shares["B"] < 0.38 and 0.06 < shares["C"] < 0.26, shares
    orders = db.session.scalars(select(Rectification)).all()
    overdue = [o for o in orders if order_overdue(o.status, o.deadline, dt.datetime.now(SHANGHAI).date())]
    assert 0 < len(overdue) < len(orders) / 3
    assert 0 < db.session.scalar(select(func.count()).select_from(Case)) <= len(overdue)
    addresses = db.session.scalars(select(Shop.address)).all()
    names = db.session.scalars(select(CollectorCompany.name)).all()
    assert all(a.startswith("济宁市") and "3708" not in a for a in addresses)
    assert all("3708" not in n for n in names) and all(db.session.scalars(select(Shop.street)))
