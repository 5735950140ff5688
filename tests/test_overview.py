"""The console overview's graded pass: one per jurisdiction, tallied per district, kept fresh for
OVERVIEW_CACHE_SECONDS and then shown while a background pass replaces it; stored for every worker."""
import datetime as dt
import random

import pytest

from server.clock import utcnow
from server.extensions import db
from server.models import Shop
from server.services.compliance import Standing, Standings
from server.services.reports import overview, passes
from tests.console_city import build, console_login


@pytest.fixture
def app_config(app_config):
    return {**app_config, "OVERVIEW_CACHE_SECONDS": 60}


@pytest.fixture
def clock(frozen_clock):
    """The app's clock, frozen at the real now (passes age by it) and moved by the test."""
    frozen_clock.set(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    yield frozen_clock
    passes.forget()


@pytest.fixture
def desk(client, make_user, make_shop, login, clock):
    city = build(client, make_user, make_shop, login)
    assert console_login(client).status_code == 303
    return city


def settle():
    """Wait for the background pass; the test's own session first lets go of SQLite's write lock
    (the pass takes its lease and stores its result by writing)."""
    db.session.remove()
    passes.settle()


def points(client, district=""):
    response = client.get("/console/map.json" + (f"?district_code={district}" if district else ""))
    assert response.status_code == 200 and response.mimetype == "application/json"
    return {point[0] for point in response.get_json()["points"]}


def test_a_district_is_a_slice_of_the_jurisdictions_pass(client, desk, make_shop):
    second = make_shop(name="任城第二家")
    everything = points(client)
    assert {desk.shop["id"], second.shop["id"]} <= everything and desk.other_shop["id"] not in everything
    assert points(client, "370811") == everything  # the regulator's whole jurisdiction is 任城区
    assert client.get("/console/map.json?district_code=370812").status_code == 404  # not the regulator's district
    html = client.get("/console/").get_data(as_text=True)
    assert 'id="made-at"' in html and "统计时间" in html


def test_a_stale_pass_is_shown_while_a_new_one_is_made(client, desk, make_shop, make_user, login, clock):
    before = points(client)
    added = make_shop(name="新开张的面馆")
    assert points(client) == before  # fresh for a minute: the held pass
    clock.advance(dt.timedelta(seconds=61))
    assert points(client) == before  # stale: still shown, and a background pass starts
    settle()
    assert points(client) == before | {added.shop["id"]}
    later = make_shop(name="很久以后的店")
    clock.advance(dt.timedelta(seconds=60 * passes.STALE_LIMIT + 1))
    assert points(client) == before | {added.shop["id"]}  # the map shows any pass, with its time...
    regulator = login(make_user("regulator", jurisdiction=["370811"]))
    listed = client.get("/api/v1/shops?per_page=100&sort=priority", headers=regulator).get_json()["items"]
    assert later.shop["id"] in {shop["id"] for shop in listed}  # ...lists wait for a pass this old
    settle()
    assert points(client) == before | {added.shop["id"], later.shop["id"]}


def test_a_worker_just_started_shows_the_pass_another_one_stored(client, desk, monkeypatch, clock):
    html = client.get("/console/").get_data(as_text=True)
    made_at = html[html.index('id="made-at"'):][:60]
    passes._held.clear()  # as a new worker process: nothing held

    def refuse(_user):
        raise AssertionError("the stored pass should have been read, not a new one made")

    monkeypatch.setattr(overview, "_graded_pass", refuse)
    again = client.get("/console/")
    assert again.status_code == 200 and again.get_data(as_text=True).count(made_at) == 1
    assert points(client) and len(passes._held) == 1


def test_lists_by_grade_read_the_held_pass_and_every_write_since(client, desk, make_shop, make_user, login, clock):
    """/shops?grade= and sort=priority take each shop's standing from the held pass (a city's grading is
    seconds), with the shops written since graded again: a write shows at once, without a new pass."""
    from server.clock import today
    from server.models import User
    from tests.helpers import upload_photo
    fresh = make_shop(name="刚登记的小吃店")
    regulator = login(db.session.get(User, desk.regulator_id))

    def listed(query):
        response = client.get(f"/api/v1/shops?per_page=100&{query}", headers=regulator)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [shop["id"] for shop in response.get_json()["items"]]

    def compliance(shop_id):
        return client.get(f"/api/v1/shops/{shop_id}/compliance", headers=regulator).get_json()

    before = compliance(fresh.shop_id)
    assert fresh.shop_id in listed(f"grade={before['grade']}")
    assert fresh.shop_id in listed(f"purifier_status={before['purifier']['status']}")
    (held,) = passes._held.values()
    cleaned = client.post(f"/api/v1/shops/{fresh.shop_id}/cleanings", headers=fresh.owner, json={
        "cleaned_on": today().isoformat(), "parts": ["purifier"], "performed_by": "self",
        "before_photo_ids": [upload_photo(client, fresh.owner, 41)],
        "after_photo_ids": [upload_photo(client, fresh.owner, 42)]})
    assert cleaned.status_code == 201, cleaned.get_data(as_text=True)
    after = compliance(fresh.shop_id)["purifier"]["status"]
    assert after != before["purifier"]["status"]  # the write moved its purifier status
    assert fresh.shop_id in listed(f"purifier_status={after}")
    assert fresh.shop_id not in listed(f"purifier_status={before['purifier']['status']}")
    suspended = client.post(f"/api/v1/shops/{desk.shop['id']}/status", headers=regulator, json={
        "status": "suspended", "reason": "停业整顿", "effective_on": today().isoformat()})
    assert suspended.status_code == 200, suspended.get_data(as_text=True)
    assert desk.shop["id"] not in listed("grade=A") + listed("grade=B") + listed("grade=C")
    ranked = listed("sort=priority")
    priorities = {shop_id: compliance(shop_id)["priority"] for shop_id in ranked}
    assert len(set(priorities.values())) == 2 and ranked == sorted(ranked, key=lambda i: (-priorities[i], i))
    assert list(passes._held.values()) == [held]  # caught up on the write; the pass was not made again
    assert desk.other_shop["id"] not in listed("grade=C") + listed("grade=A") + listed("grade=B")
    # City-wide, every shop comes from the held pass, and one registered after it was made is there too.
    admin = login(make_user("admin", jurisdiction=None))
    everyone = client.get("/api/v1/shops?per_page=100&sort=priority", headers=admin).get_json()["items"]
    late = make_shop(name="更晚登记的店", district_code="370812")
    again = client.get("/api/v1/shops?per_page=100&sort=priority", headers=admin).get_json()["items"]
    assert {s["id"] for s in again} == {s["id"] for s in everyone} | {late.shop_id}
    assert desk.other_shop["id"] in {s["id"] for s in again}
    assert [s["id"] for s in again] == [s["id"] for s in sorted(again, key=lambda s: (-s["compliance"]["priority"], s["id"]))]
    assert len(passes._held) == 2  # the district regulator's pass and the city's, each made once
    # The console's list says where its order comes from, only when it ranks or filters by grade.
    assert 'id="graded-note"' in client.get("/console/shops?sort=priority").get_data(as_text=True)
    assert 'id="graded-note"' not in client.get("/console/shops").get_data(as_text=True)


def test_workers_only_read_passes_when_cron_makes_them(client, desk, app, clock):
    """OVERVIEW_REFRESH_IN_WORKERS=false (cron runs `overview refresh`): a stale pass is shown and no
    background pass starts in the web worker; the cron command makes the new one."""
    before = client.get("/console/").get_data(as_text=True)
    app.config["OVERVIEW_REFRESH_IN_WORKERS"] = False
    clock.advance(dt.timedelta(seconds=61))
    assert client.get("/console/").status_code == 200 and not passes._running
    (held,) = passes._held.values()
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["overview", "refresh"])
    assert result.exit_code == 0 and "已更新" in result.output, result.output
    client.get("/console/")
    (renewed,) = passes._held.values()
    assert renewed.made_at > held.made_at and 'id="made-at"' in before


