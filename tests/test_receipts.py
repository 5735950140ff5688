"""Exports that prove themselves: a signed receipt of exactly the bytes served, checked offline
with the public key and by `exports verify`; and the shops as GeoJSON."""
import base64
import datetime as dt
import hashlib
import json
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from geojson_pydantic import FeatureCollection
from sqlalchemy import select

from server.clock import utcnow
from server.extensions import db
from server.models import AuditEntry, ExportReceipt
import requests

from tests.helpers import error_of, gunicorn_serving

HOUR = dt.timedelta(hours=1)
EXPORTS = [f"/api/v1/exports/{kind}.{fmt}" for kind in ("compliance", "cleanings", "handovers", "inspections",
                                                         "negative-list") for fmt in ("csv", "xlsx")]
EXPORTS.append("/api/v1/exports/shops.geojson")


@pytest.fixture
def shops(city):
    made = [city.shop(n + 1) for n in range(3)]
    city.slip(made[0], utcnow() - HOUR, kg=40, received=utcnow())
    city.cleaning(made[1], utcnow().date())
    city.inspection(made[2], utcnow() - HOUR, fails=["P1"])
    return made


def offline_check(receipt, data, public_key_b64):
    """What a court's expert does without this system: hash the file, rebuild the canonical JSON,
    check the Ed25519 signature with the published key."""
    assert hashlib.sha256(data).hexdigest() == receipt["sha256"] and len(data) == receipt["bytes"]
    unsigned = {k: v for k, v in receipt.items() if k != "signature"}
    message = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    key.verify(base64.b64decode(receipt["signature"]), message)  # raises when it does not hold


@pytest.mark.parametrize("url", EXPORTS)
def test_every_export_has_a_signed_receipt_of_its_bytes(client, shops, login_as, url):
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    response = client.get(url + "?district_code=370811", headers=regulator)
    assert response.status_code == 200
    data = response.get_data()
    receipt = client.get(f"/api/v1/exports/receipts/{response.headers['X-Export-Receipt']}",
                         headers=regulator).get_json()
    assert receipt["complete"] is True and receipt["filters"] == {"district_code": "370811"}
    kind, fmt = url.rsplit("/", 1)[1].split(".")
    assert (receipt["kind"], receipt["format"]) == (kind, fmt)
    if kind in ("compliance", "shops"):
        assert receipt["rows"] == 3
    head = db.session.scalars(select(AuditEntry).where(AuditEntry.id == receipt["audit_head"]["id"])).one()
    assert head.hash == receipt["audit_head"]["hash"]
    public = client.get("/api/v1/exports/public-key").get_json()  # no login needed
    assert public["key_id"] == receipt["key_id"]
    offline_check(receipt, data, public["public_key"])
    # The completion is itself an audit entry naming the file's hash.
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export_receipt")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.object_id == receipt["id"] and receipt["sha256"] in entry.summary


def test_receipts_complete_over_a_real_server(app, app_config, make_shop, login_as):
    make_shop()  # the real clock here: the server's tokens must not have expired
    _, regulator = login_as("regulator", jurisdiction=None)
    db.session.remove()  # let the server's worker have the database
    with gunicorn_serving(app_config) as base:
        for url in ("/exports/compliance.csv", "/exports/handovers.xlsx", "/exports/shops.geojson"):
            response = requests.get(base + url, headers=regulator, timeout=60)
            assert response.status_code == 200, response.text
            receipt = requests.get(f"{base}/exports/receipts/{response.headers['X-Export-Receipt']}",
                                   headers=regulator, timeout=30).json()
            assert receipt["complete"] and receipt["sha256"] == hashlib.sha256(response.content).hexdigest()


def run_verify(app, *args):
    return app.test_cli_runner().invoke(args=["exports", "verify", *args])


def export_to(tmp_path, client, headers, name="list.csv"):
    response = client.get("/api/v1/exports/compliance.csv", headers=headers)
    path = tmp_path / name
    path.write_bytes(response.get_data())
    receipt = client.get(f"/api/v1/exports/receipts/{response.headers['X-Export-Receipt']}", headers=headers)
    receipt_path = tmp_path / "receipt.json"
    receipt_path.write_text(receipt.get_data(as_text=True))
    return path, receipt.get_json(), receipt_path


