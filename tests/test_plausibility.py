"""Plausibility (waste_low): kitchen waste per cooking head per day over 30 days against the
peers' median — a lead for the inspector, never a grade."""
import csv
import datetime as dt
import io
import random

from sqlalchemy import select

from server.clock import today, utcnow
from server.extensions import db
from server.models import Handover, Shop
from server.services.compliance import compliance_bulk, compliance_of
from tests.helpers import error_of

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


def flags_of(shop, as_of=None):
    return compliance_of(db.session.get(Shop, shop.id), as_of)["flags"]


def peers(city, count, kg=120, heads=4, district=None, first=100):
    """``count`` shops with ``heads`` cooking heads, each handing over ``kg`` in the window."""
    made = []
    for n in range(count):
        shop = city.shop(first + n, heads=heads)
        if district:
            shop.district_code = district
        city.slip(shop, utcnow() - (n % 20 + 1) * DAY, kg=kg, received=utcnow())
        made.append(shop)
    return made


def test_below_a_quarter_of_the_median_is_flagged_exactly_at_the_boundary(city):
    peers(city, 10)  # 120 kg / 4 heads / 30 days = 1.0 kg per head per day
    at_quarter, below = city.shop(1, heads=4), city.shop(2, heads=4)
    city.slip(at_quarter, utcnow() - 3 * DAY, kg=30, received=utcnow())  # 0.25: not below
    city.slip(below, utcnow() - 3 * DAY, kg=29.9, received=utcnow())
    assert flags_of(at_quarter) == []
    [flag] = flags_of(below)
    assert flag["code"] == "waste_low" and flag["peer_median"] == 1.0
    assert flag["kg_per_head_day"] == round(29.9 / 4 / 30, 3)
    assert "本区县同规模" in flag["message"] and "25%" in flag["message"]


def test_the_flag_raises_priority_one_step_and_leaves_the_grade(city):
    peers(city, 10)
    shop = city.shop(1, heads=4)
    city.cleaning(shop, today() - DAY)
    city.slip(shop, utcnow() - 2 * HOUR, kg=1, received=utcnow())
    flagged = compliance_of(db.session.get(Shop, shop.id))
    assert flagged["grade"] == "A" and flagged["reasons"] == [] and flagged["flags"][0]["code"] == "waste_low"
    city.slip(shop, utcnow() - HOUR, kg=500, received=utcnow())
    plain = compliance_of(db.session.get(Shop, shop.id))
    assert plain["flags"] == [] and plain["grade"] == "A"
    assert flagged["priority"] == plain["priority"] + 1000


def test_too_few_peers_means_no_flag_then_the_city_wide_group_decides(city):
    peers(city, 8)
    shop = city.shop(1, heads=4)
    city.slip(shop, utcnow() - DAY, kg=1, received=utcnow())
    assert flags_of(shop) == []  # 9 shops with data: too few in the district and in the city
    peers(city, 5, district="370812", first=200)  # 14 medium shops city-wide, 9 in the district
    [flag] = flags_of(shop)
    assert "全市同规模" in flag["message"]
    big = city.shop(2, heads=8)  # another scale has no peers at all
    city.slip(big, utcnow() - DAY, kg=1, received=utcnow())
    assert flags_of(big) == []


def test_bins_without_kg_count_at_the_configured_kg_per_bin(city):
    peers(city, 10, kg=None)  # no kg at all: the peers have no data yet
    for slip in db.session.scalars(select(Handover)):
        slip.bins = 1  # 108 kg / 4 / 30 = 0.9
    city.save()
    shop = city.shop(1, heads=4)
    city.slip(shop, utcnow() - DAY, bins=None, declared=22, received=utcnow())  # 0.183 < 0.225
    [flag] = flags_of(shop)
    assert flag["peer_median"] == 0.9
    city.slip(shop, utcnow() - 2 * DAY, bins=1, received=utcnow())  # + 108 kg
    assert flags_of(shop) == []


def test_only_confirmed_kitchen_waste_of_the_last_30_days_counts(city):
    peers(city, 10)
    shop = city.shop(1, heads=4)
    city.slip(shop, utcnow() - DAY, kg=1, received=utcnow())
    for when, kwargs in ((utcnow() - 31 * DAY, {"kg": 900}), (utcnow() - DAY, {"kg": 900, "status": "pending"}),
                         (utcnow() - DAY, {"kg": 900, "status": "rejected"}),
                         (utcnow() - DAY, {"kg": 900, "waste_type": "waste_oil"})):
        city.slip(shop, when, received=utcnow(), **kwargs)
    assert [f["code"] for f in flags_of(shop)] == ["waste_low"]
    city.slip(shop, utcnow() - DAY, kg=900, status="disputed", received=utcnow())
    assert flags_of(shop) == []


