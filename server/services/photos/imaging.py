"""Pillow work on one uploaded image: verify, orient, re-encode clean copies, read EXIF, hash.

Nothing here touches the database or the disk.  Every output image is built from pixels
alone, so no comment, EXIF, ICC profile or trailing bytes of the upload survive (Pillow
would otherwise copy a JPEG's comment segment into the re-encoded file).
"""
import datetime as dt
import io
import logging
import struct
import warnings
import zlib
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PIXELS = 40_000_000
# The shape too, not only the area: a header may claim 1 × 40,000,000 px (a 69-byte file that
# decodes for seconds).  Phone photos and panoramas stay well inside these.
MAX_SIDE = 20_000
MAX_ASPECT = 20
DISPLAY_SIZE = 1600
THUMB_SIZE = 320
JPEG_QUALITY = 85
# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; we refuse at the warning.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 36867, 36881


class ImageRejected(Exception):
    """The upload is not an image we accept; ``status`` is 415 or 422, ``message`` Chinese."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class ProcessedImage:
    width: int
    height: int
    format: str
    display: bytes
    thumb: bytes
    dhash: int
    taken_at: dt.datetime | None
    gps: tuple[float, float] | None


def _open(data):
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise ImageRejected(415, "不支持的文件类型，请上传 JPEG、PNG 或 WebP 照片") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(422, "图片像素过多（上限 4000 万像素）") from None
    except (OSError, SyntaxError, ValueError):
        raise ImageRejected(422, "图片文件已损坏，无法读取") from None
    if image.width * image.height > MAX_PIXELS:
        raise ImageRejected(422, "图片像素过多（上限 4000 万像素）")
    if image.width < 1 or image.height < 1:
        raise ImageRejected(422, "图片尺寸无效")
    if max(image.size) > MAX_SIDE or max(image.size) > MAX_ASPECT * min(image.size):
        raise ImageRejected(422, f"图片尺寸异常（{image.width}×{image.height}）：单边不超过 {MAX_SIDE} 像素，"
                                 f"长宽比不超过 {MAX_ASPECT}:1")
    if image.format == "PNG" and not _png_complete(data):
        raise ImageRejected(422, "图片文件不完整或已损坏，无法读取")
    return image


def _png_complete(data):
    """Whether a PNG's compressed pixels fill its whole height.  Pillow treats a zlib stream that
    ends early as the end of the image and leaves the rest blank: evidence must not be a picture
    padded with nothing.  (IHDR's fields are fixed by the PNG specification; Adam7-interlaced
    files are left to Pillow's own checks.)"""
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if interlace or channels is None:
        return True
    needed = height * (1 + (width * depth * channels + 7) // 8)
    inflater, produced, offset = zlib.decompressobj(), 0, 8
    while offset + 8 <= len(data) and produced < needed:
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT":
            chunk = data[offset + 8:offset + 8 + length]
            try:  # inflated only as far as needed: never more than the image's own size
                while chunk and produced < needed:
                    produced += len(inflater.decompress(chunk, needed - produced))
                    chunk = inflater.unconsumed_tail
            except zlib.error:
                return False
        offset += 12 + length
    return produced >= needed


def _fit(width, height, longest):
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _pixels_only(image):
    """A new RGB image holding only the pixels of ``image`` (alpha flattened onto white)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        clean = Image.new("RGB", rgba.size, (255, 255, 255))
        clean.paste(rgba, mask=rgba.getchannel("A"))
        return clean
    rgb = image.convert("RGB")
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def _jpeg(image):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def dhash(image):
    """64-bit difference hash: is each pixel of a 9×8 grey thumbnail brighter than its right neighbour."""
    grey = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = grey.tobytes()
    value = 0
    for row in range(8):
        for col in range(8):
            value = (value << 1) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return value


def process(data):
    """Verify ``data`` by decoding it and make the display copy and thumbnail."""
    image = _open(data)
    exif = _read_exif(image)
    orientation = exif.get(0x0112, 1) if exif is not None else 1
    width, height = image.size
    if orientation in ROTATED:
        width, height = height, width
    source_format = image.format
    if source_format == "JPEG":
        # Decode at 1/2, 1/4 or 1/8 scale when the display copy is at most that big.
        image.draft("RGB", _fit(image.width, image.height, DISPLAY_SIZE))
    try:
        image.load()
        oriented = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(422, "图片像素过多（上限 4000 万像素）") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageRejected(422, "图片文件不完整或已损坏，无法读取") from None
    clean = _pixels_only(oriented)
    display = clean.resize(_fit(clean.width, clean.height, DISPLAY_SIZE), Image.Resampling.LANCZOS) \
        if max(clean.size) > DISPLAY_SIZE else clean
    thumb = display.resize(_fit(display.width, display.height, THUMB_SIZE), Image.Resampling.LANCZOS) \
        if max(display.size) > THUMB_SIZE else display
    return ProcessedImage(
        width=width, height=height, format=source_format,
        display=_jpeg(_pixels_only(display)), thumb=_jpeg(_pixels_only(thumb)), dhash=dhash(thumb),
        taken_at=_taken_at(exif), gps=_gps(exif))


def _read_exif(image):
    try:
        return image.getexif()
    except Exception as exc:  # malformed EXIF must not fail the upload
        log.info("unreadable EXIF ignored: %s", type(exc).__name__)
        return None


def _taken_at(exif):
    if exif is None:
        return None
    try:
        ifd = exif.get_ifd(EXIF_IFD)
        raw = ifd.get(DATETIME_ORIGINAL) or exif.get(0x0132)
        if not raw:
            return None
        moment = dt.datetime.strptime(str(raw).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
        offset = ifd.get(OFFSET_TIME_ORIGINAL)
        if offset:
            sign = -1 if str(offset).startswith("-") else 1
            hours, minutes = str(offset).strip("+- \x00").split(":")
            tz = dt.timezone(sign * dt.timedelta(hours=int(hours), minutes=int(minutes)))
        else:
            tz = dt.timezone(dt.timedelta(hours=8))  # phones here record local (Beijing) time
        return moment.replace(tzinfo=tz)
    except Exception as exc:
        log.info("unreadable EXIF capture time ignored: %s", type(exc).__name__)
        return None


def _degrees(value, ref):
    degrees, minutes, seconds = (float(part) for part in value)
    result = degrees + minutes / 60 + seconds / 3600
    return -result if str(ref).strip("\x00 ").upper() in ("S", "W") else result


def _gps(exif):
    if exif is None:
        return None
    try:
        gps = exif.get_ifd(GPS_IFD)
        if not gps or 2 not in gps or 4 not in gps:
            return None
        lat, lng = _degrees(gps[2], gps.get(1, "N")), _degrees(gps[4], gps.get(3, "E"))
        if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
            return None
        return round(lat, 7), round(lng, 7)
    except Exception as exc:
        log.info("unreadable EXIF GPS ignored: %s", type(exc).__name__)
        return None
