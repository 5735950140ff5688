"""The console overview's graded pass: one per jurisdiction, tallied per district, kept fresh for
OVERVIEW_CACHE_SECONDS and then shown while a background pass replaces it."""
import pytest

from server.services.reports import overview
from tests.console_city import build, console_login


class Clock:
    """Stands in for time.monotonic inside the overview module."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def app_config(app_config):
    return {**app_config, "OVERVIEW_CACHE_SECONDS": 60}


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(overview, "time", fake)
    yield fake
    overview.forget()


@pytest.fixture
def desk(client, make_user, make_shop, login):
    city = build(client, make_user, make_shop, login)
    assert console_login(client).status_code == 303
    return city


def points(client, district=""):
    response = client.get("/console/map.json" + (f"?district_code={district}" if district else ""))
    assert response.status_code == 200 and response.mimetype == "application/json"
    return {point[0] for point in response.get_json()["points"]}


def test_a_district_is_a_slice_of_the_jurisdictions_pass(client, desk, make_shop, clock):
    second = make_shop(name="任城第二家")
    everything = points(client)
    assert {desk.shop["id"], second.shop["id"]} <= everything and desk.other_shop["id"] not in everything
    assert points(client, "370811") == everything  # the regulator's whole jurisdiction is 任城区
    assert points(client, "370812") == set()  # another district's shops never come out of the pass
    html = client.get("/console/").get_data(as_text=True)
    assert 'id="made-at"' in html and "统计时间" in html


def test_a_stale_pass_is_shown_while_a_new_one_is_made(client, desk, make_shop, clock):
    before = points(client)
    added = make_shop(name="新开张的面馆")
    assert points(client) == before  # fresh for a minute: the held pass
    clock.now += 61
    assert points(client) == before  # stale: still shown, and a background pass starts
    overview.settle()
    assert points(client) == before | {added.shop["id"]}
    later = make_shop(name="很久以后的店")
    clock.now += 60 * overview.STALE_LIMIT + 1  # too old to show: this request waits for a new pass
    assert points(client) == before | {added.shop["id"], later.shop["id"]}
