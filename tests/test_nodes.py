"""The system on several machines: two gunicorn app servers on different ports, each with a local
folder of its own (which must not matter), sharing one database and one S3 bucket (a real SeaweedFS).

On PostgreSQL this is the production shape; on SQLite the two servers share the file, which is as
far as SQLite goes on one machine.
"""
import datetime as dt
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEntry, Handover, Photo
from server.storage import storage_for
from tests.helpers import gunicorn_serving, server_environment, stored_names
from tests.test_races import all_checks_pass, now_text

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app_config(app_config, s3_settings):
    return {**app_config, **s3_settings}


@pytest.fixture
def nodes(app, app_config, tmp_path):
    """Two app servers: ``(base_a, base_b)``.  Writes limited to 8 a minute per user, shared."""
    db.session.remove()
    settings = {"RATE_LIMIT_WRITES_PER_MINUTE": "8", "WEB_CONCURRENCY": "2"}
    with gunicorn_serving(app_config, UPLOAD_DIR=str(tmp_path / "node-a"), **settings) as a, \
            gunicorn_serving(app_config, UPLOAD_DIR=str(tmp_path / "node-b"), **settings) as b:
        yield a, b


def jpeg(seed):
    from tests.images import encode, scene
    return encode(scene(seed))


def upload(base, headers, seed):
    response = requests.post(base + "/photos", headers=headers, files={"file": ("p.jpg", jpeg(seed), "image/jpeg")},
                             timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def origin(base):
    return base.removesuffix("/api/v1")


def test_a_photo_uploaded_on_one_server_is_served_by_the_other(app, login_as, nodes, tmp_path):
    a, b = nodes
    _user, headers = login_as()
    db.session.remove()
    photo = upload(a, headers, 1)
    served = []
    for link in (photo["url"], photo["thumb_url"]):
        from_a = requests.get(origin(a) + link, timeout=10)
        from_b = requests.get(origin(b) + link, timeout=10)  # a signed link, no token: the link is the permission
        assert from_a.status_code == from_b.status_code == 200 and from_a.content == from_b.content
        served.append(from_a.content)
    assert requests.get(f"{b}/photos/{photo['id']}", headers=headers, timeout=10).content == served[0]
    assert not any((tmp_path / node).exists() and any((tmp_path / node).rglob("*.*")) for node in ("node-a", "node-b"))
    row = db.session.get(Photo, photo["id"])
    assert {row.original_name, row.display_name, row.thumb_name} <= stored_names(app)


def test_a_slip_started_on_one_server_is_confirmed_on_the_other_once(app, client, contracted, nodes):
    a, b = nodes
    key = str(uuid.uuid4())
    body = {"handed_over_at": now_text(), "waste_type": "kitchen_waste", "bins": 2, "declared_kg": 40,
            "collector_company_id": contracted.company_id}
    db.session.remove()
    url = f"/shops/{contracted.shop_id}/handovers"
    first = requests.post(a + url, json=body, headers={**contracted.owner, "Idempotency-Key": key}, timeout=30)
    replay = requests.post(b + url, json=body, headers={**contracted.owner, "Idempotency-Key": key}, timeout=30)
    assert first.status_code == replay.status_code == 201 and first.json() == replay.json()
    reused = requests.post(b + url, json={**body, "bins": 3}, headers={**contracted.owner, "Idempotency-Key": key},
                           timeout=30)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    slip = first.json()["id"]
    confirmed = requests.post(f"{b}/handovers/{slip}/confirm", json={"weighed_kg": 41}, headers=contracted.collector,
                              timeout=30)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    again = requests.post(f"{a}/handovers/{slip}/confirm", json={"weighed_kg": 41}, headers=contracted.collector,
                          timeout=30)
    assert again.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Handover)
                             .where(Handover.shop_id == contracted.shop_id)) == 1
    db.session.remove()  # SQLite: the servers need the write lock the test's read took
    listed = requests.get(f"{a}/shops/{contracted.shop_id}/handovers", headers=contracted.owner, timeout=30).json()
    assert "items" in listed, listed
    assert [(h["id"], h["status"], h["weighed_kg"]) for h in listed["items"]], listed == [(slip, "confirmed", 41)]
    all_checks_pass(app)  # the shops' facts equal their records; the audit trail is one unbroken chain


def test_the_write_limit_is_one_count_across_both_servers(app, login_as, nodes):
    a, b = nodes
    _user, headers = login_as()
    db.session.remove()
    if 60 - dt.datetime.now().second < 15:  # stay inside one fixed one-minute window
        time.sleep(60 - dt.datetime.now().second + 1)
    codes = [requests.post(f"{(a, b)[n % 2]}/me/privacy-consent", json={"version": "2024-01"}, headers=headers,
                           timeout=30).status_code for n in range(10)]
    assert codes[:8] == [200] * 8 and codes[8:] == [429, 429], codes


def test_retention_run_on_both_machines_at_once_removes_each_thing_once(app, app_config, login_as, nodes, tmp_path):
    a, _b = nodes
    _user, headers = login_as()
    db.session.remove()
    orphans = [upload(a, headers, 10 + n)["id"] for n in range(3)]
    db.session.execute(sa.update(Photo).where(Photo.id.in_(orphans))
                       .values(received_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)))
    db.session.commit()
    names = {n for p in db.session.scalars(sa.select(Photo)) for n in (p.original_name, p.display_name, p.thumb_name)}
    db.session.remove()
    runs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "retention", "run"], cwd=ROOT,
                             env=server_environment(app_config, UPLOAD_DIR=str(tmp_path / node)),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for node in ("node-a", "node-b")]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    removed = sum(int(line.split(":")[1]) for out in outputs for line in out.splitlines()
                  if line.strip().startswith("orphan_photos:"))
    assert removed == 3, outputs
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0
    assert not names & stored_names(app)
    runs_recorded = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                      .where(AuditEntry.action == "retention.run"))
    assert runs_recorded == sum("保存期限清理完成" in out for out in outputs) >= 1
    assert storage_for(app).url.startswith("s3://")
