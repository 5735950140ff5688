"""Kitchen-waste handover slips (联单): either side starts, the other answers; serials; disputes."""
import datetime as dt
import re
import threading

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from server.extensions import db
from server.models import Handover
from tests.helpers import error_of, upload_photo

NOW = "2024-03-22T09:00:00+08:00"


@pytest.fixture
def slip(contracted, frozen_clock):
    return contracted


def start(client, c, headers, **changes):
    body = {"handed_over_at": NOW, "waste_type": "kitchen_waste", "bins": 2, "declared_kg": 40,
            "collector_company_id": c.company_id, "vehicle_plate": "鲁h12345"}
    body.update(changes)
    return client.post(f"/api/v1/shops/{c.shop_id}/handovers", json=body, headers=headers)


def count():
    return db.session.scalar(select(func.count()).select_from(Handover))


def test_shop_starts_collector_confirms(client, slip):
    response = start(client, slip, slip.owner, photo_ids=[upload_photo(client, slip.owner, 1)])
    assert response.status_code == 201
    handover = response.get_json()
    assert re.fullmatch(r"JN20240322-\d{6}", handover["serial"]) and handover["status"] == "pending"
    assert handover["vehicle_plate"] == "鲁H12345" and len(handover["photos"]) == 1
    error_of(client.post(f"/api/v1/handovers/{handover['id']}/confirm", json={}, headers=slip.owner), 403)
    theirs = upload_photo(client, slip.owner, 2)  # the shop's photo is not the collector's to attach
    error_of(client.post(f"/api/v1/handovers/{handover['id']}/confirm", json={"weighed_kg": 44, "photo_ids": [theirs]},
                         headers=slip.collector), 422)
    scale = upload_photo(client, slip.collector, 3)
    confirmed = client.post(f"/api/v1/handovers/{handover['id']}/confirm", json={"weighed_kg": 44, "photo_ids": [scale]},
                            headers=slip.collector).get_json()
    assert confirmed["status"] == "confirmed" and confirmed["weighed_kg"] == 44
    assert len(confirmed["photos"]) == 1 and [p["id"] for p in confirmed["weighing_photos"]] == [scale]
    error_of(client.post(f"/api/v1/handovers/{handover['id']}/confirm", json={"weighed_kg": 44},
                         headers=slip.collector), 409)


def test_collector_starts_shop_confirms(client, slip):
    handover = start(client, slip, slip.collector, declared_kg=None, weighed_kg=30).get_json()
    assert handover["started_by_party"] == "collector"
    confirmed = client.post(f"/api/v1/handovers/{handover['id']}/confirm", json={"declared_kg": 31},
                            headers=slip.owner).get_json()
    assert confirmed["status"] == "confirmed"


@pytest.mark.parametrize("weighed,status", [(48, "confirmed"), (48.1, "disputed"), (32, "confirmed"),
                                            (31.9, "disputed")])
def test_weights_beyond_20_percent_are_disputed_and_listed(client, slip, weighed, status):
    handover = start(client, slip, slip.owner).get_json()
    answered = client.post(f"/api/v1/handovers/{handover['id']}/confirm", json={"weighed_kg": weighed},
                           headers=slip.collector).get_json()
    assert answered["status"] == status
    disputed = client.get("/api/v1/handovers?status=disputed", headers=slip.regulator).get_json()["items"]
    assert [h["id"] for h in disputed] == ([handover["id"]] if status == "disputed" else [])


def test_the_other_party_rejects_with_a_reason(client, slip):
    handover = start(client, slip, slip.owner).get_json()
    assert "reason" in error_of(client.post(f"/api/v1/handovers/{handover['id']}/reject", json={},
                                            headers=slip.collector), 422)["fields"]
    rejected = client.post(f"/api/v1/handovers/{handover['id']}/reject", json={"reason": "未见实物"},
                           headers=slip.collector).get_json()
    assert rejected["status"] == "rejected" and rejected["reject_reason"] == "未见实物"


def test_the_slip_must_name_the_contracted_company(client, slip, make_company, frozen_clock):
    other = make_company(["370811"])
    assert "collector_company_id" in error_of(start(client, slip, slip.owner, collector_company_id=other.id),
                                              422)["fields"]
    assert "过期" in error_of(start(client, slip, slip.owner, handed_over_at="2023-12-31T10:00:00+08:00"),
                            422)["message"]
    assert count() == 0


def test_no_contract_is_422(client, make_shop, make_company, frozen_clock):
    shop, _, headers = make_shop()
    company = make_company(["370811"])
    body = {"handed_over_at": NOW, "waste_type": "kitchen_waste", "collector_company_id": company.id}
    error_of(client.post(f"/api/v1/shops/{shop['id']}/handovers", json=body, headers=headers), 422)


def test_an_expired_company_licence_is_422(client, slip, frozen_clock):
    slip.company.licence_valid_until = dt.date(2024, 3, 1)
    from server.services import audit
    audit.record("test", "collector_company", slip.company_id)
    db.session.commit()
    assert "许可证" in error_of(start(client, slip, slip.owner), 422)["message"]


