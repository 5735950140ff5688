"""Photo evidence: verified by decoding, oriented, stripped, hashed, served only to who may see it."""
import datetime as dt
import io
import zipfile

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from server.extensions import db
from server.models import Photo
from server.services import photos as photo_service
from tests.helpers import error_of, stored_names
from tests.images import FIXTURES, encode, scene, with_gps_and_time, with_orientation

UPLOAD = "/api/v1/photos"


def upload(client, headers, data, filename="p.jpg", content_type="image/jpeg", **form):
    """POST a multipart upload as wx.uploadFile does (encoded in memory: werkzeug's test client
    would otherwise spool big bodies to a temporary file it never closes)."""
    fields = {k: str(v) for k, v in form.items()}
    fields["file"] = FileStorage(io.BytesIO(data), filename=filename, content_type=content_type)
    boundary, body = encode_multipart(fields)
    return client.post(UPLOAD, data=body, headers=headers, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def owner(login_as):
    return login_as()


def path_of(url):
    """A signed link's path and query (links are relative unless PUBLIC_BASE_URL is set)."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1] if "://" in url else url


def fetch(client, url):
    return client.get(path_of(url))


def stored_count():
    return db.session.scalar(select(func.count()).select_from(Photo))


def test_upload_returns_evidence_and_signed_links(client, owner, frozen_clock):
    _, headers = owner
    data = encode(scene(1))
    response = upload(client, headers, data, purpose="cleaning_after", source="camera",
                      lat="35.4151", lng="116.5872", captured_at="2024-03-22T09:29:00+08:00")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    import hashlib
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (body["width"], body["height"]) == (400, 300)
    assert body["received_at"] == "2024-03-22T09:30:00+08:00"
    assert body["client_gps"] == {"lat": 35.4151, "lng": 116.5872}
    assert body["captured_at"] == "2024-03-22T09:29:00+08:00" and body["captured_at_suspect"] is False
    assert body["gps"] is None and body["taken_at"] is None
    assert body["reused"] is False and body["reused_photo_id"] is None
    display = fetch(client, body["url"])
    assert display.status_code == 200 and display.mimetype == "image/jpeg"
    assert display.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in display.headers["Cache-Control"]
    thumb = Image.open(io.BytesIO(fetch(client, body["thumb_url"]).data))
    assert max(thumb.size) <= 320


def test_large_photos_are_scaled_for_display(client, owner):
    _, headers = owner
    body = upload(client, headers, encode(scene(2, size=(4000, 3000)))).get_json()
    assert (body["width"], body["height"]) == (4000, 3000)
    display = Image.open(io.BytesIO(fetch(client, body["url"]).data))
    assert display.size == (1600, 1200)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(client, owner, orientation):
    _, headers = owner
    body = upload(client, headers, with_orientation(orientation)).get_json()
    assert (body["width"], body["height"]) == (400, 300)
    image = Image.open(io.BytesIO(fetch(client, body["url"]).data)).convert("RGB")
    assert image.size == (400, 300)
    red, blue = image.getpixel((10, 10)), image.getpixel((390, 290))
    assert red[0] > 200 and red[2] < 60, red
    assert blue[2] > 200 and blue[0] < 60, blue


def test_exif_gps_and_capture_time_are_kept(client, owner):
    _, headers = owner
    body = upload(client, headers, with_gps_and_time(offset="+08:00")).get_json()
    assert body["gps"] == pytest.approx({"lat": 35.4151, "lng": 116.5872}, abs=1e-4)
    assert body["taken_at"] == "2024-03-22T09:30:00+08:00"


def test_malformed_exif_does_not_fail_the_upload(client, owner):
    _, headers = owner
    exif = Image.Exif()
    exif[0x8769] = {36867: "not a date at all"}
    bad_time = upload(client, headers, encode(scene(3), exif=exif.tobytes()))
    assert bad_time.status_code == 201 and bad_time.get_json()["taken_at"] is None
    good = with_gps_and_time()
    start = good.index(b"Exif\x00\x00")
    # Cut the EXIF block's IFD entries short, keeping the JPEG itself intact.
    broken = good[:start + 40] + b"\xff" * 20 + good[start + 60:]
    response = upload(client, headers, broken)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_no_metadata_or_payload_survives_in_served_copies(client, owner):
    _, headers = owner
    exif = Image.Exif()
    exif[0x010E] = "<?php system($_GET['c']); ?>"
    data = encode(scene(4), comment=b"<?php system($_GET['c']); ?>", exif=exif.tobytes(),
                  icc_profile=b"\0" * 128 + b"<?php icc ?>") + b"<?php trailing ?>"
    body = upload(client, headers, data).get_json()
    for url in (body["url"], body["thumb_url"]):
        served = fetch(client, url).data
        assert b"<?php" not in served and b"Exif" not in served and b"ICC_PROFILE" not in served
        assert served.endswith(b"\xff\xd9")
        image = Image.open(io.BytesIO(served))
        assert "comment" not in image.info and "exif" not in image.info and "icc_profile" not in image.info


def test_png_with_alpha_is_flattened_on_white(client, owner):
    _, headers = owner
    image = Image.new("RGBA", (100, 100), (255, 0, 0, 0))
    body = upload(client, headers, encode(image, "PNG"), filename="a.png", content_type="image/png").get_json()
    assert Image.open(io.BytesIO(fetch(client, body["url"]).data)).convert("RGB").getpixel((50, 50)) >= (250, 250, 250)


def test_webp_is_accepted_whatever_the_filename(client, owner):
    _, headers = owner
    response = upload(client, headers, encode(scene(5), "WEBP"), filename="x.txt", content_type="text/plain")
    assert response.status_code == 201


def heic():
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200


def jpeg_header_on(body):
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + body


def zip_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.php", "<?php ?>")
    return buffer.getvalue()


@pytest.mark.parametrize("data,status", [
    (b"GIF89a" + encode(scene(6), "GIF")[6:], 415),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 415),
    (b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF", 415),
    (heic(), 415),
    (b"<html><body>not an image</body></html>", 415),
    (jpeg_header_on(b"<html><script>alert(1)</script></html>"), 415),
    (jpeg_header_on(zip_bytes()), 415),
    (encode(scene(8))[:2000], 422),                       # truncated JPEG
    (encode(scene(9), "PNG")[:300], 422),                 # truncated PNG
    (encode(scene(10))[:600] + b"\x00" * 3000, 422),     # corrupt scan data
], ids=["gif", "svg", "pdf", "heic", "html", "jpeg-html", "jpeg-zip", "trunc-jpeg", "trunc-png", "corrupt"])
def test_hostile_and_unsupported_files_are_refused_and_nothing_is_stored(client, owner, app, data, status):
    _, headers = owner
    response = upload(client, headers, data)
    error = error_of(response, status)
    assert error["code"] == {415: "unsupported_media_type", 422: "validation_failed"}[status]
    assert stored_count() == 0
    assert stored_names(app) == set()


def test_decompression_bomb_is_422_without_decoding(client, owner):
    _, headers = owner
    bomb = encode(Image.new("1", (10_000, 10_000)), "PNG")  # 100 MP of almost nothing
    assert len(bomb) < 100_000
    assert error_of(upload(client, headers, bomb, filename="b.png"), 422)["code"] == "validation_failed"
    assert stored_count() == 0


def test_just_over_40_megapixels_is_422(client, owner):
    _, headers = owner
    big = encode(Image.new("L", (8000, 5001)), "PNG")
    assert "4000 万像素" in error_of(upload(client, headers, big, filename="b.png"), 422)["message"]


def test_over_10_mb_is_413(client, owner):
    _, headers = owner
    data = encode(scene(11)) + b"\0" * (10 * 1024 * 1024)
    assert error_of(upload(client, headers, data), 413)["code"] == "payload_too_large"
    huge = b"\0" * (12 * 1024 * 1024)
    assert error_of(upload(client, headers, huge), 413)["code"] == "payload_too_large"
    assert stored_count() == 0


@pytest.mark.parametrize("form", [
    {"source": "scanner"}, {"lat": "91", "lng": "116"}, {"lat": "35"}, {"lat": "nan", "lng": "1"},
    {"captured_at": "2024-03-22 09:30"}, {"purpose": "a\nb"}, {"surprise": "1"},
])
def test_bad_form_fields_are_422(client, owner, form):
    _, headers = owner
    error_of(upload(client, headers, encode(scene(12)), **form), 422)
    assert stored_count() == 0


def test_missing_file_is_422_and_login_is_required(client, owner):
    _, headers = owner
    assert "file" in error_of(client.post(UPLOAD, data={}, headers=headers, content_type="multipart/form-data"),
                              422)["fields"]
    error_of(client.post(UPLOAD, data={"file": (io.BytesIO(encode(scene(1))), "p.jpg")}), 401)
    as_text = client.post(UPLOAD, data={"file": "not a file"}, headers=headers, content_type="multipart/form-data")
    assert "file" in error_of(as_text, 422)["fields"]


def test_suspicious_client_capture_time_is_flagged(client, owner, frozen_clock):
    _, headers = owner
    future = upload(client, headers, encode(scene(13)), captured_at="2024-03-23T09:30:00+08:00").get_json()
    old = upload(client, headers, encode(scene(14)), captured_at="2024-01-01T09:30:00+08:00").get_json()
    assert future["captured_at_suspect"] and old["captured_at_suspect"]


def test_reuse_is_detected_across_users_by_bytes_and_by_look(client, login_as):
    _, first = login_as()
    _, second = login_as()
    original = scene(20, size=(1200, 900))
    first_id = upload(client, first, encode(original, quality=92)).get_json()["id"]
    same_bytes = upload(client, second, encode(original, quality=92)).get_json()
    assert same_bytes["reused"] and same_bytes["reused_photo_id"] == first_id
    chat_copy = original.resize((540, 405))
    recompressed = upload(client, second, encode(chat_copy, quality=55)).get_json()
    assert recompressed["reused"] and recompressed["reused_photo_id"] == first_id
    different = upload(client, second, encode(scene(21, size=(1200, 900)))).get_json()
    assert not different["reused"]


@pytest.mark.skipif(not FIXTURES.exists(), reason="../shared/fixtures/photos not present")
@pytest.mark.parametrize("name", ["landscape_6.jpg", "portrait_3.jpg", "portrait_8.jpg"])
def test_real_rotated_phone_photos_come_out_upright(client, owner, name):
    _, headers = owner
    body = upload(client, headers, (FIXTURES / name).read_bytes()).get_json()
    expected = Image.open(FIXTURES / name)
    from PIL import ImageOps
    upright = ImageOps.exif_transpose(expected)
    assert (body["width"], body["height"]) == upright.size
    served = Image.open(io.BytesIO(fetch(client, body["url"]).data))
    assert served.size == upright.size
    assert served.getexif().get(0x0112) is None


@pytest.mark.skipif(not FIXTURES.exists(), reason="../shared/fixtures/photos not present")
@pytest.mark.parametrize("name,lat,lng,taken", [
    ("DSCN0010.jpg", 43.4674, 11.8851, "2008-10-22T16:28:39+08:00"),
    ("DSCN0021.jpg", 43.4672, 11.8852, "2008-10-22T16:38:20+08:00"),
])
def test_real_photos_keep_their_gps_and_capture_time(client, owner, name, lat, lng, taken):
    _, headers = owner
    body = upload(client, headers, (FIXTURES / name).read_bytes()).get_json()
    assert body["gps"]["lat"] == pytest.approx(lat, abs=1e-3)
    assert body["gps"]["lng"] == pytest.approx(lng, abs=1e-3)
    assert body["taken_at"] == taken


@pytest.mark.skipif(not FIXTURES.exists(), reason="../shared/fixtures/photos not present")
def test_real_8_megapixel_phone_photo(client, owner):
    _, headers = owner
    body = upload(client, headers, (FIXTURES / "iphone_hdr_NO.jpg").read_bytes()).get_json()
    assert (body["width"], body["height"]) == (3264, 2448)
    assert Image.open(io.BytesIO(fetch(client, body["url"]).data)).size == (1600, 1200)


def test_another_user_gets_404(client, login_as, owner):
    _, headers = owner
    body = upload(client, headers, encode(scene(30))).get_json()
    _, stranger = login_as()
    error_of(client.get(f"/api/v1/photos/{body['id']}", headers=stranger), 404)
    error_of(client.get(f"/api/v1/photos/{body['id']}/thumb", headers=stranger), 404)
    assert client.get(f"/api/v1/photos/{body['id']}", headers=headers).status_code == 200
    error_of(client.get(f"/api/v1/photos/{body['id']}"), 401)


def test_tampered_or_expired_signatures_are_404(client, owner, frozen_clock):
    _, headers = owner
    body = upload(client, headers, encode(scene(31))).get_json()
    path = path_of(body["url"])
    assert client.get(path).status_code == 200
    error_of(client.get(path[:-1] + ("0" if path[-1] != "0" else "1")), 404)
    error_of(client.get(path.replace(f"/photos/{body['id']}?", f"/photos/{body['id']}/thumb?")), 404)
    frozen_clock.advance(dt.timedelta(minutes=31))
    error_of(client.get(path), 404)


def test_daily_quota_is_429_with_retry_after(app_config, make_app, make_user, frozen_clock):
    app = make_app(dict(app_config, PHOTO_DAILY_COUNT=2))
    client = app.test_client()
    with app.app_context():
        user = make_user()
        token = client.post("/api/v1/auth/wechat-login", json={"code": "ok-" + user.openid}).get_json()["token"]
    headers = {"Authorization": "Bearer " + token}
    assert upload(client, headers, encode(scene(40))).status_code == 201
    assert upload(client, headers, encode(scene(41))).status_code == 201
    response = upload(client, headers, encode(scene(42)))
    error_of(response, 429)
    assert int(response.headers["Retry-After"]) == 14 * 3600 + 30 * 60  # until midnight in Jining
    frozen_clock.advance(dt.timedelta(hours=15))
    assert upload(client, headers, encode(scene(43))).status_code == 201


def test_attach_checks_existence_and_uploader(client, app, login_as):
    owner, headers = login_as()
    _, other_headers = login_as()
    mine = upload(client, headers, encode(scene(50))).get_json()["id"]
    theirs = upload(client, other_headers, encode(scene(51))).get_json()["id"]
    from server.errors import ApiError
    with pytest.raises(ApiError) as refused:
        photo_service.attach([mine, theirs], "cleaning", 1, "after", uploaders={owner.id}, field="after_photo_ids")
    assert "after_photo_ids" in refused.value.fields
    db.session.rollback()
    with pytest.raises(ApiError):
        photo_service.attach([mine, 99999], "cleaning", 1, "after", uploaders={owner.id})
    db.session.rollback()
    assert [p.id for p in photo_service.attach([mine], "cleaning", 1, "after", uploaders={owner.id})] == [mine]


def test_attached_photos_are_served_to_who_may_see_the_record(client, make_shop, login_as, frozen_clock):
    shop, owner, headers = make_shop()
    before, after = (upload(client, headers, encode(scene(seed))).get_json()["id"] for seed in (60, 61))
    response = client.post(f"/api/v1/shops/{shop['id']}/cleanings", headers=headers, json={
        "cleaned_on": "2024-03-20", "parts": ["purifier"], "performed_by": "self",
        "before_photo_ids": [before], "after_photo_ids": [after]})
    assert response.status_code == 201, response.get_data(as_text=True)
    _, inspector = login_as("inspector", jurisdiction=["370811"])  # sees the shop, so its record
    _, far_inspector = login_as("inspector", jurisdiction=["370883"])
    _, stranger = login_as()
    assert client.get(f"/api/v1/photos/{after}", headers=inspector).status_code == 200
    for outsider in (far_inspector, stranger):
        error_of(client.get(f"/api/v1/photos/{after}", headers=outsider), 404)


def test_orphans_are_purged_after_7_days(client, app, owner, frozen_clock):
    user, headers = owner
    kept = upload(client, headers, encode(scene(70))).get_json()["id"]
    orphan = upload(client, headers, encode(scene(71))).get_json()["id"]
    photo_service.attach([kept], "cleaning", 1, "after", uploaders={user.id})
    from server.services import audit
    audit.record("test.attach", "cleaning", 1)
    db.session.commit()
    frozen_clock.advance(dt.timedelta(days=6))
    assert app.test_cli_runner().invoke(args=["photos", "purge-orphans"]).output.startswith("已删除 0")
    frozen_clock.advance(dt.timedelta(days=2))
    result = app.test_cli_runner().invoke(args=["photos", "purge-orphans"])
    assert "已删除 1" in result.output
    assert db.session.get(Photo, orphan) is None and db.session.get(Photo, kept) is not None
    assert client.get(f"/api/v1/photos/{kept}", headers=headers).status_code == 200
