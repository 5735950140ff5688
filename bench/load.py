"""Load test: gunicorn as configured, a mixed workload for a bounded time, then a check that
every acknowledged write is in the database exactly once, and that every shop's stored compliance
facts (shop_facts) still match its records.

    .venv/bin/python bench/load.py [--seconds 60] [--database-url URL] [--shops 300]

Loopback only.  Seeds a demo city (an empty PostgreSQL database when --database-url is given,
else a temporary SQLite file), starts `gunicorn wsgi:app` with the project's gunicorn.conf.py
(gthread, 2 × cores + 1 workers × 4 threads), and runs client threads for --seconds:
owners upload photos, log cleanings and start handover slips; collectors confirm pending
slips; inspectors read their patrol list and file inspections; a regulator exports the
compliance CSV and reads the statistics.  Every POST carries an Idempotency-Key and is
retried with it on a network error.  Prints requests/s, errors and p50/p95/p99 per endpoint,
then counts rows: acknowledged writes missing (lost) and rows beyond the acknowledged
(duplicated).  The per-user write limit is raised (each client thread is one very busy user);
its counting still runs on every write.
"""
import argparse
import collections
import datetime as dt
import io
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from PIL import Image  # noqa: E402
from sqlalchemy import select  # noqa: E402

from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models import (Cleaning, CollectorCompany, Contract, Handover, Inspection, Photo, Shop,  # noqa: E402
                           ShopMember, User)
from server.services import audit, compliance  # noqa: E402
from server.services.records import tallies  # noqa: E402
from server.services.upkeep import demo  # noqa: E402
from server.services.people.accounts import _issue_token  # noqa: E402

CODES = ["P1", "P2", "P3", "P4", "W1", "W2", "W3", "W4", "W5", "O1", "O2", "O3"]
SECRET = "load-test-secret-key-0123456789abcdef"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def jpeg(rnd):
    """A small phone-like photo (800×600), different every time."""
    image = Image.new("RGB", (800, 600), tuple(rnd.randrange(256) for _ in range(3)))
    noise = Image.effect_noise((200, 150), 40).convert("RGB").resize((800, 600))
    image = Image.blend(image, noise, 0.5)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def seed(url, upload_dir, shops):
    """Demo city plus the load test's own users; returns their tokens and facts."""
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url, "UPLOAD_DIR": upload_dir})
    with app.app_context():
        upgrade()
        demo.seed(shops, echo=lambda *_: None)
        today = dt.date.today()
        contracted = select(Contract.shop_id).where(Contract.valid_from <= today, Contract.valid_until >= today)
        shops_rows = db.session.execute(select(Shop.id, Shop.lat, Shop.lng, Shop.district_code)
                                        .where(Shop.id.in_(contracted)).order_by(Shop.id)).all()
        companies = {c.districts[0]: c.id for c in db.session.scalars(select(CollectorCompany))}
        actors = {"owner": [], "collector": [], "inspector": [], "regulator": []}
        for i in range(6):
            user = User(openid=f"load-owner-{i}", role="user", display_name=f"压测店主{i}")
            db.session.add(user)
            db.session.flush()
            own = [s for s in shops_rows[i::6]][:20]
            for shop in own:
                db.session.add(ShopMember(shop_id=shop.id, user_id=user.id, role="staff"))
            actors["owner"].append({"user": user, "shops": own})
        by_company = collections.defaultdict(list)
        for shop in shops_rows:
            by_company[companies[shop.district_code]].append(shop)
        for i, company_id in enumerate(sorted(by_company)[:3]):
            user = User(openid=f"load-collector-{i}", role="collector", display_name=f"压测司机{i}",
                        collector_company_id=company_id)
            db.session.add(user)
            actors["collector"].append({"user": user})
        for i in range(3):
            user = User(openid=f"load-inspector-{i}", role="inspector", display_name=f"压测执法{i}", jurisdiction=None)
            db.session.add(user)
            actors["inspector"].append({"user": user, "shops": shops_rows[i::3]})
        user = User(username="loadregulator", role="regulator", display_name="压测监管",
                    jurisdiction=sorted({s.district_code for s in shops_rows}))
        db.session.add(user)
        actors["regulator"].append({"user": user})
        db.session.flush()
        audit.record("bench.load_seed", "user", None, "压测用户")
        for role_actors in actors.values():
            for actor in role_actors:
                actor["token"] = _issue_token(actor["user"], "wechat", dt.timedelta(hours=3))["token"]
                actor["user_id"] = actor["user"].id
                actor["company_id"] = actor["user"].collector_company_id
                del actor["user"]
        for actor in actors["owner"]:
            actor["companies"] = {s.id: companies[s.district_code] for s in actor["shops"]}
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return actors


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = collections.defaultdict(list)
        self.status = collections.Counter()
        self.errors = collections.Counter()
        self.acked = collections.defaultdict(set)

    def record(self, label, seconds, status):
        with self.lock:
            self.latency[label].append(seconds)
            self.status[status] += 1
            if not (200 <= status < 300):
                self.errors[(label, status)] += 1