def test_a_shop_without_waste_data_or_not_active_carries_no_flag(city):
    peers(city, 10)
    silent = city.shop(1, heads=4)
    assert flags_of(silent) == []  # no data: its missing slips are waste_overdue's business
    new = city.shop(2, heads=4, registered=today() + DAY)
    assert flags_of(new) == []


def test_bulk_grades_flags_as_the_per_shop_form_on_random_data(city, frozen_clock):
    rnd = random.Random(30)
    shops = [city.shop(n + 1, heads=rnd.choice([2, 3, 4, 4, 5]), registered=rnd.choice(
        [dt.date(2023, 1, 1), today() - 10 * DAY])) for n in range(48)]
    for shop in shops:
        if rnd.random() < 0.3:
            shop.district_code = "370812"
        for _ in range(rnd.randint(0, 5)):
            when = utcnow() - rnd.randint(1, 35 * 24) * HOUR
            city.slip(shop, when, status=rnd.choice(["confirmed", "confirmed", "disputed", "pending", "rejected"]),
                      received=rnd.choice([utcnow(), when]), answered=when + rnd.randint(0, 72) * HOUR,
                      kg=rnd.choice([None, 2, 3, 40, 90, 200]), declared=rnd.choice([None, 50]),
                      bins=rnd.choice([None, 1, 2]), waste_type=rnd.choice(["kitchen_waste"] * 5 + ["waste_oil"]))
    ids = [s.id for s in shops]
    flagged = 0
    for as_of in (today(), today() - 2 * DAY, today() - 20 * DAY):
        bulk = compliance_bulk(ids, as_of)
        for shop in shops:
            assert bulk[shop.id] == compliance_of(db.session.get(Shop, shop.id), as_of), (shop.id, as_of)
        flagged += sum(1 for c in bulk.values() if c["flags"])
    assert flagged >= 2  # the data really raised flags


def test_shops_and_the_export_filter_by_the_flag(client, city, login_as):
    peers(city, 10)
    low = city.shop(1, heads=4)
    city.slip(low, utcnow() - DAY, kg=2, received=utcnow())
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    listed = client.get("/api/v1/shops?flag=waste_low", headers=regulator).get_json()
    assert [s["id"] for s in listed["items"]] == [low.id]
    assert listed["items"][0]["compliance"]["flags"][0]["code"] == "waste_low"
    one = client.get(f"/api/v1/shops/{low.id}", headers=regulator).get_json()
    assert one["compliance"]["flags"] == listed["items"][0]["compliance"]["flags"]
    response = client.get("/api/v1/exports/compliance.csv?flag=waste_low", headers=regulator)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][-1] == "异常线索" and len(rows) == 2 and rows[1][0] == str(low.id)
    assert rows[1][-1].startswith("近 30 天餐厨垃圾每灶头每日 0.02 kg")
    everyone = client.get("/api/v1/exports/compliance.csv", headers=regulator).get_data(as_text=True)
    assert everyone.count("\n") == 12
    error_of(client.get("/api/v1/shops?flag=fake", headers=regulator), 422)


def test_the_medians_are_kept_for_the_configured_time(make_app, app_config, city):
    from server.services.compliance import peers as peers_module

    made = peers(city, 10)
    other = make_app({**app_config, "WASTE_PEER_CACHE_SECONDS": 3600})
    with other.app_context():
        first = peers_module.peers_on(today())
        assert first.median("370811", "medium") == (1.0, "district")
        db.session.remove()
    for shop in made[:6]:
        city.slip(shop, utcnow() - DAY, kg=5000, received=utcnow())
    with other.app_context():
        assert peers_module.peers_on(today()) is first  # kept: a city's medians move slowly
        other.extensions[peers_module.CACHE].clear()
        assert peers_module.peers_on(today()).median("370811", "medium")[0] > 1.0
        db.session.remove()


def test_a_flagged_shop_comes_first_on_patrol_among_its_grade(client, city, login_as):
    made = peers(city, 10)
    for shop in made:
        city.cleaning(shop, today() - DAY)
        city.inspection(shop, utcnow() - HOUR)
        city.slip(shop, utcnow() - HOUR, kg=0, received=utcnow())  # a handover today: waste ok
    low = city.shop(50, heads=4)  # the farthest of them all
    city.cleaning(low, today() - DAY)
    city.inspection(low, utcnow() - HOUR)
    city.slip(low, utcnow() - HOUR, kg=1, received=utcnow())
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    items = client.get("/api/v1/patrol?lat=35.4152&lng=116.5872&per_page=100", headers=inspector).get_json()["items"]
    assert items[0]["id"] == low.id and items[0]["compliance"]["grade"] == "A"
    assert {item["compliance"]["grade"] for item in items} == {"A"}
    assert items[0]["compliance"]["priority"] == items[1]["compliance"]["priority"] + 1000
