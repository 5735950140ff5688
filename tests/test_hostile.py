"""Hostile inputs that once cost seconds or answered 500: each is a clear 4xx in the error shape,
fast, and nothing is stored or logged as a crash."""
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
