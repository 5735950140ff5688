"""District and collector statistics, scoped to the caller's jurisdiction."""
import datetime as dt

from tests.helpers import error_of, upload_photo

NOW = "2024-03-22T09:00:00+08:00"
CODES = ["P1", "P2", "P3", "P4", "W1", "W2", "W3", "W4", "W5", "O1", "O2", "O3"]


def slip(client, c, kg, waste_type="kitchen_waste"):
    return client.post(f"/api/v1/shops/{c.shop_id}/handovers", headers=c.owner, json={
        "handed_over_at": NOW, "waste_type": waste_type, "declared_kg": kg,
        "collector_company_id": c.company_id}).get_json()["id"]


def test_district_and_collector_statistics(client, frozen_clock, contracted, login_as, make_shop, login):
    c = contracted
    make_shop(district_code="370883", lat=35.40, lng=116.97)
    a, b, d = slip(client, c, 40), slip(client, c, 10, "waste_oil"), slip(client, c, 20)
    client.post(f"/api/v1/handovers/{a}/confirm", json={"weighed_kg": 42}, headers=c.collector)
    client.post(f"/api/v1/handovers/{b}/confirm", json={"weighed_kg": 30}, headers=c.collector)  # disputed
    client.post(f"/api/v1/handovers/{d}/reject", json={"reason": "未收到"}, headers=c.collector)
    inspector_user, inspector = login_as("inspector", jurisdiction=["370811"])
    items = [{"code": code, "result": "pass"} for code in CODES if code != "O3"]
    items.append({"code": "O3", "result": "fail", "note": "门前脏乱",
                  "photo_ids": [upload_photo(client, inspector, 7)]})
    order = client.post(f"/api/v1/shops/{c.shop_id}/inspections", headers=inspector, json={
        "inspected_at": NOW, "lat": 35.4151, "lng": 116.5872, "items": items}).get_json()["rectification"]
    client.post(f"/api/v1/rectifications/{order['id']}/responses", headers=c.owner,
                json={"note": "已清扫", "photo_ids": [upload_photo(client, c.owner, 8)]})
    frozen_clock.advance(dt.timedelta(days=2))
    inspector = login(inspector_user)
    assert client.post(f"/api/v1/rectifications/{order['id']}/review", json={"accepted": True},
                       headers=inspector).status_code == 200

    regulator = login(login_as("regulator", jurisdiction=["370811"])[0])
    body = client.get("/api/v1/stats/districts?from=2024-03-01&to=2024-03-24", headers=regulator).get_json()
    assert body["from"] == "2024-03-01" and [r["district_code"] for r in body["items"]] == ["370811"]
    row = body["items"][0]
    assert row["name"] == "任城区" and row["shops"] == {"active": 1, "unclaimed": 0}
    assert sum(row["grades"].values()) == 1 and row["inspections"] == 1
    assert row["rectifications"] == {"issued": 1, "closed": 1, "closure_rate": 1.0, "mean_days_to_close": 2.0}
    assert row["waste_kg"] == {"kitchen_waste": 42.0, "waste_oil": 30.0}

    collectors = client.get("/api/v1/stats/collectors?from=2024-03-01&to=2024-03-24", headers=regulator).get_json()
    assert collectors["items"] == [{"collector_company_id": c.company_id, "name": c.company.name, "slips": 3,
                                    "waste_kg": {"kitchen_waste": 42.0, "waste_oil": 30.0}, "disputed": 1,
                                    "rejected": 1, "pending": 0}]

    _, far = login_as("regulator", jurisdiction=["370883"])
    far_rows = client.get("/api/v1/stats/districts?from=2024-03-01&to=2024-03-24", headers=far).get_json()["items"]
    assert [r["district_code"] for r in far_rows] == ["370883"] and far_rows[0]["waste_kg"]["kitchen_waste"] == 0
    assert client.get("/api/v1/stats/collectors", headers=far).get_json()["items"] == []
    _, admin = login_as("admin", jurisdiction=None)
    assert len(client.get("/api/v1/stats/districts", headers=admin).get_json()["items"]) == 14