@pytest.mark.parametrize("changes,field", [
    ({"handed_over_at": "2024-03-23T09:00:00+08:00"}, "handed_over_at"),
    ({"handed_over_at": "2024-03-22T09:00:00"}, "handed_over_at"),
    ({"declared_kg": -5}, "declared_kg"),
    ({"declared_kg": 100_000}, "declared_kg"),
    ({"declared_kg": "lots"}, "declared_kg"),
    ({"waste_type": "plastic"}, "waste_type"),
    ({"bins": 0}, "bins"),
    ({"weighed_kg": 40}, "weighed_kg"),  # the shop does not weigh
    ({"vehicle_plate": "x" * 10_000}, "vehicle_plate"),
    ({"photo_ids": [999999]}, "photo_ids"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_slips_are_422_and_nothing_is_written(client, slip, changes, field):
    assert field in error_of(start(client, slip, slip.owner, **changes), 422)["fields"]
    assert count() == 0


def test_a_late_slip_is_flagged(client, slip):
    handover = start(client, slip, slip.owner, handed_over_at="2024-03-10T10:00:00+08:00").get_json()
    assert handover["late_entry"] is True


def test_corrections_keep_the_serial_and_need_a_new_answer(client, slip):
    first = start(client, slip, slip.owner).get_json()
    client.post(f"/api/v1/handovers/{first['id']}/confirm", json={"weighed_kg": 41}, headers=slip.collector)
    body = {"handed_over_at": NOW, "waste_type": "waste_oil", "declared_kg": 42,
            "collector_company_id": slip.company_id, "reason": "类型填错"}
    error_of(client.post(f"/api/v1/handovers/{first['id']}/corrections", json=body, headers=slip.collector), 403)
    fixed = client.post(f"/api/v1/handovers/{first['id']}/corrections", json=body, headers=slip.owner)
    assert fixed.status_code == 201
    new = fixed.get_json()
    assert (new["serial"], new["version"], new["status"], new["supersedes_id"]) == \
        (first["serial"], 2, "pending", first["id"])
    current = client.get(f"/api/v1/shops/{slip.shop_id}/handovers", headers=slip.owner).get_json()["items"]
    assert [h["id"] for h in current] == [new["id"]]
    everything = client.get(f"/api/v1/shops/{slip.shop_id}/handovers?include_superseded=true",
                            headers=slip.regulator).get_json()["items"]
    assert {h["id"]: h["superseded_by"] for h in everything} == {first["id"]: new["id"], new["id"]: None}
    error_of(client.post(f"/api/v1/handovers/{first['id']}/confirm", json={"weighed_kg": 1},
                         headers=slip.collector), 409)


def test_lists_are_scoped(client, slip, login_as, make_company):
    handover = start(client, slip, slip.owner).get_json()
    _, other_driver = login_as("collector", company=make_company(["370811"]))
    assert client.get("/api/v1/handovers", headers=other_driver).get_json()["items"] == []
    error_of(client.get(f"/api/v1/shops/{slip.shop_id}/handovers", headers=other_driver), 404)
    error_of(client.post(f"/api/v1/handovers/{handover['id']}/confirm", json={"weighed_kg": 40},
                         headers=other_driver), 404)
    _, far = login_as("inspector", jurisdiction=["370883"])
    assert client.get("/api/v1/handovers", headers=far).get_json()["items"] == []
    ids = [h["id"] for h in client.get(f"/api/v1/handovers?company_id={slip.company_id}",
                                       headers=slip.collector).get_json()["items"]]
    assert ids == [handover["id"]]


@pytest.fixture
def live_server(app):
    """The app on a real threaded HTTP server on 127.0.0.1, for concurrent requests.

    The test's own session (shared with the test client) is ended first: on SQLite an open
    transaction holds the write lock that the server's threads need."""
    db.session.rollback()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1"
    server.shutdown()
    server.server_close()


def _parallel(count, call):
    results, barrier = [None] * count, threading.Barrier(count)

    def run(i):
        barrier.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_parallel_slips_never_share_a_serial(slip, live_server):
    body = {"handed_over_at": NOW, "waste_type": "kitchen_waste", "declared_kg": 10,
            "collector_company_id": slip.company_id}
    url = f"{live_server}/shops/{slip.shop_id}/handovers"
    db.session.rollback()
    responses = _parallel(12, lambda i: requests.post(url, json=body, headers=slip.owner, timeout=60))
    assert [r.status_code for r in responses] == [201] * 12
    serials = [r.json()["serial"] for r in responses]
    assert len(set(serials)) == 12
    assert sorted(int(s.rsplit("-", 1)[1]) for s in serials) == list(range(1, 13))


def test_parallel_retries_with_one_key_create_one_slip(slip, live_server):
    body = {"handed_over_at": NOW, "waste_type": "kitchen_waste", "declared_kg": 10,
            "collector_company_id": slip.company_id}
    headers = dict(slip.owner, **{"Idempotency-Key": "a1b2c3d4-retry-from-a-weak-network"})
    url = f"{live_server}/shops/{slip.shop_id}/handovers"
    db.session.rollback()
    responses = _parallel(10, lambda i: requests.post(url, json=body, headers=headers, timeout=60))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409} and 201 in statuses
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    db.session.expire_all()
    assert count() == 1
    db.session.rollback()  # release SQLite's write lock before the server answers again
    replay = requests.post(url, json=body, headers=headers, timeout=60)
    assert replay.status_code == 201 and replay.json()["id"] in created


def test_a_retried_confirm_replays_instead_of_409(client, slip):
    handover = start(client, slip, slip.owner).get_json()
    headers = dict(slip.collector, **{"Idempotency-Key": "confirm-once"})
    first = client.post(f"/api/v1/handovers/{handover['id']}/confirm", json={"weighed_kg": 40}, headers=headers)
    again = client.post(f"/api/v1/handovers/{handover['id']}/confirm", json={"weighed_kg": 40}, headers=headers)
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
