"""Requests per second of the app against a bare Flask ``jsonify`` under the same gunicorn, in one run.

    .venv/bin/python bench/throughput.py [--seconds 10] [--database-url URL] [--shops 300]

Needs ``wrk`` (Debian: ``apt-get install wrk``).  Seeds a demo city (bench/load.py's users: owners,
collectors, inspectors), then starts, one after the other, a bare Flask app and the app itself
under ``gunicorn -w 2 -k sync`` (no config file, access log off: the same server for both), and
drives each endpoint with ``wrk -t2 -c16 --latency``.  Prints req/s (2xx only), p50/p99 and the
ratio to bare Flask measured in the same run (issue 16's goals beside them), with two reference rows:
``/health`` (the framework and one trivial query) and ``/me`` (authentication alone).  Writes go through
every guarantee (idempotency bookkeeping, the audit chain, shop_facts, rate-limit counting with the
limits and the daily photo quota raised); afterwards `facts check` and `audit verify` must still pass.

``POST /shops/{id}/cleanings`` needs two photos per request that no other record uses: they are
uploaded first (``--cleanings`` pairs, through the API, not timed) and each request takes the next pair;
the run is cut to the pairs there are, as the confirmations are to the pending slips, at the slips'
rate measured just before (column ``s``: the seconds a row ran), so that no request is sent twice.
"""
import argparse
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.load import free_port, seed  # noqa: E402

BARE = "from flask import Flask, jsonify\napp = Flask(__name__)\n\n\n@app.get('/')\ndef index():\n" \
       "    return jsonify(ok=True)\n"
GOALS = {"GET /shops/{id}": 0.50, "GET /shops?per_page=20": 0.25, "GET /patrol": 0.25,
         "POST /shops/{id}/handovers": 0.30, "POST /handovers/{id}/confirm": 0.30, "POST /shops/{id}/cleanings": 0.20}
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def serve(module_dir, target, env):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", target, "-w", "2", "-k", "sync", "-c", "/dev/null",
                               "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
                               "--log-level", "warning"], cwd=module_dir, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(base + "/", timeout=2)
            return server, base
        except requests.RequestException:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not come up")


def lua(tmp, name, method="GET", headers=None, body=None, paths=None, bodies=None):
    """A wrk script: the method, headers and body; with ``paths`` (or ``bodies``), each request takes
    the next one."""
    lines = [f'wrk.method = "{method}"']
    for key, value in (headers or {}).items():
        lines.append(f'wrk.headers["{key}"] = "{value}"')
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(json.dumps(body, ensure_ascii=False))}")
    if paths or bodies:
        each = paths or [json.dumps(b, ensure_ascii=False) for b in bodies]
        lines.append("items = {" + ",".join(json.dumps(p, ensure_ascii=False) for p in each) + "}")
        # Each of wrk's two threads has its own Lua state: they take alternate items.
        lines.append("local made = 0\nfunction setup(thread) thread:set('id', made); made = made + 1 end")
        lines.append("counter = 0")
        lines.append("request = function() local i = (counter * 2 + id) % #items + 1; counter = counter + 1\n"
                     + ("  return wrk.format(nil, items[i]) end" if paths else
                        "  return wrk.format(nil, nil, nil, items[i]) end"))
    path = Path(tmp) / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def photo_pairs(api, headers, count):
    """``count`` pairs of freshly uploaded photos (small JPEGs of distinct colours), four uploads at a time."""
    from PIL import Image

    def upload(n):
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), ((n * 37) % 256, (n * 91) % 256, (n * 13) % 256)).save(buffer, "JPEG")
        response = requests.post(f"{api}/photos", headers=headers, timeout=60,
                                 files={"file": (f"p{n}.jpg", buffer.getvalue(), "image/jpeg")})
        response.raise_for_status()
        return response.json()["id"]

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(upload, range(2 * count)))
    return list(zip(ids[::2], ids[1::2]))


def wrk(url, seconds, script=None):
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    failed = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    elapsed = float(re.search(r"requests in ([\d.]+)(m?s)", out).group(1))
    if re.search(r"requests in [\d.]+ms", out):
        elapsed /= 1000
    latency = {p: float(v) * UNITS[u] for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)}
    return {"rps": (total - failed) / elapsed, "failed": failed, "p50": latency.get("50"), "p99": latency.get("99"),
            "seconds": elapsed}