def test_verify_accepts_the_file_and_names_each_kind_of_tampering(app, client, shops, login_as, tmp_path):
    _, regulator = login_as("regulator", jurisdiction=None)
    path, receipt, receipt_path = export_to(tmp_path, client, regulator)
    assert run_verify(app, str(path), "--receipt", str(receipt_path)).exit_code == 0
    found = run_verify(app, str(path))  # the receipt found by the file's hash
    assert found.exit_code == 0 and f"回执 {receipt['id']}" in found.output

    tampered = tmp_path / "tampered.csv"
    tampered.write_bytes(path.read_bytes().replace("店1".encode(), "店9".encode()))
    result = run_verify(app, str(tampered), "--receipt", str(receipt_path))
    assert result.exit_code == 1 and "文件已被改动" in result.output
    assert "找不到" in run_verify(app, str(tampered)).output

    forged = dict(receipt, rows=receipt["rows"] + 1)
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    result = run_verify(app, str(path), "--receipt", str(tmp_path / "forged.json"))
    assert result.exit_code == 1 and "签名无效" in result.output

    other = Ed25519PrivateKey.generate()
    raw = other.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    foreign = dict(receipt, key_id=hashlib.sha256(raw).hexdigest()[:16])
    unsigned = {k: v for k, v in foreign.items() if k != "signature"}
    foreign["signature"] = base64.b64encode(other.sign(json.dumps(
        unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())).decode()
    (tmp_path / "foreign.json").write_text(json.dumps(foreign))
    result = run_verify(app, str(path), "--receipt", str(tmp_path / "foreign.json"))
    assert result.exit_code == 1 and "另一把密钥" in result.output and "签名无效" in result.output

    (tmp_path / "junk.json").write_text("[1, 2")
    assert run_verify(app, str(path), "--receipt", str(tmp_path / "junk.json")).exit_code == 2


def test_verify_fails_when_the_audit_chain_under_the_head_was_rewritten(app, client, shops, login_as, tmp_path):
    _, regulator = login_as("regulator", jurisdiction=None)
    path, receipt, receipt_path = export_to(tmp_path, client, regulator)
    entry_id = receipt["audit_head"]["id"]
    # Triggers refuse UPDATE on the chain; a tamperer with the database owner's rights drops them first.
    postgres = db.session.get_bind().dialect.name == "postgresql"
    connection = db.session.connection()
    connection.exec_driver_sql("ALTER TABLE audit_entries DISABLE TRIGGER USER" if postgres
                               else "DROP TRIGGER IF EXISTS audit_entries_no_update")
    connection.exec_driver_sql(f"UPDATE audit_entries SET summary = 'rewritten' WHERE id = {entry_id}")
    db.session.commit()
    try:
        result = run_verify(app, str(path), "--receipt", str(receipt_path))
        assert result.exit_code == 1 and "审计链" in result.output
    finally:
        if postgres:  # the database outlives the test
            db.session.connection().exec_driver_sql("ALTER TABLE audit_entries ENABLE TRIGGER USER")
            db.session.commit()


def test_an_interrupted_download_leaves_the_receipt_incomplete(client, shops, login_as, tmp_path):
    _, regulator = login_as("regulator", jurisdiction=None)
    response = client.get("/api/v1/exports/compliance.csv", headers=regulator, buffered=False)
    receipt_id = response.headers["X-Export-Receipt"]
    first = next(iter(response.response))
    assert first.startswith(b"\xef\xbb\xbf")
    response.close()  # the client went away after the first chunk
    db.session.expire_all()
    receipt = client.get(f"/api/v1/exports/receipts/{receipt_id}", headers=regulator).get_json()
    assert receipt["complete"] is False and receipt["sha256"] is None and receipt["signature"] is None


def test_only_the_exporter_and_an_admin_read_a_receipt(client, shops, login_as):
    _, regulator = login_as("regulator", jurisdiction=None)
    response = client.get("/api/v1/exports/compliance.csv", headers=regulator)
    response.get_data()
    receipt_id = response.headers["X-Export-Receipt"]
    _, colleague = login_as("regulator", jurisdiction=None)
    error_of(client.get(f"/api/v1/exports/receipts/{receipt_id}", headers=colleague), 404)
    _, owner = login_as()
    error_of(client.get(f"/api/v1/exports/receipts/{receipt_id}", headers=owner), 404)
    error_of(client.get("/api/v1/exports/receipts/999999", headers=regulator), 404)
    error_of(client.get(f"/api/v1/exports/receipts/{receipt_id}"), 401)
    admin_user, admin = login_as("admin", jurisdiction=None)
    assert client.get(f"/api/v1/exports/receipts/{receipt_id}", headers=admin).get_json()["complete"]
    db.session.rollback()
    assert db.session.get(ExportReceipt, int(receipt_id)).exported_by_id != admin_user.id


def test_a_configured_signing_key_signs_and_a_bad_one_refuses_to_start(make_app, app_config):
    from server.config import ConfigError

    raw = base64.b64encode(bytes(range(32))).decode()
    other = make_app({**app_config, "EXPORT_SIGNING_KEY": raw})
    expected = Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)
    assert other.test_client().get("/api/v1/exports/public-key").get_json()["public_key"] == \
        base64.b64encode(expected).decode()
    with pytest.raises(ConfigError):
        make_app({**app_config, "EXPORT_SIGNING_KEY": "not-base64!"})


