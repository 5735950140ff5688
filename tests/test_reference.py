"""The first migration seeds reference data; the schema matches the models."""
from sqlalchemy import func, select

from server.models import ChecklistItem, District

JURISDICTIONS = {"370811", "370812", "370826", "370827", "370828", "370829", "370830", "370831",
                 "370832", "370881", "370883", "370871", "370891", "370800-JK"}


def test_migration_seeds_the_14_jurisdictions(app, client):
    assert {d.code for d in app.extensions["sqlalchemy"].session.scalars(select(District))} == JURISDICTIONS
    body = client.get("/api/v1/districts").get_json()
    assert len(body) == 14
    assert {"code": "370811", "name": "任城区", "kind": "district"} in body
    assert {"code": "370800-JK", "name": "济宁经开区", "kind": "zone"} in body  # a functional zone


def test_migration_seeds_checklist_version_1_with_12_items(client):
    body = client.get("/api/v1/checklist").get_json()
    assert body["version"] == 1
    assert [i["code"] for i in body["items"]] == [
        "P1", "P2", "P3", "P4", "W1", "W2", "W3", "W4", "W5", "O1", "O2", "O3"]
    assert {i["check"] for i in body["items"]} == {"purifier", "waste", "outside"}
    assert body["items"][10]["text"] == "无露天烧烤（烧烤店落实“一改三进六定”）"


def test_checklist_items_belong_to_their_version(app):
    session = app.extensions["sqlalchemy"].session
    assert session.scalar(select(func.count()).select_from(ChecklistItem)) == 12


def test_schema_has_no_drift_from_the_models(app):
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
