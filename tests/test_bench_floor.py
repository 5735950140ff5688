"""The export benchmark's floor (bench/floor_sql.py) is the same list as the app's compliance CSV.

The benchmark compares the app's speed with that query's; this keeps the comparison honest as
the rules change: the query must grade every shop as the engine does, on both databases.
"""
import csv
import datetime as dt
import io
import random

from sqlalchemy import func, select

from bench.floor_sql import compliance_floor_sql, differences
from server.clock import today, utcnow
from server.extensions import db
from server.models import CollectorCompany, Contract, Rectification, RectificationEvent, ShopStatusChange

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


def test_the_floor_query_grades_every_shop_as_the_app_does(client, city, frozen_clock, login_as,
                                                          make_company):
    rnd = random.Random(7)
    lapsed = make_company(["370811"], valid_until=dt.date(2024, 3, 1))
    for n in range(30):
        shop = city.shop(n + 1, heads=rnd.choice([1, 2, 3, 5, 6, 9]), installed=rnd.random() > 0.1,
                         efficiency=rnd.choice([None, 55, 70, 80, 90]), contract=rnd.random() > 0.15,
                         registered=rnd.choice([dt.date(2023, 6, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 30)]))
        for _ in range(rnd.randint(0, 3)):
            city.cleaning(shop, today() - rnd.randint(0, 120) * DAY)
        for _ in range(rnd.randint(0, 4)):
            # Quantities spread widely, so some shops fall below a quarter of their peers' median.
            city.slip(shop, utcnow() - rnd.randint(1, 40 * 24) * HOUR,
                      status=rnd.choice(["confirmed", "disputed", "pending", "rejected"]), received=utcnow(),
                      kg=rnd.choice([None, 2, 20, 60, 150]), declared=rnd.choice([None, 30]),
                      bins=rnd.choice([None, 1]), waste_type=rnd.choice(["kitchen_waste"] * 4 + ["waste_oil"]))
        for _ in range(rnd.randint(0, 3)):
            inspection = city.inspection(shop, utcnow() - rnd.randint(1, 500) * DAY,
                                         fails=rnd.sample(["P1", "W2", "O1"], rnd.randint(0, 2)),
                                         deadline=today() + rnd.randint(-20, 10) * DAY, voided=rnd.random() < 0.1)
            if rnd.random() < 0.3:
                order = db.session.scalar(select(Rectification).where(Rectification.inspection_id == inspection.id))
                if order:
                    db.session.add(RectificationEvent(rectification_id=order.id, actor_id=1, at=utcnow(),
                                                      action=rnd.choice(["submitted", "accepted", "acknowledged"])))
                    city.save()
        if rnd.random() < 0.15:
            db.session.add(ShopStatusChange(shop_id=shop.id, status=rnd.choice(["suspended", "closed"]), reason="r",
                                            effective_on=today() + rnd.randint(-5, 5) * DAY, changed_by_id=1,
                                            changed_at=utcnow()))
            city.save()
        if rnd.random() < 0.1:
            db.session.add(Contract(shop_id=shop.id, collector_company_id=lapsed.id, contract_no="L",
                                    valid_from=dt.date(2024, 1, 1), valid_until=dt.date(2099, 1, 1),
                                    recorded_by_id=1, recorded_at=utcnow()))
            city.save()
    for n in range(12):  # a district's medium shops with waste data: the last two hand over too little
        shop = city.shop(60 + n, heads=4, efficiency=90)
        city.slip(shop, utcnow() - (n + 2) * DAY, kg=[2, 25][n % 2] if n >= 10 else 50 + n, received=utcnow())
    model = city.shop(99, heads=3, efficiency=90)  # and one shop with nothing to reproach
    city.cleaning(model, today() - 3 * DAY)
    city.slip(model, utcnow() - 5 * HOUR, received=utcnow())
    for n, days_ago in ((97, 52), (98, 53)):  # due in 8 days (ok) and in 7 (due soon): the boundary
        shop = city.shop(n, heads=3, efficiency=90)
        city.cleaning(shop, today() - days_ago * DAY)
        city.slip(shop, utcnow() - 5 * HOUR, received=utcnow())
    assert db.session.scalar(select(func.count()).select_from(CollectorCompany)) == 2
    _, regulator = login_as("regulator", jurisdiction=None)
    response = client.get("/api/v1/exports/compliance.csv", headers=regulator)
    app_rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))[1:]
    dialect = db.session.get_bind().dialect.name
    floor_rows = db.session.connection().exec_driver_sql(compliance_floor_sql(dialect, utcnow())).all()
    count, differing = differences(app_rows, floor_rows)
    assert count == 45 and differing == []
    grades = {row[20] for row in app_rows}
    assert {"A", "B", "C", ""} <= grades  # the data really varies (an inactive shop has no grade)
    assert 0 < sum(1 for row in app_rows if row[-1]) < 20  # some shops are flagged waste_low, not all