# --- GeoJSON ----------------------------------------------------------------------------------

def test_the_geojson_is_rfc_7946_with_lng_lat_and_scoped(client, city, login_as):
    here = city.shop(1)
    away = city.shop(2)
    away.district_code = "370812"
    city.save()
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    response = client.get("/api/v1/exports/shops.geojson", headers=regulator)
    assert response.headers["Content-Type"].startswith("application/geo+json")
    collection = FeatureCollection.model_validate_json(response.get_data())  # raises when not RFC 7946
    [feature] = response.get_json()["features"]
    assert len(collection.features) == 1 and feature["properties"]["id"] == here.id
    assert feature["geometry"]["coordinates"] == [round(here.lng, 7), round(here.lat, 7)]  # [lng, lat], WGS-84
    assert set(feature["properties"]) == {"id", "name", "district_code", "grade", "purifier_status", "waste_status",
                                          "priority", "flags"}
    _, inspector = login_as("inspector", jurisdiction=["370812"])
    ids = [f["id"] for f in client.get("/api/v1/exports/shops.geojson", headers=inspector).get_json()["features"]]
    assert ids == [away.id]
    _, owner = login_as()
    error_of(client.get("/api/v1/exports/shops.geojson", headers=owner), 403)


def test_the_geojson_takes_the_shops_filters(client, city, login_as):
    for n in range(4):
        city.shop(n + 1, installed=n % 2 == 0)
    _, regulator = login_as("regulator", jurisdiction=None)
    graded = client.get("/api/v1/exports/shops.geojson?purifier_status=no_purifier", headers=regulator).get_json()
    assert len(graded["features"]) == 2
    assert {f["properties"]["purifier_status"] for f in graded["features"]} == {"no_purifier"}
    near = client.get("/api/v1/exports/shops.geojson?near=35.4152,116.5872&radius_m=5", headers=regulator).get_json()
    assert [f["properties"]["name"] for f in near["features"]] == ["店1"]
    empty = client.get("/api/v1/exports/shops.geojson?q=没有这家店", headers=regulator)
    assert empty.get_json() == {"type": "FeatureCollection", "features": []}
    error_of(client.get("/api/v1/exports/shops.geojson?grade=D", headers=regulator), 422)


def readme_recipe():
    """The README's offline verification recipe, as a reader would copy it."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("**Verifying without this system**"):]
    block = block[block.index("```python") + len("```python"):]
    return textwrap.dedent(block[:block.index("```")])


def test_a_receipt_with_a_key_given_twice_or_a_field_added_is_refused_by_verify_and_the_readme(
        app, client, shops, login_as, tmp_path, monkeypatch):
    _, regulator = login_as("regulator", jurisdiction=None)
    path, receipt, receipt_path = export_to(tmp_path, client, regulator, name="compliance.csv")
    public_key = client.get("/api/v1/exports/public-key").get_json()["public_key"]
    recipe = readme_recipe()
    monkeypatch.chdir(tmp_path)
    exec(recipe, {"PUBLIC_KEY": public_key})  # the genuine receipt passes the recipe
    raw = json.dumps(receipt, ensure_ascii=False)
    forgeries = {
        # A reader (and a viewer showing the first) sees 9999 rows; json.load keeps the last, which is signed.
        "repeated": '{"rows": 9999, ' + raw[1:],
        "repeated inside": raw.replace('"audit_head": {', '"audit_head": {"id": 1, ', 1),
        "added": raw[:-1] + ', "note": "经审核无误"}',
    }
    for name, text in forgeries.items():
        assert json.loads(text)["signature"] == receipt["signature"], name
        forged = tmp_path / "receipt.json"
        forged.write_text(text, encoding="utf-8")
        result = run_verify(app, str(path), "--receipt", str(forged))
        assert result.exit_code == 2 and "核验失败" in result.output, (name, result.output)
        with pytest.raises(AssertionError):
            exec(recipe, {"PUBLIC_KEY": public_key})
    receipt_path.write_text(raw, encoding="utf-8")
    assert run_verify(app, str(path), "--receipt", str(receipt_path)).exit_code == 0
