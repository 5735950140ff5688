"""A demo city for newcomers and benchmarks (``flask --app wsgi seed-demo --shops N``).

Bulk loads (``COPY`` on PostgreSQL; server.services.upkeep.bulk), about a year of records per shop:
~6 cleanings, ~40 handover slips (confirmed, a few disputed, rejected or pending), ~2
inspections (some failing, with rectification orders), a licensed company and contract per
district.  50,000 shops make about 2 million slips.  Deterministic for a given seed.
"""
import datetime as dt
import random

from flask import current_app
from sqlalchemy import func, select

from server.clock import business_date, to_shanghai, utcnow
from server.extensions import db
from server.geo import cell_of
from server.models.collector import CollectorCompany
from server.models.inspection import Case, CaseEvent, Inspection, InspectionItem, Rectification, RectificationEvent
from server.models.records import Cleaning, Handover
from server.models.reference import ChecklistVersion, District
from server.models.shop import Contract, Shop, ShopMember
from server.models.user import User
from server.services import audit, compliance, places
from server.services.compliance import MIN_EFFICIENCY, scale_of
from server.services.records import tallies
from server.services.upkeep.bulk import Loader
from server.validators import USCC_CHARSET, uscc_check_char

CENTRES = {  # rough centre of each jurisdiction (lat, lng)
    "370811": (35.41, 116.59), "370812": (35.55, 116.78), "370826": (34.81, 117.13), "370827": (35.00, 116.65),
    "370828": (35.07, 116.31), "370829": (35.41, 116.34), "370830": (35.73, 116.50), "370831": (35.66, 117.27),
    "370832": (35.80, 116.10), "370881": (35.58, 116.99), "370883": (35.40, 116.97), "370871": (35.38, 116.52),
    "370891": (35.36, 116.60), "370800-JK": (35.30, 116.55)}
NAMES = ["老王烧烤", "鸿运火锅", "川味小馆", "家常菜馆", "鲁菜馆", "快餐店", "面馆", "羊汤馆", "饺子馆", "大排档"]
ROADS = ["古槐路", "建设路", "太白路", "琵琶山路", "红星路", "共青团路", "运河路", "吴泰闸路", "光明路", "车站路"]
STREETS = ["城区街道", "东关街道", "西关街道", "南苑街道", "北湖街道", "新城街道"]
# Shares that make a plausible city (about 60 % A, 25 % B, 15 % C; overdue orders a minority, some already
# cases): what goes wrong, and how often.
NO_PURIFIER, NO_CONTRACT, EXPIRED, UNDERSIZED, LAPSED_CLEANING, LAPSED_WASTE = 0.012, 0.015, 0.015, 0.015, 0.035, 0.02
FAILING_INSPECTION, ORDER_LEFT_OPEN, OVERDUE_MADE_CASE = 0.16, 0.12, 0.5
MISPLACED = 0.004  # shops registered with a point that was not checked against the district
CODES = ["P1", "P2", "P3", "P4", "W1", "W2", "W3", "W4", "W5", "O1", "O2", "O3"]


