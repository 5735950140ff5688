"""seed-demo fills an empty database with a city a newcomer can look at; it refuses a full one."""
from sqlalchemy import func, select

from server.extensions import db
from server.models import Handover, Shop
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
    again = runner.invoke(args=["seed-demo", "--shops", "5"])
    assert again.exit_code != 0 and "已有店铺" in again.output
