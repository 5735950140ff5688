"""The compliance engine at its boundaries, as of any date, per shop and in bulk."""
import datetime as dt
import random

from sqlalchemy import select

from server.clock import today, utcnow
from server.extensions import db
from server.models import Contract, Shop
from server.services.compliance import compliance_bulk, compliance_of
from tests.helpers import at, error_of

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)


def grade(shop, as_of=None):
    return compliance_of(db.session.get(Shop, shop.id), as_of)


def codes(result):
    return [r["code"] for r in result["reasons"]]


def fresh_slip(city, shop):
    city.slip(shop, utcnow() - dt.timedelta(hours=2))


def test_a_clean_shop_is_a(city):
    shop = city.shop()
    city.cleaning(shop, dt.date(2024, 3, 1))
    fresh_slip(city, shop)
    result = grade(shop)
    assert result["grade"] == "A" and result["reasons"] == []
    assert result["purifier"] == {"status": "ok", "last_cleaned_on": dt.date(2024, 3, 1),
                                  "due_on": dt.date(2024, 4, 30)}
    assert result["waste"]["status"] == "ok"


def test_cleaning_due_date_boundary(city):
    shop = city.shop(heads=6, efficiency=90)  # large: every 30 days
    fresh_slip(city, shop)
    city.cleaning(shop, dt.date(2024, 2, 21))  # due 2024-03-22, today
    on_due = grade(shop)
    assert on_due["purifier"]["status"] == "due_soon" and on_due["grade"] == "B"
    assert codes(on_due) == ["purifier_due_soon"]
    day_after = grade(shop, dt.date(2024, 3, 23))
    assert day_after["purifier"]["status"] == "overdue" and codes(day_after)[0] == "purifier_overdue"
    assert day_after["reasons"][0]["message"] == "油烟净化设施清洗已逾期 1 天"


def test_never_cleaned_is_b_then_c(city):
    shop = city.shop(heads=6, efficiency=90, registered=dt.date(2024, 3, 1))
    fresh_slip(city, shop)
    first = grade(shop)
    assert first["purifier"]["status"] == "never_cleaned" and codes(first) == ["never_cleaned"]
    assert first["purifier"]["due_on"] == dt.date(2024, 3, 31)
    later = grade(shop, dt.date(2024, 4, 1))
    assert later["purifier"]["status"] == "overdue" and later["grade"] == "C"


def test_no_and_undersized_purifier_are_c(city):
    none = city.shop(1, installed=False, efficiency=None)
    small = city.shop(2, heads=6, efficiency=80)
    for shop in (none, small):
        city.cleaning(shop, dt.date(2024, 3, 20))
        fresh_slip(city, shop)
    assert codes(grade(none)) == ["no_purifier"] and grade(none)["purifier"]["status"] == "no_purifier"
    undersized = grade(small)
    assert undersized["grade"] == "C" and codes(undersized) == ["purifier_undersized"]
    assert "85%" in undersized["reasons"][0]["message"]


def test_waste_gap_of_exactly_the_maximum_is_ok(city, frozen_clock):
    shop = city.shop()
    city.cleaning(shop, dt.date(2024, 3, 20))
    city.slip(shop, utcnow() - dt.timedelta(days=3))
    assert grade(shop)["waste"]["status"] == "ok"
    frozen_clock.advance(dt.timedelta(seconds=1))
    result = grade(shop)
    assert result["waste"]["status"] == "overdue" and codes(result) == ["waste_overdue"]


def test_pending_slip_counts_for_48_hours_only(city, frozen_clock):
    shop = city.shop()
    city.cleaning(shop, dt.date(2024, 3, 20))
    city.slip(shop, utcnow() - dt.timedelta(days=10))
    city.slip(shop, utcnow() - dt.timedelta(hours=47), status="pending")
    assert grade(shop)["waste"]["status"] == "ok"
    frozen_clock.advance(dt.timedelta(hours=2))  # now 49 hours
    assert grade(shop)["waste"]["status"] == "overdue"