class Client:
    def __init__(self, base, token, stats):
        self.base, self.stats = base, stats
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + token

    def call(self, method, label, path, **kwargs):
        key = str(uuid.uuid4()) if method == "POST" else None
        headers = {"Idempotency-Key": key} if key else {}
        for attempt in range(3):
            started = time.perf_counter()
            try:
                response = self.session.request(method, self.base + path, headers=headers, timeout=60, **kwargs)
                if kwargs.get("stream"):
                    for _ in response.iter_content(65536):
                        pass
            except requests.RequestException:
                self.stats.record(label, time.perf_counter() - started, 599)
                if key is None:
                    return None
                continue  # retry with the same key: never a second write
            self.stats.record(label, time.perf_counter() - started, response.status_code)
            return response
        return None


def owner_loop(client, actor, deadline, rnd, stats):
    while time.time() < deadline:
        shop = rnd.choice(actor["shops"])
        photo_ids = []
        for _ in range(2):
            response = client.call("POST", "POST /photos", "/photos",
                                   files={"file": ("p.jpg", jpeg(rnd), "image/jpeg")}, data={"purpose": "cleaning"})
            if response is not None and response.status_code == 201:
                photo_ids.append(response.json()["id"])
                stats.acked["photo"].add(response.json()["id"])
        if len(photo_ids) == 2:
            response = client.call("POST", "POST /shops/{id}/cleanings", f"/shops/{shop.id}/cleanings", json={
                "cleaned_on": dt.date.today().isoformat(), "parts": ["purifier"], "performed_by": "self",
                "before_photo_ids": photo_ids[:1], "after_photo_ids": photo_ids[1:]})
            if response is not None and response.status_code == 201:
                stats.acked["cleaning"].add(response.json()["id"])
        response = client.call("POST", "POST /shops/{id}/handovers", f"/shops/{shop.id}/handovers", json={
            "handed_over_at": dt.datetime.now(dt.timezone.utc).isoformat(), "waste_type": "kitchen_waste",
            "bins": 2, "declared_kg": round(rnd.uniform(10, 60), 1),
            "collector_company_id": actor["companies"][shop.id]})
        if response is not None and response.status_code == 201:
            stats.acked["handover"].add(response.json()["id"])
        client.call("GET", "GET /shops/{id}", f"/shops/{shop.id}")


def collector_loop(client, actor, deadline, rnd, stats):
    while time.time() < deadline:
        response = client.call("GET", "GET /handovers?status=pending", "/handovers?status=pending&per_page=10")
        pending = response.json()["items"] if response is not None and response.status_code == 200 else []
        for slip in pending[:3]:
            response = client.call("POST", "POST /handovers/{id}/confirm", f"/handovers/{slip['id']}/confirm",
                                   json={"weighed_kg": slip["declared_kg"] or 30})
            if response is not None and response.status_code == 200:
                stats.acked["confirm"].add(slip["id"])
        if not pending:
            time.sleep(0.2)


def inspector_loop(client, actor, deadline, rnd, stats):
    while time.time() < deadline:
        shop = rnd.choice(actor["shops"])
        client.call("GET", "GET /patrol", f"/patrol?lat={shop.lat}&lng={shop.lng}&radius_m=2000")
        response = client.call("POST", "POST /shops/{id}/inspections", f"/shops/{shop.id}/inspections", json={
            "inspected_at": dt.datetime.now(dt.timezone.utc).isoformat(), "lat": shop.lat, "lng": shop.lng,
            "items": [{"code": code, "result": "pass"} for code in CODES]})
        if response is not None and response.status_code == 201:
            stats.acked["inspection"].add(response.json()["id"])


def regulator_loop(client, actor, deadline, rnd, stats):
    while time.time() < deadline:
        client.call("GET", "GET /exports/compliance.csv", "/exports/compliance.csv", stream=True)
        client.call("GET", "GET /stats/districts", "/stats/districts")
        time.sleep(1)


