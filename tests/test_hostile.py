"""Hostile inputs that once cost seconds or answered 500: each is a clear 4xx in the error shape,
fast, and nothing is stored or logged as a crash."""
import json
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from server.extensions import db
from server.models import Photo
from server.services.photos import imaging
from tests.images import encode
from tests.test_photos import upload


@pytest.fixture
def owner(login_as):
    return login_as()


def png_claiming(width, height, rows=10):
    """A tiny PNG whose header claims ``width`` × ``height`` and whose pixels stop after ``rows``."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixels = zlib.compress(b"\x00" * (rows * (1 + width)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


# --- images -------------------------------------------------------------------------------------

@pytest.mark.parametrize("width,height,why", [
    (1, 40_000_000, "尺寸异常"),       # 69 bytes claiming a 40-megapixel column: once 13-16 s of CPU
    (40_000_000, 1, "尺寸异常"),
    (20_001, 100, "尺寸异常"),          # one side too long
    (6000, 6000, "不完整"),             # a complete zlib stream that ends after 10 rows of 6,000
    (3000, 100, "尺寸异常"),            # 30:1
])
def test_odd_shapes_and_truncated_pngs_are_refused_before_decoding(client, owner, monkeypatch, width, height,
                                                                   why):
    _, headers = owner
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self.size))
    response = upload(client, headers, png_claiming(width, height), filename="x.png", content_type="image/png")
    assert response.status_code == 422 and why in response.get_json()["error"]["message"]
    assert decoded == []  # refused from the header and the compressed stream, no pixels decoded
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_panoramas_and_every_png_kind_are_still_accepted(client, owner):
    _, headers = owner
    for n, (size, mode) in enumerate([((8000, 2000), "RGB"), ((600, 400), "P"), ((600, 400), "LA"),
                                      ((600, 400), "1"), ((600, 400), "I;16")]):
        image = Image.new(mode, size)
        image.putpixel((n, n), 1)
        assert upload(client, headers, encode(image, "PNG"), filename="p.png").status_code == 201, (size, mode)
    interlaced = Image.new("RGB", (300, 200), (200, 30, 30))
    import io
    buffer = io.BytesIO()
    interlaced.save(buffer, "PNG", interlace=1)
    assert upload(client, headers, buffer.getvalue(), filename="i.png").status_code == 201


def test_no_image_work_happens_inside_a_transaction(client, owner, monkeypatch):
    """On SQLite a transaction holds the write lock: a slow decode must not stall everyone."""
    _, headers = owner
    seen = []
    real = imaging.process

    def watched(data):
        seen.append(db.session().in_transaction())
        return real(data)

    monkeypatch.setattr(imaging, "process", watched)
    assert upload(client, headers, encode(Image.new("RGB", (64, 48), (1, 2, 3)))).status_code == 201
    assert seen == [False]


# --- bodies that once answered 500 ---------------------------------------------------------------

NESTED = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize("path", ["/api/v1/auth/wechat-login", "/api/v1/shops", "/api/v1/auth/password-login"])
def test_deeply_nested_json_is_400(client, owner, path):
    _, headers = owner
    for body in (NESTED, '{"code": ' + "[" * 40 + "]" * 40 + "}"):
        response = client.post(path, data=body, content_type="application/json", headers=headers)
        assert response.status_code == 400, response.get_data(as_text=True)
        assert "嵌套层数" in response.get_json()["error"]["message"]


SURROGATE_CASES = [
    ("/api/v1/auth/wechat-login", {"code": "dev-\ud800"}),
    ("/api/v1/auth/password-login", {"username": "\ud800", "password": "x"}),
    ("/api/v1/shops", {"name": "\udfff店"}),
    ("/api/v1/shops/claim", {"code": "\ud800"}),
    ("/api/v1/auth/redeem-invitation", {"code": "\ud800\ud800"}),
]


@pytest.mark.parametrize("path,body", SURROGATE_CASES)
def test_a_lone_surrogate_in_any_string_is_400(client, owner, path, body):
    import json
    _, headers = owner
    raw = json.dumps(body)  # escapes them as \\ud800, as a hostile client sends them
    response = client.post(path, data=raw, content_type="application/json", headers=headers)
    assert response.status_code == 400 and "代理项" in response.get_json()["error"]["message"]


def test_a_real_emoji_pair_is_still_text(client, owner):
    _, headers = owner
    from tests.helpers import shop_body
    response = client.post("/api/v1/shops", json=shop_body(61, name="烧烤😀店"), headers=headers)
    assert response.status_code == 201 and response.get_json()["name"] == "烧烤😀店"


def test_a_partial_purifier_patch_keeps_the_other_fields(client, make_shop, login_as):
    made = make_shop(purifier={"installed": True, "model": "JH-1", "rated_efficiency": 90})
    asked = client.patch(f"/api/v1/shops/{made.shop_id}", json={"purifier": {"model": "X"}}, headers=made.owner)
    assert asked.status_code == 202  # the manager's purifier change waits for staff
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    applied = client.patch(f"/api/v1/shops/{made.shop_id}", json={"purifier": {"rated_efficiency": 95}},
                           headers=regulator)
    assert applied.status_code == 200, applied.get_data(as_text=True)
    purifier = applied.get_json()["purifier"]
    assert (purifier["installed"], purifier["model"], purifier["rated_efficiency"]) == (True, "JH-1", 95.0)


def test_a_rectification_answer_photo_is_served_to_the_reviewer_and_404_to_outsiders(client, make_shop, login_as):
    from tests.helpers import upload_photo
    from tests.test_inspections import NEAR, items
    made = make_shop()
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    filed = client.post(f"/api/v1/shops/{made.shop_id}/inspections", headers=inspector, json={
        "inspected_at": "2026-12-01T09:00:00+08:00", **NEAR, "items": items(client, inspector, ["P2"])})
    order = filed.get_json()["rectification"]["id"]
    photo = upload_photo(client, made.owner, 77)
    assert client.post(f"/api/v1/rectifications/{order}/responses", headers=made.owner,
                       json={"note": "已整改", "photo_ids": [photo]}).status_code == 200
    assert client.get(f"/api/v1/photos/{photo}", headers=inspector).status_code == 200
    _, outsider = login_as("inspector", jurisdiction=["370812"])
    assert client.get(f"/api/v1/photos/{photo}", headers=outsider).status_code == 404


# --- the roster import's budget -------------------------------------------------------------------

def import_file(client, headers, data, name):
    import io
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), name)})
    return client.post("/api/v1/shops/import", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


HEADER = "名称,统一社会信用代码,地址,区县代码,纬度,经度,基准灶头数\n"


def test_a_csv_field_over_the_limit_is_422_naming_the_line(client, login_as):
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    data = (HEADER + "店,91350100M000100Y43,路,370811,35.4,116.5,3\n" + "x" * 140_000 + ",a,b,370811,1,2,3\n").encode()
    response = import_file(client, regulator, data, "r.csv")
    assert response.status_code == 422 and "第 3 行" in response.get_json()["error"]["message"]


def _xlsx(dimension=None, rows=3):
    import io
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    for n in range(rows):
        sheet.append([f"店{n}", "91350100M000100Y43", f"路{n}号", "370811", 35.4, 116.5, 3])
    buffer = io.BytesIO()
    book.save(buffer)
    if dimension is None:
        return buffer.getvalue()
    # Rewrite the sheet's declared dimension, as a hostile (or broken) generator would.
    import zipfile
    source, out = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                import re
                content = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>'.encode(), content)
            target.writestr(item, content)
    return out.getvalue()


def test_an_xlsx_declaring_every_column_reads_only_its_own(client, login_as):
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    decided = []
    from openpyxl.worksheet import _read_only
    real = _read_only.ReadOnlyWorksheet._cells_by_row

    def counted(self, min_col, min_row, max_col, max_row, values_only=False):
        decided.append(max_col)
        return real(self, min_col, min_row, max_col, max_row, values_only)

    import unittest.mock
    with unittest.mock.patch.object(_read_only.ReadOnlyWorksheet, "_cells_by_row", counted):
        response = import_file(client, regulator, _xlsx("A1:XFD1048576"), "r.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["created"] == 3 and decided and max(decided) <= 40


def test_an_xlsx_zip_bomb_is_413_before_it_is_inflated(client, login_as):
    import io
    import zipfile
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in zipfile.ZipFile(io.BytesIO(_xlsx())).infolist():
            archive.writestr(item.filename, zipfile.ZipFile(io.BytesIO(_xlsx())).read(item.filename))
        archive.writestr("xl/media/padding.bin", b"\x00" * (80 * 1024 * 1024))
    assert len(bomb.getvalue()) < 200_000
    response = import_file(client, regulator, bomb.getvalue(), "r.xlsx")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "payload_too_large"


# --- one photo, one record -------------------------------------------------------------------------

def _cleaning(client, shop_id, headers, before, after, day="2026-11-20", **extra):
    return client.post(f"/api/v1/shops/{shop_id}/cleanings", headers=headers, json={
        "cleaned_on": day, "parts": ["purifier"], "performed_by": "self", "before_photo_ids": before,
        "after_photo_ids": after, **extra})


def test_a_photo_is_evidence_of_one_record_only(client, make_shop, frozen_clock):
    from tests.helpers import upload_photo
    frozen_clock.set(__import__("datetime").datetime(2026, 12, 1, 2, 0, tzinfo=__import__("datetime").timezone.utc))
    made = make_shop()
    before, after = upload_photo(client, made.owner, 1), upload_photo(client, made.owner, 2)
    first = _cleaning(client, made.shop_id, made.owner, [before], [after], day="2026-10-01")
    assert first.status_code == 201
    # The same "after" photo 60 days later, and as both before and after of one cleaning: refused.
    again = _cleaning(client, made.shop_id, made.owner, [upload_photo(client, made.owner, 3)], [after])
    assert again.status_code == 422 and "另一条记录" in again.get_json()["error"]["fields"]["after_photo_ids"][0]
    fresh = upload_photo(client, made.owner, 4)
    both = _cleaning(client, made.shop_id, made.owner, [fresh], [fresh])
    assert both.status_code == 422 and "清洗前" in both.get_json()["error"]["fields"]["after_photo_ids"][0]
    invoice = _cleaning(client, made.shop_id, made.owner, [fresh], [upload_photo(client, made.owner, 5)],
                        invoice_photo_id=fresh)
    assert invoice.status_code == 422
    # A correction keeps its own photos: it is the same record's later version.
    corrected = client.post(f"/api/v1/cleanings/{first.get_json()['id']}/corrections", headers=made.owner, json={
        "reason": "日期写错", "cleaned_on": "2026-10-02", "parts": ["purifier"], "performed_by": "self",
        "before_photo_ids": [before], "after_photo_ids": [after]})
    assert corrected.status_code == 201, corrected.get_data(as_text=True)


def test_one_inspections_items_may_share_a_photo_but_not_with_another_record(client, make_shop, login_as):
    from tests.helpers import upload_photo
    from tests.test_inspections import NEAR, items
    made = make_shop()
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    photo = upload_photo(client, inspector, 50)
    body_items = items(client, inspector, ["P2", "W3"])
    for item in body_items:
        if item["code"] in ("P2", "W3"):
            item["photo_ids"] = [photo]
    filed = client.post(f"/api/v1/shops/{made.shop_id}/inspections", headers=inspector, json={
        "inspected_at": "2026-12-01T09:00:00+08:00", **NEAR, "items": body_items})
    assert filed.status_code == 201, filed.get_data(as_text=True)
    second = client.post(f"/api/v1/shops/{made.shop_id}/inspections", headers=inspector, json={
        "inspected_at": "2026-12-01T10:00:00+08:00", **NEAR, "items": body_items})
    assert second.status_code == 422


# --- coordinates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "/api/v1/shops?near=89.9,116.5&radius_m=50000", "/api/v1/shops?near=999,116.5",
    "/api/v1/patrol?lat=90&lng=116.5&radius_m=50000", "/api/v1/patrol?lat=-89.99&lng=0",
    "/api/v1/exports/shops.geojson?near=89.9,116.5&radius_m=50000",
])
def test_positions_outside_the_city_are_422_at_once(client, login_as, url):
    _, inspector = login_as("inspector", jurisdiction=None)
    _, regulator = login_as("regulator", jurisdiction=None)
    headers = inspector if "patrol" in url else regulator
    response = client.get(url, headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "本市范围" in str(response.get_json()["error"])


# --- people ------------------------------------------------------------------------------------------

def test_a_manager_who_deactivates_leaves_the_shop_claimable(client, make_shop, login_as):
    made = make_shop()
    assert client.post("/api/v1/me/deactivate", headers=made.owner).status_code == 204
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    code = client.post(f"/api/v1/shops/{made.shop_id}/claim-code", headers=inspector).get_json()["code"]
    _, successor = login_as()
    claimed = client.post("/api/v1/shops/claim", json={"code": code}, headers=successor)
    assert claimed.status_code == 200, claimed.get_data(as_text=True)
    members = client.get(f"/api/v1/shops/{made.shop_id}/members", headers=successor).get_json()
    assert [m["role"] for m in members] == ["manager"]


# --- collectors see their slips, while their contract runs --------------------------------------------

def test_a_collector_sees_slips_and_contracts_only_and_nothing_after_the_contract(client, contracted, login_as):
    import datetime as dt
    from server.clock import SHANGHAI
    now = dt.datetime.now(SHANGHAI).replace(microsecond=0)
    from server.models import Contract, PhotoLink
    from server.services import audit
    from tests.helpers import upload_photo
    from tests.test_inspections import NEAR, items
    c = contracted
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    assert client.post(f"/api/v1/shops/{c.shop_id}/inspections", headers=inspector, json={
        "inspected_at": (now - dt.timedelta(hours=1)).isoformat(), **NEAR, "items": items(client, inspector, ["P2"])}
    ).status_code == 201
    inspection_photo = db.session.scalar(select(PhotoLink.photo_id).where(PhotoLink.record_type == "inspection"))
    cleaning_photo = upload_photo(client, c.owner, 31)
    assert client.post(f"/api/v1/shops/{c.shop_id}/cleanings", headers=c.owner, json={
        "cleaned_on": now.date().isoformat(), "parts": ["purifier"], "performed_by": "self",
        "before_photo_ids": [upload_photo(client, c.owner, 30)], "after_photo_ids": [cleaning_photo]}
    ).status_code == 201
    slip = client.post(f"/api/v1/shops/{c.shop_id}/handovers", headers=c.collector, json={
        "handed_over_at": (now - dt.timedelta(hours=1)).isoformat(), "waste_type": "kitchen_waste", "bins": 1,
        "collector_company_id": c.company_id, "photo_ids": [upload_photo(client, c.collector, 32)]}).get_json()
    assert client.get(f"/api/v1/shops/{c.shop_id}", headers=c.collector).status_code == 200
    for photo in (cleaning_photo, inspection_photo):  # enforcement and the shop's own records: not theirs
        assert client.get(f"/api/v1/photos/{photo}", headers=c.collector).status_code == 404
    assert client.get(f"/api/v1/shops/{c.shop_id}/cleanings", headers=c.collector).get_json()["items"] == []
    contract = db.session.scalars(select(Contract)).one()  # the contract ended ten days ago
    contract.valid_from, contract.valid_until = now.date() - dt.timedelta(days=400), now.date() - dt.timedelta(days=10)
    audit.record("test.contract_end", "contract", contract.id, shop_id=c.shop_id)
    db.session.commit()
    assert client.get(f"/api/v1/shops/{c.shop_id}", headers=c.collector).status_code == 404
    assert client.get(f"/api/v1/shops/{c.shop_id}/handovers", headers=c.collector).status_code == 404
    listed = client.get("/api/v1/handovers", headers=c.collector).get_json()["items"]
    assert [s["id"] for s in listed] == [slip["id"]]  # the company's own ledger stays


def test_a_district_regulator_cannot_change_a_company_that_serves_another_district(client, make_company, login_as):
    shared = make_company(["370811", "370812"])
    own = make_company(["370811"], name="本区收运公司")
    _, district = login_as("regulator", jurisdiction=["370811"])
    refused = client.patch(f"/api/v1/collectors/{shared.id}", json={"licence_valid_until": "2024-01-01"},
                           headers=district)
    assert refused.status_code == 403 and "辖区以外" in refused.get_json()["error"]["message"]
    assert client.patch(f"/api/v1/collectors/{own.id}", json={"licence_valid_until": "2030-01-01"},
                        headers=district).status_code == 200
    _, city = login_as("regulator", jurisdiction=None)
    assert client.patch(f"/api/v1/collectors/{shared.id}", json={"licence_valid_until": "2030-01-01"},
                        headers=city).status_code == 200


# --- idempotent replays -----------------------------------------------------------------------------

def test_a_replay_is_authorised_again_and_stored_answers_hold_no_code_in_clear(client, login_as):
    from server.models import IdempotencyKey, User
    from server.services import audit
    regulator, headers = login_as("regulator", jurisdiction=["370811"])
    body = {"role": "inspector", "jurisdiction": ["370811"], "display_name": "新同事"}
    first = client.post("/api/v1/invitations", json=body, headers=dict(headers, **{"Idempotency-Key": "k-1"}))
    assert first.status_code == 201
    code = first.get_json()["code"]
    stored = db.session.scalars(select(IdempotencyKey)).one()
    assert code.encode() not in bytes(stored.body)  # sealed at rest
    again = client.post("/api/v1/invitations", json=body, headers=dict(headers, **{"Idempotency-Key": "k-1"}))
    assert again.status_code == 201 and again.get_json()["code"] == code  # the same answer, replayed
    demoted = db.session.get(User, regulator.id)
    demoted.role = "user"
    audit.record("test.demote", "user", demoted.id)
    db.session.commit()
    replay = client.post("/api/v1/invitations", json=body, headers=dict(headers, **{"Idempotency-Key": "k-1"}))
    assert replay.status_code == 403 and code not in replay.get_data(as_text=True)


# --- the edges of HTTP --------------------------------------------------------------------------------

def test_a_newline_in_the_path_never_reaches_the_access_log_raw(app, app_config, tmp_path):
    import requests
    from tests.helpers import gunicorn_serving
    log = tmp_path / "gunicorn.log"
    db.session.remove()
    with gunicorn_serving(app_config, log_path=log) as base:
        answer = requests.get(base + "/nothing%0a127.0.0.1 [forged] \"GET /admin HTTP/1.1\" 200", timeout=10)
        assert answer.status_code == 404
        requests.get(base + "/health", timeout=10)  # a line after it, so the first is flushed
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    assert not any(line.startswith("127.0.0.1 [forged]") for line in lines)
    assert any("/nothing\\x0a127.0.0.1 [forged]" in line for line in lines)


def test_signed_links_never_take_their_host_from_the_request(client, owner, make_app, app_config):
    _, headers = owner
    import io
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(encode(Image.new("RGB", (40, 30)))), "p.jpg")})
    response = client.post("/api/v1/photos", data=body, headers=dict(headers, Host="evil.example"),
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201
    assert response.get_json()["url"].startswith("/api/v1/photos/") and "evil" not in response.get_data(as_text=True)
    configured = make_app({**app_config, "PUBLIC_BASE_URL": "https://api.example.cn/"})
    with configured.test_request_context(headers={"Host": "evil.example"}):
        from server.services import photos
        assert photos.signed_url(1, "thumb").startswith("https://api.example.cn/api/v1/photos/1/thumb?")


def test_the_bearer_scheme_is_case_insensitive(client, owner):
    _, headers = owner
    token = headers["Authorization"].split(" ", 1)[1]
    for scheme in ("bearer", "BEARER", "BeArEr"):
        assert client.get("/api/v1/me", headers={"Authorization": f"{scheme} {token}"}).status_code == 200


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+08:00", "1999-12-31T23:59:00+08:00",
                                    "2100-01-01T00:00:00+08:00", "9999-12-31T23:59:59-12:00"])
def test_event_times_outside_2000_to_2099_are_422(client, contracted, login_as, moment):
    from tests.test_inspections import NEAR
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    filed = client.post(f"/api/v1/shops/{contracted.shop_id}/inspections", headers=inspector, json={
        "inspected_at": moment, **NEAR, "items": [{"code": "P1", "result": "pass"}]})
    assert filed.status_code == 422 and "inspected_at" in filed.get_json()["error"]["fields"]
    slip = client.post(f"/api/v1/shops/{contracted.shop_id}/handovers", headers=contracted.owner, json={
        "handed_over_at": moment, "waste_type": "kitchen_waste", "bins": 1,
        "collector_company_id": contracted.company_id})
    assert slip.status_code == 422 and "handed_over_at" in slip.get_json()["error"]["fields"]


def test_anonymous_wechat_logins_are_limited_per_client_address(make_app, app_config, fake_wechat):
    limited = make_app({**app_config, "RATE_LIMIT_WECHAT_LOGINS_PER_MINUTE": 3})
    client = limited.test_client()
    codes = [client.post("/api/v1/auth/wechat-login", json={"code": f"ok-limit-{n}"},
                         environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    other = client.post("/api/v1/auth/wechat-login", json={"code": "ok-limit-x"}, environ_base={"REMOTE_ADDR": "10.0.0.8"})
    assert other.status_code == 200


def test_gunicorns_own_refusals_are_in_the_error_shape(app, app_config):
    import socket
    from tests.helpers import gunicorn_serving
    db.session.remove()
    with gunicorn_serving(app_config) as base:
        host, port = base.split("//")[1].split("/")[0].split(":")
        for request_line, status in ((f"GET /{'a' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n", 414),
                                     ("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "b" * 9000 + "\r\n\r\n", 431)):
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                sock.sendall(request_line.encode())
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(f"HTTP/1.1 {status}".encode()) and b"application/json" in head, head
            assert json.loads(body)["error"]["code"] == "bad_request", answer[:400]


@pytest.mark.parametrize("url", ["/api/v1/shops?q=%00", "/api/v1/shops?district_code=37%0011",
                                 "/open311/v2/requests.json?service_code=fu%00me", "/console/login?next=%00"])
def test_a_nul_in_a_query_string_is_400_before_any_view(client, owner, url):
    response = client.get(url, headers=owner[1] if url.startswith("/api") else {})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