def test_rejected_slips_never_count(city):
    shop = city.shop()
    city.cleaning(shop, dt.date(2024, 3, 20))
    city.slip(shop, utcnow() - dt.timedelta(hours=1), status="rejected")
    assert grade(shop, today())["waste"]["status"] == "overdue"


def test_no_contract_and_expired_contract(city, make_company):
    none = city.shop(1, contract=False)
    assert grade(none)["waste"]["status"] == "no_contract"
    lapsed = city.shop(2)
    db.session.scalar(select(Contract).where(Contract.shop_id == lapsed.id)).valid_until = dt.date(2024, 3, 1)
    city.save()
    assert grade(lapsed)["waste"]["status"] == "contract_expired"


def test_a_backdated_cleaning_does_not_change_yesterdays_grade(city, frozen_clock):
    shop = city.shop(heads=6, efficiency=90)
    fresh_slip(city, shop)
    city.cleaning(shop, dt.date(2024, 1, 5), received=at(2024, 1, 5))
    yesterday = dt.date(2024, 3, 21)
    before = grade(shop, yesterday)
    assert before["purifier"]["status"] == "overdue"
    city.cleaning(shop, dt.date(2024, 3, 15))  # logged today, dated last week
    assert grade(shop, yesterday) == before
    assert grade(shop)["purifier"]["status"] == "ok"


def test_rectifications_open_overdue_and_repeat_failures(city):
    shop = city.shop()
    city.cleaning(shop, dt.date(2024, 3, 20))
    fresh_slip(city, shop)
    city.inspection(shop, at(2024, 3, 20), fails=("O1",))
    result = grade(shop)
    assert result["grade"] == "B" and set(codes(result)) == {"rectification_open", "recent_failure"}
    assert result["rectification"] == {"open": 1, "overdue": 0}
    city.inspection(shop, at(2024, 3, 1), fails=("O1",), deadline=dt.date(2024, 3, 8))
    result = grade(shop)
    assert result["grade"] == "C" and set(codes(result)) == {"rectification_overdue", "repeat_failure"}
    assert result["rectification"] == {"open": 2, "overdue": 1}


def test_a_voided_inspection_counts_for_nothing(city):
    shop = city.shop()
    city.cleaning(shop, dt.date(2024, 3, 20))
    fresh_slip(city, shop)
    city.inspection(shop, at(2024, 3, 1), fails=("P1",), voided=True)
    assert grade(shop)["grade"] == "A"


def test_a_suspended_shop_leaves_the_grades_from_its_date(client, city, login_as):
    shop = city.shop()
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    response = client.post(f"/api/v1/shops/{shop.id}/status", headers=inspector,
                           json={"status": "suspended", "reason": "装修", "effective_on": "2024-03-22"})
    assert response.status_code == 200
    assert grade(shop)["grade"] is None and codes(grade(shop)) == ["not_active"]
    assert grade(shop, dt.date(2024, 3, 21))["grade"] == "C"  # before its date it was graded
    patrol = client.get("/api/v1/patrol?lat=35.4151&lng=116.5872", headers=inspector).get_json()
    assert patrol["items"] == []


def test_priority_grade_first_then_weeks_since_inspection(city):
    shop = city.shop()
    city.cleaning(shop, dt.date(2024, 3, 20))
    fresh_slip(city, shop)
    assert grade(shop)["priority"] == 999  # A, never inspected
    city.inspection(shop, at(2024, 3, 1))
    assert grade(shop)["priority"] == 3  # A, inspected 3 weeks ago