def test_patrol_ranks_by_the_pass_as_live_grading_does_and_a_write_shows_at_once(client, city, clock, login_as,
                                                                                  app):
    """Staff's patrol takes each shop's priority from the held pass (the shops rewritten since it was
    made graded again): the same order as grading every shop in the radius on the request."""
    rnd = random.Random(16)
    shops = [city.shop(n + 1, installed=rnd.random() > 0.3, efficiency=rnd.choice([None, 70.0, 90.0]))
             for n in range(12)]
    today = utcnow().date()
    for shop in shops[::2]:
        city.cleaning(shop, today - dt.timedelta(days=rnd.randint(0, 100)))
    for shop in shops[::3]:
        city.inspection(shop, utcnow() - dt.timedelta(days=rnd.randint(1, 20)), fails=["W2"] if rnd.random() < 0.5 else ())
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    clock.advance(dt.timedelta(seconds=90))  # the pass is made after every record: none is graded again
    url = "/api/v1/patrol?lat=35.4152&lng=116.5872&radius_m=3000&per_page=100"

    def both():
        by_pass = client.get(url, headers=inspector).get_json()["items"]
        app.config["OVERVIEW_CACHE_SECONDS"] = 0
        try:
            live = client.get(url, headers=inspector).get_json()["items"]
        finally:
            app.config["OVERVIEW_CACHE_SECONDS"] = 60
        assert [(s["id"], s["compliance"]["priority"]) for s in by_pass] == \
            [(s["id"], s["compliance"]["priority"]) for s in live]
        return [(s["id"], s["compliance"]["priority"]) for s in live]

    first = both()
    assert len(first) == 12
    inspected = first[-1][0]
    city.inspection(db.session.get(Shop, inspected), utcnow() - dt.timedelta(hours=1))
    second = both()  # the same pass, with the inspected shop graded again
    assert dict(second)[inspected] != dict(first)[inspected]


def test_the_compact_standings_answer_as_the_dict_they_replace():
    rnd = random.Random(3)
    made = [Standing(rnd.choice(["A", "B", "C", None]), rnd.choice(["ok", "overdue"]), None,
                     tuple(rnd.sample(["waste_low", "far"], rnd.randint(0, 1))), rnd.choice([0, 1000, 2999]))
            for _ in range(500)]
    ids = rnd.sample(range(1, 5000), 500)  # with gaps, out of order
    plain = dict(zip(ids, made))
    compact = Standings(zip(ids, made))
    assert list(compact) == ids and len(compact) == 500 and dict(compact.items()) == plain
    assert all(compact[i] == plain[i] for i in ids)
    for absent in (0, -1, 4999 if 4999 not in plain else 5001, 10 ** 9, "7"):
        assert absent not in compact and compact.get(absent) is None
    with pytest.raises(KeyError):
        compact[10 ** 9]