LOOPS = {"owner": owner_loop, "collector": collector_loop, "inspector": inspector_loop, "regulator": regulator_loop}


def verify(url, upload_dir, actors, stats):
    """Acknowledged writes: each in the database exactly once."""
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url, "UPLOAD_DIR": upload_dir})
    owners = [a["user_id"] for a in actors["owner"]]
    inspectors = [a["user_id"] for a in actors["inspector"]]
    checks = {
        "photo": (Photo, Photo.uploaded_by_id.in_(owners)),
        "cleaning": (Cleaning, Cleaning.logged_by_id.in_(owners)),
        "handover": (Handover, Handover.started_by_id.in_(owners)),
        "inspection": (Inspection, Inspection.inspector_id.in_(inspectors)),
    }
    rows = []
    with app.app_context():
        for kind, (model, mine) in checks.items():
            stored = set(db.session.scalars(select(model.id).where(mine)))
            acked = stats.acked[kind]
            rows.append((kind, len(acked), len(stored), len(acked - stored), len(stored - acked)))
        confirmed = set(db.session.scalars(select(Handover.id).where(
            Handover.id.in_(stats.acked["confirm"] or {0}), Handover.status.in_(["confirmed", "disputed"]))))
        rows.append(("confirm", len(stats.acked["confirm"]), len(confirmed),
                     len(stats.acked["confirm"] - confirmed), 0))
        facts = compliance.check_all(db.session)  # (checked, graded from records, differing)
        waste = tallies.check(db.session)  # (rows, differing keys)
        db.engine.dispose()
    return rows, facts, waste


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--shops", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/load.db"
        upload_dir = f"{tmp}/uploads"
        actors = seed(url, upload_dir, args.shops)
        port = free_port()
        env = dict(os.environ, DATABASE_URL=url, UPLOAD_DIR=upload_dir, APP_ENV="production", SECRET_KEY=SECRET,
                   BIND=f"127.0.0.1:{port}", RATE_LIMIT_WRITES_PER_MINUTE="100000",
                   RATE_LIMIT_EXPORTS_PER_HOUR="100000", LOG_LEVEL="warning")
        env.pop("WECHAT_APPID", None)
        log = open(f"{tmp}/gunicorn.log", "w")
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app", "--access-logfile", "/dev/null"],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            for _ in range(300):
                try:
                    if requests.get(base + "/health", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.1)
            stats = Stats()
            deadline = time.time() + args.seconds
            threads = []
            for role, role_actors in actors.items():
                for i, actor in enumerate(role_actors):
                    client = Client(base, actor["token"], stats)
                    threads.append(threading.Thread(target=LOOPS[role], args=(
                        client, actor, deadline, random.Random(f"{role}{i}"), stats)))
            started = time.time()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.time() - started
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            log.close()
        total = sum(stats.status.values())
        engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"load test on {engine}: {len(threads)} client threads, {elapsed:.0f} s, gunicorn as configured "
              f"({(os.cpu_count() or 1) * 2 + 1} gthread workers × 4 threads), {args.shops} demo shops")
        print(f"requests: {total}  ({total / elapsed:.0f} req/s)   errors (non-2xx or no answer): "
              f"{sum(stats.errors.values())}")
        for (label, status), count in sorted(stats.errors.items()):
            print(f"  error {status} × {count}: {label}")
        print(f"{'endpoint':34} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for label, values in sorted(stats.latency.items()):
            print(f"{label:34} {len(values):6d} {percentile(values, 50) * 1000:8.1f} "
                  f"{percentile(values, 95) * 1000:8.1f} {percentile(values, 99) * 1000:8.1f}")
        rows, (checked, unstored, differing), (tally_rows, tally_differing) = verify(url, upload_dir, actors, stats)
        print(f"{'write':12} {'acknowledged':>12} {'in database':>12} {'lost':>6} {'duplicated':>10}")
        for kind, acked, stored, lost, extra in rows:
            print(f"{kind:12} {acked:12d} {stored:12d} {lost:6d} {extra:10d}")
        print(f"shop_facts after the load: {checked} shops checked against their records, {len(differing)} differ, "
              f"{len(unstored)} not answerable from the table")
        print(f"waste tallies after the load: {tally_rows} rows checked against the slips, {len(tally_differing)} differ")
        if any(lost or extra for _, _, _, lost, extra in rows) or differing or tally_differing:
            print("FAIL: acknowledged writes lost or duplicated, or stored facts drifted from the records")
            sys.exit(1)
        print("every acknowledged write is in the database exactly once")


if __name__ == "__main__":
    main()