def run_for(items, rate, seconds):
    """Seconds a run over ``items`` one-use requests may last at about ``rate`` req/s (the slips' rate,
    measured just before: a cleaning or a confirmation costs no less), so that none is sent twice."""
    return max(1, min(seconds, int(items / (1.25 * max(rate, 1.0)))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--shops", type=int, default=300)
    parser.add_argument("--database-url")
    parser.add_argument("--cleanings", type=int, default=1500, help="photo pairs uploaded for the cleanings run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/throughput.db"
        upload_dir = f"{tmp}/uploads"
        actors = seed(url, upload_dir, args.shops)
        owner, inspector = actors["owner"][0], actors["inspector"][0]
        collectors = {c["company_id"]: c for c in actors["collector"]}
        shop = next(s for s in owner["shops"] if owner["companies"][s.id] in collectors)
        collector = collectors[owner["companies"][shop.id]]
        (Path(tmp) / "bare.py").write_text(BARE)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        results = {}
        server, base = serve(tmp, "bare:app", env)
        try:
            results["bare Flask jsonify"] = wrk(base + "/", args.seconds)
        finally:
            server.terminate()
            server.wait()
        app_env = dict(env, DATABASE_URL=url, UPLOAD_DIR=upload_dir, APP_ENV="production", SECRET_KEY="t" * 40,
                       RATE_LIMIT_WRITES_PER_MINUTE="1000000", PHOTO_DAILY_COUNT="1000000", PHOTO_DAILY_MB="100000",
                       LOG_LEVEL="warning")
        app_env.pop("WECHAT_APPID", None)
        server, base = serve(ROOT, "wsgi:app", app_env)
        api = base + "/api/v1"

        def auth(actor):
            return {"Authorization": "Bearer " + actor["token"]}

        try:
            # Reference rows (no goal): the app's floor (framework + one trivial query) and what
            # authenticating against the database alone leaves of bare Flask.
            results["(floor) GET /health"] = wrk(f"{api}/health", args.seconds)
            results["(floor) GET /me"] = wrk(f"{api}/me", args.seconds, lua(tmp, "me", headers=auth(owner)))
            results["GET /shops/{id}"] = wrk(f"{api}/shops/{shop.id}", args.seconds,
                                             lua(tmp, "shop", headers=auth(owner)))
            results["GET /shops?per_page=20"] = wrk(f"{api}/shops?per_page=20", args.seconds,
                                                    lua(tmp, "shops", headers=auth(owner)))
            results["GET /patrol"] = wrk(f"{api}/patrol?lat={shop.lat}&lng={shop.lng}", args.seconds,
                                         lua(tmp, "patrol", headers=auth(inspector)))
            when = (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(hours=1)).replace(
                microsecond=0).isoformat()
            slip = {"handed_over_at": when, "waste_type": "kitchen_waste", "bins": 1, "declared_kg": 40,
                    "collector_company_id": owner["companies"][shop.id]}
            results["POST /shops/{id}/handovers"] = wrk(
                f"{api}/shops/{shop.id}/handovers", args.seconds,
                lua(tmp, "slip", "POST", dict(auth(owner), **{"Content-Type": "application/json"}), slip))
            pending = requests.get(f"{api}/handovers?status=pending&per_page=100", headers=auth(collector),
                                   timeout=30).json()
            ids, page = [item["id"] for item in pending["items"]], 2
            while len(ids) < pending["total"]:
                more = requests.get(f"{api}/handovers?status=pending&per_page=100&page={page}",
                                    headers=auth(collector), timeout=30).json()["items"]
                if not more:
                    break
                ids += [item["id"] for item in more]
                page += 1
            # Slips still being committed by the last in-flight POSTs shift the pages: an id may be listed twice.
            ids = list(dict.fromkeys(ids))
            slip_rate = results["POST /shops/{id}/handovers"]["rps"]
            confirm_seconds = run_for(len(ids), slip_rate, args.seconds)  # each slip is confirmed once
            results["POST /handovers/{id}/confirm"] = wrk(
                api + "/", confirm_seconds,
                lua(tmp, "confirm", "POST", dict(auth(collector), **{"Content-Type": "application/json"}),
                    {"weighed_kg": 41}, paths=[f"/api/v1/handovers/{i}/confirm" for i in ids]))
            pairs = photo_pairs(api, auth(owner), args.cleanings)
            today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
            results["POST /shops/{id}/cleanings"] = wrk(
                f"{api}/shops/{shop.id}/cleanings", run_for(len(pairs), slip_rate, args.seconds),
                lua(tmp, "cleaning", "POST", dict(auth(owner), **{"Content-Type": "application/json"}),
                    bodies=[{"cleaned_on": today, "parts": ["purifier", "hood"], "performed_by": "self",
                             "before_photo_ids": [before], "after_photo_ids": [after]} for before, after in pairs]))
        finally:
            server.terminate()
            server.wait()
        check = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "facts", "check"], cwd=ROOT,
                               env=app_env, capture_output=True, text=True)
        verify = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify"], cwd=ROOT,
                                env=app_env, capture_output=True, text=True)
    bare = results["bare Flask jsonify"]["rps"]
    print(f"gunicorn -w 2 -k sync, wrk -t2 -c16, up to {args.seconds} s each (s: as run), {url.split(':')[0]}, {args.shops} shops")
    print(f"{'endpoint':32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'goal':>6} {'non-2xx':>8} {'s':>5}")
    for name, r in results.items():
        goal = GOALS.get(name)
        print(f"{name:32} {r['rps']:8.0f} {r['p50'] or 0:8.2f} {r['p99'] or 0:8.2f} {r['rps'] / bare:6.2f} "
              f"{goal if goal else '':>6} {r['failed']:8} {r['seconds']:5.1f}")
    print(f"after the load: facts check exit {check.returncode}, audit verify exit {verify.returncode}")
    if check.returncode or verify.returncode:
        print(check.stdout[-500:], check.stderr[-500:], verify.stdout[-500:], verify.stderr[-500:])
        sys.exit(1)


if __name__ == "__main__":
    main()