def test_compliance_endpoint_and_shop_lists(client, city, login_as):
    shop = city.shop()
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    body = client.get(f"/api/v1/shops/{shop.id}/compliance", headers=regulator).get_json()
    assert body["grade"] == "C" and body["purifier"]["status"] == "overdue"
    assert set(codes(body)) == {"purifier_overdue", "waste_overdue"}
    past = client.get(f"/api/v1/shops/{shop.id}/compliance?as_of=2024-02-01", headers=regulator).get_json()
    assert past["as_of"] == "2024-02-01"
    error_of(client.get(f"/api/v1/shops/{shop.id}/compliance?as_of=soon", headers=regulator), 422)
    listed = client.get("/api/v1/shops?grade=C", headers=regulator).get_json()
    assert [s["id"] for s in listed["items"]] == [shop.id] and listed["items"][0]["compliance"]["grade"] == "C"
    assert client.get("/api/v1/shops?grade=A", headers=regulator).get_json()["total"] == 0
    assert client.get("/api/v1/shops?waste_status=overdue", headers=regulator).get_json()["total"] == 1


def test_patrol_is_sorted_by_priority_then_distance_and_scoped(client, city, login_as):
    near_a = city.shop(1)
    city.cleaning(near_a, dt.date(2024, 3, 20))
    fresh_slip(city, near_a)
    city.inspection(near_a, at(2024, 3, 20))
    far_c = city.shop(9, installed=False, efficiency=None)
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    items = client.get("/api/v1/patrol?lat=35.4152&lng=116.5872", headers=inspector).get_json()["items"]
    assert [s["id"] for s in items] == [far_c.id, near_a.id]
    assert items[0]["compliance"]["grade"] == "C" and items[1]["distance_m"] < items[0]["distance_m"]
    _, far_inspector = login_as("inspector", jurisdiction=["370883"])
    assert client.get("/api/v1/patrol?lat=35.4152&lng=116.5872", headers=far_inspector).get_json()["items"] == []
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    error_of(client.get("/api/v1/patrol?lat=35.4&lng=116.5", headers=regulator), 403)


def test_bulk_equals_per_shop_on_random_data(city, frozen_clock):
    rnd = random.Random(20241122)
    shops = []
    for n in range(40):
        shop = city.shop(n + 1, heads=rnd.choice([1, 3, 6]), installed=rnd.random() > 0.1,
                         efficiency=rnd.choice([None, 55, 70, 90]), registered=dt.date(2023, rnd.randint(1, 12), 1),
                         contract=rnd.random() > 0.15)
        shops.append(shop)
        for _ in range(rnd.randint(0, 3)):
            cleaned = dt.date(2024, 3, 22) - dt.timedelta(days=rnd.randint(0, 200))
            city.cleaning(shop, cleaned, received=at(cleaned.year, cleaned.month, cleaned.day) +
                          dt.timedelta(days=rnd.choice([0, 0, 3, 20])))
        for _ in range(rnd.randint(0, 4)):
            when = utcnow() - dt.timedelta(hours=rnd.randint(1, 300))
            city.slip(shop, when, status=rnd.choice(["confirmed", "disputed", "pending", "rejected"]),
                      received=when + dt.timedelta(hours=rnd.choice([0, 1, 100])))
        for _ in range(rnd.randint(0, 3)):
            when = utcnow() - dt.timedelta(days=rnd.randint(1, 400))
            city.inspection(shop, when, fails=rnd.sample(["P1", "W2", "O1"], rnd.randint(0, 2)),
                            voided=rnd.random() < 0.1)
        if rnd.random() < 0.1:
            from server.models import ShopStatusChange
            db.session.add(ShopStatusChange(shop_id=shop.id, status=rnd.choice(["suspended", "closed"]),
                                            reason="r", effective_on=dt.date(2024, 3, rnd.randint(1, 28)),
                                            changed_by_id=1, changed_at=utcnow()))
            city.save()
    for as_of in (dt.date(2024, 3, 22), dt.date(2024, 3, 10), dt.date(2023, 12, 1)):
        bulk = compliance_bulk([s.id for s in shops], as_of)
        for shop in shops:
            assert bulk[shop.id] == compliance_of(db.session.get(Shop, shop.id), as_of), (shop.id, as_of)
    grades = {r["grade"] for r in compliance_bulk([s.id for s in shops]).values()}
    assert {"A", "B", "C"} & grades and len(grades) >= 2  # the data really varies
