"""Measure the difference-hash distances that decide reuse detection (REUSE_DISTANCE).

    .venv/bin/python bench/photo_reuse.py [PHOTO_DIR]   (default ../shared/fixtures/photos)

For every photo: its distance to re-compressed (quality 95..40), downscaled (50 %, 25 %,
chat-app 1080 px), slightly cropped and brightened copies — all of which must count as the
same picture — and the distances between different photos, which must not.  Also two shots
of one scene taken moments apart (DSCN0010/DSCN0021 are the same street 10 minutes apart),
the closest thing here to "the same hood next month".  portrait_3 and portrait_8 are one
picture stored with different EXIF orientations: distance 0 after orientation is right.
"""
import io
import itertools
import sys
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from server.services.photos.imaging import THUMB_SIZE, dhash  # noqa: E402


def thumb_hash(image):
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
    return dhash(image)


def jpeg_roundtrip(image, quality):
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def variants(image):
    w, h = image.size
    yield "q95", jpeg_roundtrip(image, 95)
    yield "q60", jpeg_roundtrip(image, 60)
    yield "q40", jpeg_roundtrip(image, 40)
    yield "50%", image.resize((w // 2, h // 2))
    yield "25%", jpeg_roundtrip(image.resize((max(1, w // 4), max(1, h // 4))), 70)
    scale = 1080 / max(w, h)
    yield "chat1080", jpeg_roundtrip(image.resize((round(w * scale), round(h * scale))), 75)
    yield "crop2%", image.crop((w // 50, h // 50, w - w // 50, h - h // 50))
    yield "bright+10%", ImageEnhance.Brightness(image.convert("RGB")).enhance(1.1)


def main():
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/fixtures/photos")
    photos = {p.name: Image.open(p) for p in sorted(folder.glob("*.jpg"))}
    hashes = {name: thumb_hash(im) for name, im in photos.items()}
    worst_same = 0
    print("copies of the same picture (distance to the original):")
    for name, image in photos.items():
        row = []
        for label, variant in variants(ImageOps.exif_transpose(image)):
            d = bin(hashes[name] ^ thumb_hash(variant)).count("1")
            worst_same = max(worst_same, d) if label not in ("crop2%", "bright+10%") else worst_same
            row.append(f"{label}={d}")
        print(f"  {name:20s} " + " ".join(row))
    print("different photos:")
    distances = []
    for a, b in itertools.combinations(hashes, 2):
        d = bin(hashes[a] ^ hashes[b]).count("1")
        distances.append(d)
        print(f"  {a:20s} {b:20s} {d}")
    print(f"worst re-compressed/downscaled copy: {worst_same}; closest different photos: {min(distances)}")


if __name__ == "__main__":
    main()
