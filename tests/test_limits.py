"""Per-user rate limits shared by every worker, and bounds on pages and date ranges."""
import datetime as dt

import pytest

from tests.helpers import error_of


@pytest.fixture
def app_config(app_config):
    return dict(app_config, RATE_LIMIT_WRITES_PER_MINUTE=3, RATE_LIMIT_EXPORTS_PER_HOUR=2)


def patch_me(client, headers, name="王老板"):
    return client.patch("/api/v1/me", json={"display_name": name}, headers=headers)


def test_writes_over_the_limit_are_429_with_retry_after(client, login_as, frozen_clock):
    _user, headers = login_as()
    for _ in range(3):
        assert patch_me(client, headers).status_code == 200
    response = patch_me(client, headers)
    error = error_of(response, 429)
    assert error["code"] == "rate_limited" and "秒后再试" in error["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # Reads are not writes; another user has a count of their own.
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    _other, other_headers = login_as()
    assert patch_me(client, other_headers).status_code == 200
    # The next window opens.
    frozen_clock.advance(dt.timedelta(seconds=int(response.headers["Retry-After"])))
    assert patch_me(client, headers).status_code == 200


def test_the_count_is_shared_by_every_worker(app, client, make_app, app_config, login_as, frozen_clock):
    from server.extensions import db

    _user, headers = login_as()
    other_worker = make_app(app_config).test_client()

    def on_this_worker():
        response = patch_me(client, headers)
        db.session.remove()  # as at the end of a real request (the test keeps the app context open)
        return response

    assert on_this_worker().status_code == 200
    assert patch_me(other_worker, headers).status_code == 200
    assert on_this_worker().status_code == 200
    assert patch_me(other_worker, headers).status_code == 429


def test_a_refused_write_still_counts(client, login_as, frozen_clock):
    _user, headers = login_as()
    for _ in range(3):
        assert patch_me(client, headers, name="").status_code == 422
    assert patch_me(client, headers).status_code == 429


def test_exports_have_their_own_hourly_limit(client, login_as, frozen_clock):
    _regulator, headers = login_as("regulator", jurisdiction="370811")
    for _ in range(2):
        response = client.get("/api/v1/exports/compliance.csv", headers=headers)
        assert response.status_code == 200
        response.get_data()
    response = client.get("/api/v1/exports/cleanings.csv", headers=headers)
    assert error_of(response, 429)["message"].startswith("导出过于频繁")
    assert 1 <= int(response.headers["Retry-After"]) <= 3600


@pytest.mark.parametrize("query,field", [
    ("from=2023-01-01&to=2024-03-01", "from"),      # more than a year
    ("from=2024-03-10&to=2024-03-01", "to"),        # backwards
    ("from=2020-01-01", "from"),                    # to defaults to today: more than a year
    ("as_of=0001-01-01", "as_of"),                  # a typo that would overflow date arithmetic
    ("to=9999-12-31", "to"),
])
def test_export_date_ranges_are_bounded(client, login_as, frozen_clock, query, field):
    _regulator, headers = login_as("regulator", jurisdiction="370811")
    error = error_of(client.get(f"/api/v1/exports/handovers.csv?{query}", headers=headers), 422)
    assert field in error["fields"]


def test_a_year_is_allowed(client, login_as, frozen_clock):
    _regulator, headers = login_as("regulator", jurisdiction="370811")
    assert client.get("/api/v1/exports/handovers.csv?from=2023-03-22&to=2024-03-21", headers=headers).status_code == 200
    assert client.get("/api/v1/stats/districts?from=2023-03-22&to=2024-03-21", headers=headers).status_code == 200
    error = error_of(client.get("/api/v1/stats/districts?from=2022-03-22&to=2024-03-21", headers=headers), 422)
    assert "366" in error["fields"]["from"][0]
    error = error_of(client.get("/api/v1/inspections?from=2022-03-22&to=2024-03-21", headers=headers), 422)
    assert "from" in error["fields"]


def test_lists_bound_page_and_per_page(client, login_as):
    _regulator, headers = login_as("regulator", jurisdiction="370811")
    assert client.get("/api/v1/shops?per_page=100000", headers=headers).get_json()["per_page"] == 100
    assert error_of(client.get("/api/v1/shops?page=100000000", headers=headers), 422)["fields"]["page"]


@pytest.mark.parametrize("path", [
    "/api/v1/photos/43713469150642935538836700312784643932?sig=%0B%C2%95&exp=43466",  # found by schemathesis
    "/api/v1/shops/2147483648", "/api/v1/shops/0", "/api/v1/handovers/99999999999999999999/confirm",
])
def test_ids_beyond_an_integer_are_404_not_500(client, login_as, path):
    _user, headers = login_as()
    method = client.post if path.endswith("confirm") else client.get
    assert error_of(method(path, headers=headers, json={}), 404)["code"] == "not_found"


def test_ids_beyond_an_integer_in_bodies_are_422(client, contracted, frozen_clock):
    response = client.post(f"/api/v1/shops/{contracted.shop_id}/handovers", headers=contracted.owner, json={
        "handed_over_at": "2024-03-22T09:00:00+08:00", "waste_type": "kitchen_waste", "declared_kg": 10,
        "collector_company_id": 2**40, "photo_ids": [2**63]})
    fields = error_of(response, 422)["fields"]
    assert "collector_company_id" in fields and any(k.startswith("photo_ids") for k in fields)


def test_a_number_the_database_cannot_hold_is_422(app, client):
    """Whatever escapes the schemas: PostgreSQL's DataError / sqlite3's OverflowError → 422, not 500."""
    from server.extensions import db
    from server.models import Photo

    @app.route("/api/v1/_test/huge-id")
    def huge_id():
        db.session.get(Photo, 2**70)
        return "unreachable"

    assert error_of(client.get("/api/v1/_test/huge-id"), 422)["message"] == "提交的数值超出允许范围"
