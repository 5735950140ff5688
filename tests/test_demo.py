"""seed-demo fills an empty database with a city a newcomer can look at; it refuses a full one."""
from sqlalchemy import func, select

from server.extensions import db
from server.models import Handover, Shop
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
