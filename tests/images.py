"""Images the suite makes itself with Pillow (the fixture photos are optional extras)."""
import io
import random
from pathlib import Path

from PIL import Image, ImageDraw

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "photos"


def scene(seed=0, size=(400, 300)):
    """A picture with random blocks: different seeds look different to a perceptual hash."""
    rnd = random.Random(seed)
    image = Image.new("RGB", size, tuple(rnd.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rnd.randrange(size[0]), rnd.randrange(size[1])
        draw.rectangle([x, y, x + rnd.randrange(20, size[0] // 2), y + rnd.randrange(20, size[1] // 2)],
                       fill=tuple(rnd.randrange(256) for _ in range(3)))
    return image


def encode(image, fmt="JPEG", **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def upright_marker(size=(400, 300)):
    """Red in the top-left corner, blue elsewhere: shows whether a copy came out upright."""
    image = Image.new("RGB", size, (0, 0, 255))
    ImageDraw.Draw(image).rectangle([0, 0, size[0] // 4, size[1] // 4], fill=(255, 0, 0))
    return image


# For EXIF orientation n, the transform that makes an upright picture look as the camera stored it.
STORED_AS = {
    1: lambda im: im,
    2: lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    3: lambda im: im.transpose(Image.Transpose.ROTATE_180),
    4: lambda im: im.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
    5: lambda im: im.transpose(Image.Transpose.TRANSPOSE),
    6: lambda im: im.transpose(Image.Transpose.ROTATE_90),
    7: lambda im: im.transpose(Image.Transpose.TRANSVERSE),
    8: lambda im: im.transpose(Image.Transpose.ROTATE_270),
}


def with_orientation(orientation):
    stored = STORED_AS[orientation](upright_marker())
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, exif=exif.tobytes())


def with_gps_and_time(lat=35.4151, lng=116.5872, when="2024:03:22 09:30:00", offset=None):
    exif = Image.Exif()

    def dms(value):
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60 * 100)
        return ((d, 1), (m, 1), (s, 100))

    from PIL.TiffImagePlugin import IFDRational
    gps = {1: "N" if lat >= 0 else "S", 2: tuple(IFDRational(*p) for p in dms(lat)),
           3: "E" if lng >= 0 else "W", 4: tuple(IFDRational(*p) for p in dms(lng))}
    exif[0x8825] = gps
    ifd = {36867: when}
    if offset:
        ifd[36881] = offset
    exif[0x8769] = ifd
    return encode(scene(7), exif=exif.tobytes())
