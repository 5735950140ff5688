"""A list page costs a constant number of SQL statements, whatever its length.

Every paginated list endpoint is asked for 5 and for 100 rows of a data set with more than 5:
the longer page must not cost one statement more (no query per row)."""
import datetime as dt

import pytest

from tests.helpers import upload_photo
from tests.helpers import count_statements
from tests.test_inspections import inspect

ROWS = 8


@pytest.fixture
def busy(frozen_clock, client, contracted, login_as, make_shop, make_user):
    """ROWS of every kind of record on one contracted shop, ROWS shops, ROWS staff accounts."""
    c = contracted
    inspector, inspector_headers = login_as("inspector", jurisdiction=["370811"])
    _, admin = login_as("admin", jurisdiction=None)
    for n in range(ROWS):
        before, after = upload_photo(client, c.owner, 10 * n + 1), upload_photo(client, c.owner, 10 * n + 2)
        response = client.post(f"/api/v1/shops/{c.shop_id}/cleanings", headers=c.owner, json={
            "cleaned_on": str(dt.date(2024, 3, 1) + dt.timedelta(days=n)), "parts": ["purifier", "hood"],
            "performed_by": "self", "before_photo_ids": [before], "after_photo_ids": [after]})
        assert response.status_code == 201, response.get_data(as_text=True)
        response = client.post(f"/api/v1/shops/{c.shop_id}/handovers", headers=c.owner, json={
            "handed_over_at": f"2024-03-{10 + n:02d}T10:00:00+08:00", "waste_type": "kitchen_waste",
            "declared_kg": 100, "collector_company_id": c.company_id,
            "photo_ids": [upload_photo(client, c.owner, 10 * n + 3)]})
        assert response.status_code == 201, response.get_data(as_text=True)
        slip = response.get_json()["id"]
        response = client.post(f"/api/v1/handovers/{slip}/confirm", headers=c.collector, json={"weighed_kg": 200})
        assert response.get_json()["status"] == "disputed"
        response = client.post("/api/v1/cases", headers=c.regulator,
                               json={"source": "handover", "source_id": slip, "note": "称重差异过大"})
        assert response.status_code == 201, response.get_data(as_text=True)
        response = inspect(client, c.shop_id, inspector_headers, fails=("P1", "W2"),
                           at=f"2024-03-{10 + n:02d}T09:00:00+08:00")
        assert response.status_code == 201, response.get_data(as_text=True)
        order = response.get_json()["rectification"]["id"]
        response = client.post(f"/api/v1/rectifications/{order}/responses", headers=c.owner, json={
            "note": "已整改", "photo_ids": [upload_photo(client, c.owner, 10 * n + 4)]})
        assert response.status_code == 200, response.get_data(as_text=True)
        make_shop()
        make_user("inspector")
    return {"c": c, "inspector": inspector_headers, "admin": admin}


def _cost(client, path, query, headers, per_page):
    with count_statements() as seen:
        response = client.get(path, query_string=dict(query, per_page=per_page), headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json(), seen


PATROL = {"lat": 35.4151, "lng": 116.5872}
LISTS = [
    ("/shops", "regulator"),
    ("/shops?grade=C", "regulator"),
    ("/shops?near=35.4151,116.5872", "regulator"),
    ("/patrol", "inspector"),
    ("/shops/{shop}/cleanings", "owner"),
    ("/shops/{shop}/handovers", "owner"),
    ("/handovers", "collector"),
    ("/shops/{shop}/inspections", "inspector"),
    ("/inspections", "regulator"),
    ("/rectifications", "owner"),
    ("/rectifications", "inspector"),
    ("/cases", "regulator"),
    ("/shops/{shop}/history", "regulator"),
    ("/users", "admin"),
]


@pytest.mark.parametrize("path, who", LISTS)
def test_a_longer_page_costs_no_more_statements(client, busy, path, who):
    c = busy["c"]
    headers = {"regulator": c.regulator, "owner": c.owner, "collector": c.collector,
               "inspector": busy["inspector"], "admin": busy["admin"]}[who]
    path, _, query = ("/api/v1" + path.format(shop=c.shop_id)).partition("?")
    query = dict(part.split("=") for part in query.split("&") if part)
    if path.endswith("/patrol"):
        query.update(PATROL)
    short, short_seen = _cost(client, path, query, headers, 5)
    long, long_seen = _cost(client, path, query, headers, 100)
    assert len(short["items"]) == 5 and len(long["items"]) > 5, (len(short["items"]), len(long["items"]))
    assert len(long_seen) <= len(short_seen), "\n".join(long_seen)


def test_the_caller_is_read_in_one_statement(client, make_shop):
    """Authentication reads the token and its user in one indexed read, and writes nothing while the
    token's last use is recent (it is written at most once a minute)."""
    made = make_shop()
    client.get(f"/api/v1/shops/{made.shop_id}", headers=made.owner)
    with count_statements() as seen:
        assert client.get(f"/api/v1/shops/{made.shop_id}", headers=made.owner).status_code == 200
    caller = [s for s in seen if "auth_tokens" in s or "FROM users" in s]
    assert len(caller) == 1 and "JOIN users" in caller[0], "\n".join(caller)
    assert not [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))], "\n".join(seen)


def test_a_keyed_write_reads_its_caller_and_its_key_once(client, contracted):
    """A POST with an Idempotency-Key: the caller is read once (the key's check does not expire it for
    the view to read again), the key is looked up once, and its answer is stored by one UPDATE."""
    c = contracted
    body = {"handed_over_at": "2026-11-30T10:00:00+08:00", "waste_type": "kitchen_waste", "bins": 1,
            "collector_company_id": c.company_id}
    with count_statements() as seen:
        response = client.post(f"/api/v1/shops/{c.shop_id}/handovers", json=body,
                               headers=dict(c.owner, **{"Idempotency-Key": "once-each"}))
    assert response.status_code == 201, response.get_data(as_text=True)
    caller = [s for s in seen if "auth_tokens" in s or "FROM users" in s]
    assert len(caller) == 1, "\n".join(caller)
    keys = [s for s in seen if "idempotency_keys" in s]
    assert [s.split()[0] for s in keys] == ["SELECT", "INSERT", "UPDATE"], "\n".join(keys)
    replay = client.post(f"/api/v1/shops/{c.shop_id}/handovers", json=body,
                         headers=dict(c.owner, **{"Idempotency-Key": "once-each"}))
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.get_json() == response.get_json()