def test_statistics_are_for_regulators(client, login_as):
    for role in ("user", "inspector"):
        _, headers = login_as(role)
        error_of(client.get("/api/v1/stats/districts", headers=headers), 403)
        error_of(client.get("/api/v1/stats/collectors", headers=headers), 403)
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    error_of(client.get("/api/v1/stats/districts?from=2024-03-10&to=2024-03-01", headers=regulator), 422)


def test_todays_figures_equal_each_shops_own_compliance(client, frozen_clock, make_shop, make_company, login_as):
    """Today's grades and overdue counts come from the graded pass the console's map shows; they
    must equal what each shop's own compliance (from its records) says, on a random little city."""
    import random

    from server import clock
    from server.clock import today
    rnd = random.Random(20261202)
    districts = ["370811", "370812"]
    company = make_company(districts)
    _, regulator = login_as("regulator", jurisdiction=None)
    _, collector = login_as("collector", company=company)
    made = []
    for n in range(10):
        shop = make_shop(district_code=districts[n % 2], cooking_heads=rnd.choice([1, 3, 6, 10]))
        days = rnd.choice([None, 2, 2, 20, 80])
        if days is not None:
            cleaned = client.post(f"/api/v1/shops/{shop.shop_id}/cleanings", headers=shop.owner, json={
                "cleaned_on": (today() - dt.timedelta(days=days)).isoformat(), "parts": ["purifier"],
                "performed_by": "self", "before_photo_ids": [upload_photo(client, shop.owner, 2 * n)],
                "after_photo_ids": [upload_photo(client, shop.owner, 2 * n + 1)]})
            assert cleaned.status_code == 201, cleaned.get_data(as_text=True)
        if rnd.random() < 0.8:  # under contract, some with a slip collected lately
            assert client.post(f"/api/v1/shops/{shop.shop_id}/contract", headers=regulator, json={
                "collector_company_id": company.id, "contract_no": f"HT-{n}", "valid_from": "2024-01-01",
                "valid_until": "2099-12-31", "photo_ids": [upload_photo(client, regulator, 500 + n)]}).status_code == 201
            if rnd.random() < 0.8:
                handed = (clock.utcnow() - dt.timedelta(hours=rnd.choice([2, 20, 300]))).isoformat()
                slip_id = client.post(f"/api/v1/shops/{shop.shop_id}/handovers", headers=shop.owner, json={
                    "handed_over_at": handed, "waste_type": "kitchen_waste", "declared_kg": 20,
                    "collector_company_id": company.id}).get_json()["id"]
                assert client.post(f"/api/v1/handovers/{slip_id}/confirm", json={"weighed_kg": 21},
                                   headers=collector).status_code == 200
        made.append(shop)
    frozen_clock.advance(dt.timedelta(days=2))  # the city ages: some slips turn overdue
    _, admin = login_as("admin", jurisdiction=None)
    # Today (the graded pass) and yesterday (from the records, as of then) against each shop's own.
    yesterday = today() - dt.timedelta(days=1)
    for on, query in ((today(), ""), (yesterday, f"?to={yesterday}")):
        expected = {code: {"active": 0, "grades": {"A": 0, "B": 0, "C": 0}, "purifier": 0, "waste": 0}
                    for code in districts}
        for shop in made:
            result = client.get(f"/api/v1/shops/{shop.shop_id}/compliance?as_of={on}", headers=admin).get_json()
            if not result["active"]:
                continue
            tally = expected[shop.shop["district_code"]]
            tally["active"] += 1
            tally["grades"][result["grade"]] += 1
            tally["purifier"] += result["purifier"]["status"] == "overdue"
            tally["waste"] += result["waste"]["status"] == "overdue"
        rows = {row["district_code"]: row for row in
                client.get("/api/v1/stats/districts" + query, headers=admin).get_json()["items"]}
        for code in districts:
            assert rows[code]["shops"]["active"] == expected[code]["active"], on
            assert rows[code]["grades"] == expected[code]["grades"], on
            assert rows[code]["overdue"]["purifier"] == expected[code]["purifier"], on
            assert rows[code]["overdue"]["waste"] == expected[code]["waste"], on
        if on == today():
            grades = [g for code in districts for g, n in expected[code]["grades"].items() if n]
            assert len(set(grades)) >= 2 and sum(expected[c]["purifier"] for c in districts) >= 1  # a mixed city