def _uscc(n):
    body = "92370800" + "".join(USCC_CHARSET[(n // 31 ** i) % 31] for i in range(9))
    return body + uscc_check_char(body)


def _point_in(code, lat, lng, rnd, areas):
    """``(lat, lng, located_in)`` near the district's centre and inside its boundary where it has one —
    but for a few shops (``MISPLACED``), registered with a point that may lie across a border."""
    careless = rnd.random() < MISPLACED
    for _ in range(30):
        point = lat + rnd.uniform(-0.05, 0.05), lng + rnd.uniform(-0.05, 0.05)
        located = places.district_at(*point, areas)
        if careless or code not in areas.coded or located == code:
            break
    return point[0], point[1], located


def seed(shops, seed=2024, echo=print):
    if db.session.scalar(select(func.count()).select_from(Shop)):
        raise RuntimeError("数据库中已有店铺：seed-demo 只能用于空数据库")
    rnd = random.Random(seed)
    now = utcnow()
    start = now - dt.timedelta(days=365)
    checklist_id = db.session.scalar(select(ChecklistVersion.id).order_by(ChecklistVersion.version.desc()))
    named = dict(db.session.execute(select(District.code, District.name).order_by(District.position)).all())
    districts = list(named)
    intervals = dict(zip(("small", "medium", "large"), current_app.config["PURIFIER_INTERVAL_DAYS"]))
    owner = User(openid="dev-demo-owner", role="user", display_name="演示店主")
    inspector = User(openid="dev-demo-inspector", role="inspector", display_name="演示执法人员", jurisdiction=None)
    db.session.add_all([owner, inspector])
    db.session.flush()
    companies = {}
    for i, code in enumerate(districts):
        place = named[code].removesuffix("区").removesuffix("县").removesuffix("市")
        company = CollectorCompany(name=f"济宁{place}环境再生资源有限公司", uscc=_uscc(10_000_000 + i),
                                   licence_no=f"JNCY-2026-{i + 1:03d}",
                                   licence_valid_until=business_date(now) + dt.timedelta(days=365), districts=[code])
        db.session.add(company)
        db.session.flush()
        companies[code] = company.id
    loader, areas = Loader(db.session), places.held()
    for n in range(1, shops + 1):
        code = districts[n % len(districts)]
        lat, lng = CENTRES.get(code, (35.41, 116.59))
        heads = rnd.choice([1, 2, 2, 3, 3, 4, 6, 8])
        address = f"济宁市{named[code]}{rnd.choice(ROADS)}{n}号"
        scale = scale_of(heads)
        efficiency = rnd.choice([MIN_EFFICIENCY[scale] - 10, None]) if rnd.random() < UNDERSIZED \
            else rnd.choice([None, MIN_EFFICIENCY[scale] + 5, 90.0, 95.0])
        shop_lat, shop_lng, located = _point_in(code, lat, lng, rnd, areas)
        loader.add(Shop, {"id": n, "name": f"{rnd.choice(NAMES)}{n}号店", "uscc": _uscc(n), "address": address,
                          "address_key": address.replace(" ", ""), "district_code": code,
                          "lat": shop_lat, "lng": shop_lng, "geo_cell": cell_of(shop_lat, shop_lng),
                          "located_in": located,
                          "street": rnd.choice(STREETS),
                          "cooking_heads": heads, "open_air_bbq": rnd.random() < 0.1,
                          "purifier_installed": rnd.random() > NO_PURIFIER,
                          "purifier_rated_efficiency": efficiency,
                          "status": "active", "registered_on": business_date(start), "source": "import",
                          "claimed_at": start if n % 5 else None, "created_by_id": inspector.id,
                          "created_at": start, "updated_at": start})
        if n % 5:
            loader.add(ShopMember, {"shop_id": n, "user_id": owner.id, "role": "manager", "joined_at": start})
    loader.flush()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.text("SELECT setval(pg_get_serial_sequence('shops', 'id'), :n)"), {"n": shops})
    echo(f"{shops} 家店铺")

    contracts = [{"id": n, "shop_id": n, "collector_company_id": companies[districts[n % len(districts)]],
                  "contract_no": f"HT-{n}", "valid_from": business_date(start),
                  "valid_until": business_date(now) + dt.timedelta(days=-20 if rnd.random() < EXPIRED
                                                                   else rnd.choice([200, 300, 365])),
                  "recorded_by_id": inspector.id, "recorded_at": start} for n in range(1, shops + 1)
                 if rnd.random() > NO_CONTRACT]
    loader.add_all(Contract, contracts)
    loader.flush()
    contract_of = {c["shop_id"]: c for c in contracts}
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.text("SELECT setval(pg_get_serial_sequence('contracts', 'id'), :n)"), {"n": shops})

    counts = {"slips": 0}
    overdue_orders = []
    inspection_id = order_id = 0
    heads_of = {row.id: row.cooking_heads for row in db.session.execute(select(Shop.id, Shop.cooking_heads))}
    for n in range(1, shops + 1):
        interval = intervals[scale_of(heads_of[n])]
        # Most shops clean before they are due; a few stopped two intervals ago (overdue now).
        last_day = now - dt.timedelta(days=2 * interval) if rnd.random() < LAPSED_CLEANING else now
        day = start
        while True:
            day += dt.timedelta(days=max(1, round(interval * rnd.uniform(0.6, 1.0))))
            if day >= last_day:
                break
            loader.add(Cleaning, {"shop_id": n, "cleaned_on": business_date(day), "parts": ["purifier", "hood"],
                              "performed_by": "company", "company_name": "演示清洗公司", "logged_by_id": owner.id,
                              "received_at": min(day + dt.timedelta(hours=rnd.randint(1, 30)), now),
                              "late_entry": False})
        contract = contract_of.get(n)
        if contract:
            moment = start
            # A slip every week or so through the year, every day or two in the last ten days (the
            # waste is overdue after WASTE_MAX_GAP_DAYS without one); a few shops stopped handing over.
            stop = now - dt.timedelta(days=rnd.randint(5, 12)) if rnd.random() < LAPSED_WASTE else now
            recent = now - dt.timedelta(days=10)
            while True:
                moment += dt.timedelta(hours=rnd.randint(20, 60) if moment >= recent else rnd.randint(150, 260))
                if moment >= stop:
                    break
                counts["slips"] += 1
                declared = round(rnd.uniform(10, 80), 1)
                roll = rnd.random()
                status = "confirmed" if roll < 0.9 else "disputed" if roll < 0.95 else "rejected" if roll < 0.98 \
                    else "pending"
                weighed = declared * (rnd.uniform(1.3, 1.6) if status == "disputed" else rnd.uniform(0.9, 1.1))
                loader.add(Handover, {"serial": f"DEMO{counts['slips']:09d}", "version": 1, "shop_id": n,
                              "collector_company_id": contract["collector_company_id"], "contract_id": contract["id"],
                              "handed_over_at": moment, "waste_type": "kitchen_waste" if rnd.random() < 0.8
                              else "waste_oil", "declared_kg": declared,
                              "weighed_kg": None if status == "pending" else round(weighed, 1), "status": status,
                              "started_by_party": "shop", "started_by_id": owner.id, "received_at": moment,
                              "late_entry": False, "reject_reason": "未见实物" if status == "rejected" else None,
                              "answered_at": None if status == "pending" else min(moment + dt.timedelta(hours=1), now)})
        for _ in range(rnd.choice([1, 2, 2, 3])):
            inspection_id += 1
            when = start + dt.timedelta(days=rnd.randint(0, 364), hours=rnd.randint(1, 10))
            loader.add(Inspection, {"id": inspection_id, "shop_id": n, "inspector_id": inspector.id,
                                "checklist_version_id": checklist_id, "inspected_at": when, "received_at": when,
                                "late_entry": False, "lat": 35.4, "lng": 116.6, "distance_m": 20.0,
                                "far_from_shop": False})
            failed = rnd.sample(CODES, 1) if rnd.random() < FAILING_INSPECTION else []
            loader.add_all(InspectionItem, ({"inspection_id": inspection_id, "code": c,
                                             "result": "fail" if c in failed else "pass"} for c in CODES))
            if failed:
                order_id += 1
                deadline = business_date(when) + dt.timedelta(days=7)
                closed = rnd.random() > ORDER_LEFT_OPEN and when + dt.timedelta(days=5) <= now  # not in the future
                loader.add(Rectification, {"id": order_id, "shop_id": n, "inspection_id": inspection_id, "items": failed,
                               "status": "closed" if closed else "open", "deadline": deadline, "created_at": when,
                               "closed_at": when + dt.timedelta(days=5) if closed else None})
                loader.add(RectificationEvent, {"rectification_id": order_id, "action": "created", "actor_id": inspector.id,
                               "at": when, "deadline": deadline})
                if closed:
                    loader.add(RectificationEvent, {"rectification_id": order_id, "action": "accepted",
                                                    "actor_id": inspector.id, "at": when + dt.timedelta(days=5)})
                elif deadline < business_date(now):
                    overdue_orders.append((order_id, n, deadline))
        if n % 10_000 == 0:
            echo(f"… {n} 家店铺的记录已生成")
    loader.flush()
    district_of = {n: districts[n % len(districts)] for n in range(1, shops + 1)}
    made_cases = overdue_orders[::round(1 / OVERDUE_MADE_CASE)]  # some overdue orders are already cases
    for order, shop_id, deadline in made_cases:
        opened = dt.datetime.combine(deadline + dt.timedelta(days=2), dt.time(2), tzinfo=dt.UTC)
        case = Case(shop_id=shop_id, source="rectification", source_id=order, status="assigned",
                    district_code=district_of[shop_id], assignee_id=inspector.id, created_by_id=inspector.id,
                    created_at=opened, deadline=deadline + dt.timedelta(days=32))
        db.session.add(case)
        db.session.flush()
        db.session.add_all([CaseEvent(case_id=case.id, from_status=None, to_status="accepted", actor_id=inspector.id,
                                      at=opened, note="整改逾期，立案"),
                            CaseEvent(case_id=case.id, from_status="accepted", to_status="assigned",
                                      actor_id=inspector.id, at=opened, note="转办", assignee_id=inspector.id)])
    audit.record("demo.seed", "shop", None, f"生成演示数据：{shops} 家店铺")
    if db.engine.dialect.name == "postgresql":
        # Rows were inserted with explicit ids: move each sequence past them, or the next shop,
        # contract, inspection or order made through the API would collide (409).
        for model in (Shop, Contract, Inspection, Rectification):
            table = model.__tablename__
            db.session.execute(db.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                       f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Planner statistics for the tables just filled, before the facts are summarised from them:
        # with none, 200,000 shops took 227 s to summarise (SQLite: 33 s).
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
    # The records went in by bulk inserts, past the ORM hooks that keep shop_facts and the waste tallies in step.
    compliance.refresh_all(db.session)
    tallies.rebuild(db.session)
    db.session.commit()
    # Fresh planner statistics after a bulk load (PostgreSQL's patrol query ran 4× slower without);
    # on PostgreSQL also the visibility map, without which its index-only scans visit the table
    # anyway (the compliance export took 24 s instead of 13 on 50,000 shops).
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
    totals = {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in
              (("cleanings", Cleaning), ("handovers", Handover), ("inspections", Inspection))}
    echo(f"完成：{shops} 家店铺，{totals['cleanings']} 条清洗记录，{totals['handovers']} 张联单，"
         f"{totals['inspections']} 次检查（{to_shanghai(now):%Y-%m-%d} 前一年）")
    return totals