def test_waste_figures_equal_the_slips_on_random_data(client, frozen_clock, make_shop, make_company, login_as):
    """Kilograms and slip counts come from the per-district daily tallies kept by every write; on
    random slips, answers, corrections and shops moving district they must equal sums over the
    slips themselves, for random periods (the business day is Shanghai's, so slips near midnight)."""
    import random

    import sqlalchemy as sa

    from server import clock
    from server.clock import business_date
    from server.extensions import db
    from server.models import Handover, Shop
    from server.services.records import tallies
    rnd = random.Random(20261203)
    districts = ["370811", "370812", "370830"]
    companies = [make_company(districts), make_company(districts[:2])]
    _, regulator = login_as("regulator", jurisdiction=None)
    drivers = {company.id: login_as("collector", company=company)[1] for company in companies}
    shops = []
    for n in range(6):
        shop = make_shop(district_code=districts[n % 2])
        company = companies[n % 2]
        assert client.post(f"/api/v1/shops/{shop.shop_id}/contract", headers=regulator, json={
            "collector_company_id": company.id, "contract_no": f"HT-{n}", "valid_from": "2024-01-01",
            "valid_until": "2099-12-31", "photo_ids": [upload_photo(client, regulator, 700 + n)]}).status_code == 201
        shops.append((shop, company.id))
    slips = []  # (slip id, shop, company id) of versions in force that the owner started

    def body(company_id):
        # Minutes either side of Shanghai midnight, within the last twelve days.
        moment = (clock.utcnow().astimezone(clock.SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
                  - dt.timedelta(days=rnd.randrange(12), minutes=rnd.choice([-7, 3, 500, 900])))
        return {"handed_over_at": min(moment, clock.utcnow()).isoformat(), "collector_company_id": company_id,
                "waste_type": rnd.choice(["kitchen_waste", "waste_oil"]), "declared_kg": rnd.randrange(1, 9000) / 100}

    for _ in range(60):
        action = rnd.random()
        if action < 0.4 or not slips:
            shop, company_id = rnd.choice(shops)
            made = client.post(f"/api/v1/shops/{shop.shop_id}/handovers", headers=shop.owner, json=body(company_id))
            assert made.status_code == 201, made.get_data(as_text=True)
            slips.append((made.get_json()["id"], shop, company_id))
        elif action < 0.75:
            slip_id, shop, company_id = rnd.choice(slips)
            if rnd.random() < 0.75:
                answer = client.post(f"/api/v1/handovers/{slip_id}/confirm", headers=drivers[company_id],
                                     json={"weighed_kg": rnd.choice([None, rnd.randrange(1, 9000) / 100])})
            else:
                answer = client.post(f"/api/v1/handovers/{slip_id}/reject", headers=drivers[company_id],
                                     json={"reason": "未收到"})
            assert answer.status_code in (200, 409), answer.get_data(as_text=True)
        elif action < 0.92:
            index = rnd.randrange(len(slips))
            slip_id, shop, company_id = slips[index]
            fixed = client.post(f"/api/v1/handovers/{slip_id}/corrections", headers=shop.owner,
                                json={**body(company_id), "reason": "数量填错"})
            assert fixed.status_code == 201, fixed.get_data(as_text=True)
            slips[index] = (fixed.get_json()["id"], shop, company_id)
        else:
            shop, company_id = rnd.choice(shops[1::2])  # the second company serves the first two districts
            now = client.get(f"/api/v1/shops/{shop.shop_id}", headers=regulator).get_json()["district_code"]
            moved = client.patch(f"/api/v1/shops/{shop.shop_id}", headers=shop.owner,
                                 json={"district_code": districts[1 - districts.index(now)]})
            assert moved.status_code == 202, moved.get_data(as_text=True)
            assert client.post(f"/api/v1/change-requests/{moved.get_json()['id']}/decision", headers=regulator,
                               json={"approved": True}).status_code == 200
        frozen_clock.advance(dt.timedelta(minutes=rnd.randrange(1, 7)))  # within the staff tokens' 8 h

    db.session.remove()  # the factories' session: start afresh, after every request's commit
    assert tallies.check(db.session)[1] == []
    district_of = dict(db.session.execute(sa.select(Shop.id, Shop.district_code)).all())
    in_force = db.session.scalars(sa.select(Handover).where(Handover.superseded_by_id.is_(None))).all()
    assert {s.status for s in in_force} >= {"pending", "confirmed", "disputed", "rejected"}
    assert len({district_of[s.shop_id] for s in in_force}) >= 2
    db.session.remove()
    today = clock.today()
    periods = [(today - dt.timedelta(days=11), today)] + [
        tuple(sorted(today - dt.timedelta(days=rnd.randrange(12)) for _ in range(2))) for _ in range(5)]
    for start, end in periods:
        query = f"?from={start}&to={end}"
        rows = {row["district_code"]: row["waste_kg"]
                for row in client.get("/api/v1/stats/districts" + query, headers=regulator).get_json()["items"]}
        expected_kg = {(code, kind): 0 for code in districts for kind in ("kitchen_waste", "waste_oil")}
        expected_companies = {}
        for s in in_force:
            if not start <= business_date(s.handed_over_at) <= end:
                continue
            kg = s.weighed_kg if s.weighed_kg is not None else (s.declared_kg or 0)
            if s.status in ("confirmed", "disputed"):
                expected_kg[district_of[s.shop_id], s.waste_type] += kg
            figures = expected_companies.setdefault(s.collector_company_id, {
                "slips": 0, "waste_kg": {"kitchen_waste": 0, "waste_oil": 0}, "disputed": 0, "rejected": 0,
                "pending": 0})
            figures["slips"] += 1
            if s.status in ("confirmed", "disputed"):
                figures["waste_kg"][s.waste_type] += kg
            if s.status in ("disputed", "rejected", "pending"):
                figures[s.status] += 1
        for (code, kind), kg in expected_kg.items():
            assert rows[code][kind] == round(kg, 2), (start, end, code, kind)
        listed = client.get("/api/v1/stats/collectors" + query, headers=regulator).get_json()["items"]
        assert {item["collector_company_id"]: {k: v for k, v in item.items() if k not in ("collector_company_id", "name")}
                for item in listed} == {cid: {**f, "waste_kg": {k: round(v, 2) for k, v in f["waste_kg"].items()}}
                                         for cid, f in expected_companies.items()}, (start, end)


def test_a_past_day_is_graded_once_per_district_and_again_after_a_shop_changes(client, frozen_clock, make_shop,
                                                                                 login_as, monkeypatch):
    """Grading a city as of a past day takes seconds, so each district's tally is kept; a change to a
    shop's own row (here a move to another district) has both districts graded again, no other."""
    from server.clock import today
    from server.services.reports import stats as service
    moving = make_shop(district_code="370811")
    make_shop(district_code="370811")
    frozen_clock.advance(dt.timedelta(days=2))
    _, admin = login_as("admin", jurisdiction=None)
    query = f"/api/v1/stats/districts?to={today() - dt.timedelta(days=1)}"
    calls, grade = [], service._graded_on
    monkeypatch.setattr(service, "_graded_on", lambda codes, day: calls.append(sorted(codes)) or grade(codes, day))

    def active():
        rows = client.get(query, headers=admin).get_json()["items"]
        return {row["district_code"]: row["shops"]["active"] for row in rows if row["shops"]["active"]}

    assert active() == {"370811": 2} and len(calls) == 1 and len(calls[0]) == 14
    frozen_clock.advance(dt.timedelta(minutes=1))
    assert active() == {"370811": 2} and len(calls) == 1  # kept
    request = client.patch(f"/api/v1/shops/{moving.shop_id}", headers=moving.owner, json={"district_code": "370812"})
    assert request.status_code == 202, request.get_data(as_text=True)
    assert client.post(f"/api/v1/change-requests/{request.get_json()['id']}/decision", headers=admin,
                       json={"approved": True}).status_code == 200
    frozen_clock.advance(dt.timedelta(minutes=1))
    assert active() == {"370811": 1, "370812": 1} and calls[1:] == [["370811", "370812"]]
    # A period ending in the future is graded every time (its last day is not over), and never kept.
    later = client.get(f"/api/v1/stats/districts?to={today() + dt.timedelta(days=3)}", headers=admin)
    assert later.status_code == 200 and len(calls) == 3
    assert client.get(f"/api/v1/stats/districts?to={today() + dt.timedelta(days=3)}", headers=admin).status_code == 200
    assert len(calls) == 4
