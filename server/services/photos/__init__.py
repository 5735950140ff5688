"""Photo evidence: upload, reuse detection, quotas, signed links, access, attaching to records."""
import datetime as dt
import hashlib
import hmac
import logging

from flask import current_app, url_for
from sqlalchemy import bindparam, func, or_, select

from server.clock import end_of_day, start_of_day, today, utcnow
from server.errors import fail
from server.extensions import db
from server.models.photo import Photo, PhotoLink
from server.services import audit, scope
from server.services.photos import imaging
# Removing photos and stray files (retention) is a room of its own, reached through this package.
from server.services.photos.cleanup import delete_files, delete_unheld, purge_orphans, sweep_files  # noqa: F401
from server.storage import StorageUnavailable, new_name, save_all, storage_for

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
# Hamming distance between difference hashes at or under which two photos are the same picture.
# Measured on the fixture photos (bench/photo_reuse.py): re-compressed (q40–95) and downscaled
# (25 %–1080 px) copies 0–3; different photos 23–43 (the same street shot 10 minutes apart: 26).
# A 2 % crop moves it 2–8 and is not caught.  At 3, four 16-bit bands guarantee a candidate:
# three differing bits leave at least one band identical, so the banded lookup misses nothing.
REUSE_DISTANCE = 3
CAPTURE_SLACK = dt.timedelta(minutes=10)  # phone clocks drift a little
CAPTURE_MAX_AGE = dt.timedelta(days=7)

def _signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned64(value):
    return value + (1 << 64) if value < 0 else value


def bands(value):
    return [(value >> shift) & 0xFFFF for shift in (48, 32, 16, 0)]


def find_original(sha256, dhash):
    """The earliest earlier photo with the same bytes or (nearly) the same perceptual hash."""
    band = bands(dhash)
    candidates = db.session.execute(select(Photo.id, Photo.dhash).where(or_(
        Photo.sha256 == sha256, Photo.dhash_band0 == band[0], Photo.dhash_band1 == band[1],
        Photo.dhash_band2 == band[2], Photo.dhash_band3 == band[3]))).all()
    same = [pid for pid, other in candidates
            if bin(_unsigned64(other) ^ dhash).count("1") <= REUSE_DISTANCE]
    exact = db.session.scalar(select(func.min(Photo.id)).where(Photo.sha256 == sha256))
    found = same + ([exact] if exact else [])
    return min(found) if found else None


def _check_quota(user, size):
    config = current_app.config
    count, used = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Photo.size_bytes), 0))
        .where(Photo.uploaded_by_id == user.id, Photo.received_at >= start_of_day(today()))).one()
    if count + 1 > config["PHOTO_DAILY_COUNT"] or used + size > config["PHOTO_DAILY_MB"] * 1024 * 1024:
        wait = max(1, int((end_of_day(today()) - utcnow()).total_seconds()))
        fail(429, "今日上传的照片已达上限，请明天再试", headers={"Retry-After": str(wait)})


def _client_capture(form, received_at):
    captured_at = form.get("captured_at")
    suspect = captured_at is not None and (
        captured_at > received_at + CAPTURE_SLACK or captured_at < received_at - CAPTURE_MAX_AGE)
    return captured_at, suspect


def upload(user, file, form):
    """Verify, process and keep one uploaded photo; nothing is stored for a rejected one."""
    data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        fail(413, "照片不能超过 10 MB")
    if not data:
        fail(422, "上传的文件是空的", fields={"file": ["文件为空"]})
    if ("lat" in form) != ("lng" in form):
        fail(422, fields={"lat": ["lat 与 lng 须同时提供"]})
    _check_quota(user, len(data))
    user_id = user.id
    # No image work inside a transaction: on SQLite it would hold the write lock the whole decode.
    db.session.commit()
    try:
        image = imaging.process(data)
    except imaging.ImageRejected as rejected:
        fail(rejected.status, rejected.message, fields={"file": [rejected.message]} if rejected.status == 422 else None)
    sha256 = hashlib.sha256(data).hexdigest()
    received_at = utcnow()
    captured_at, suspect = _client_capture(form, received_at)
    storage = storage_for(current_app)
    names = [new_name(suffix) for suffix in (".orig", ".jpg", "_t.jpg")]
    band = bands(image.dhash)
    photo = Photo(
        uploaded_by_id=user_id, received_at=received_at, purpose=form.get("purpose"), source=form.get("source"),
        sha256=sha256, size_bytes=len(data), format=image.format, width=image.width, height=image.height,
        dhash=_signed64(image.dhash), dhash_band0=band[0], dhash_band1=band[1], dhash_band2=band[2],
        dhash_band3=band[3], taken_at=image.taken_at,
        gps_lat=image.gps[0] if image.gps else None, gps_lng=image.gps[1] if image.gps else None,
        client_lat=form.get("lat"), client_lng=form.get("lng"), captured_at=captured_at,
        captured_at_suspect=suspect, reused_photo_id=find_original(sha256, image.dhash),
        original_name=names[0], display_name=names[1], thumb_name=names[2])
    try:
        save_all(storage, zip(names, (data, image.display, image.thumb)))
        db.session.add(photo)
        db.session.flush()
        audit.record("photo.upload", "photo", photo.id,
                     f"上传照片 {image.width}×{image.height} {sha256[:12]}"
                     + (f"，与照片 #{photo.reused_photo_id} 重复" if photo.reused_photo_id else ""))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        delete_files(names)  # what cannot be deleted now (the store is down) is swept later
        raise  # a StorageError is answered 503 or 507 (server/errors.py)
    return photo


def _signature(photo_id, variant, expires):
    key = current_app.config["SECRET_KEY"].encode()
    message = f"photo:{photo_id}:{variant}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def signed_url(photo_id, variant):
    expires = int((utcnow() + dt.timedelta(minutes=current_app.config["PHOTO_URL_TTL_MINUTES"])).timestamp())
    endpoint = "photos.get_thumb" if variant == "thumb" else "photos.get_photo"
    path = url_for(endpoint, photo_id=photo_id, exp=expires, sig=_signature(photo_id, variant, expires))
    # From configuration, never from the request's Host header (a client could name any host).
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return base + path


def signature_valid(photo_id, variant, expires, signature):
    if expires is None or signature is None or expires < utcnow().timestamp():
        return False
    return hmac.compare_digest(_signature(photo_id, variant, expires), signature)


def _copy(photo, variant):
    """A served copy (small: ≤ 1600 px JPEG): ``(bytes, ETag, None)``, or ``(None, ETag, URL)`` —
    a short-lived presigned GET on the store — when ``PHOTO_REDIRECT`` is on and the store has them."""
    name = photo.thumb_name if variant == "thumb" else photo.display_name
    etag = f"{photo.sha256[:16]}-{variant}"
    storage = storage_for(current_app)
    if current_app.config["PHOTO_REDIRECT"] and hasattr(storage, "presigned_url"):
        return None, etag, storage.presigned_url(name, current_app.config["PHOTO_REDIRECT_SECONDS"], "image/jpeg")
    try:
        return storage.read(name), etag, None
    except FileNotFoundError:
        log.error("photo %s: %s is not in the store %s", photo.id, name, storage.url)
        raise StorageUnavailable(name) from None


def signed_copy(photo_id, variant, expires, signature):
    """A copy through a signed link (``<img src>`` sends no bearer token): the link is the permission."""
    photo = db.session.get(Photo, photo_id)
    if photo is None or not signature_valid(photo_id, variant, expires, signature):
        fail(404, "照片不存在或链接已过期")
    return _copy(photo, variant)


def copy_for(user, photo_id, variant):
    """A copy for a logged-in caller who may see the photo (its uploader, or a viewer of its record)."""
    return _copy(scope.get_photo_for(user, photo_id), variant)


def attached_to(record_type, record_ids):
    """``{record_id: {role: [Photo, ...]}}`` for these records, in the order the photos were
    attached: one query for a whole page."""
    refs = {}
    for record_id, role, photo in db.session.execute(_ATTACHED, {"record_type": record_type,
                                                                  "record_ids": list(record_ids)}):
        refs.setdefault(record_id, {}).setdefault(role, []).append(photo)
    return refs


# Built once: every record's answer runs it.
_ATTACHED = (select(PhotoLink.record_id, PhotoLink.role, Photo).join(Photo, Photo.id == PhotoLink.photo_id)
             .where(PhotoLink.record_type == bindparam("record_type"),
                    PhotoLink.record_id.in_(bindparam("record_ids", expanding=True)))
             .order_by(PhotoLink.id))


ROLE_NAMES = {"before": "清洗前", "after": "清洗后", "invoice": "发票"}


def _versions(record):
    """The ids of ``record`` and of every version it supersedes (a correction's chain)."""
    ids = []
    while record is not None:
        ids.append(record.id)
        record = db.session.get(type(record), record.supersedes_id) if record.supersedes_id else None
    return ids


# Built once: every record with photos runs them, once per role.
_LOCKED_PHOTOS = scope.locked(select(Photo).where(Photo.id.in_(bindparam("ids", expanding=True))))
_LINKS_OF = (select(PhotoLink.photo_id, PhotoLink.record_type, PhotoLink.record_id, PhotoLink.role)
             .where(PhotoLink.photo_id.in_(bindparam("ids", expanding=True))))


def attach(photo_ids, record_type, record_id, role, *, uploaders, field="photo_ids", supersedes=None,
           roles_may_share=False):
    """Link photos to a record.  Each must exist and have been uploaded by one of ``uploaders``
    (user ids), and be evidence of no other record: a photo already attached elsewhere (any shop's
    record — the commonest forgery), or to this record in another role (a "before" that is also an
    "after"), is refused with 422 on ``field``.  A correction (``supersedes``: the version it
    replaces) may keep the photos of the versions before it; ``roles_may_share``: the items of one
    inspection may show the same photo.  Runs in the caller's transaction; the photos are locked,
    so two records cannot take one photo at once."""
    ids = list(dict.fromkeys(photo_ids))
    photos = {p.id: p for p in db.session.scalars(_LOCKED_PHOTOS, {"ids": ids})} if ids else {}
    missing = [pid for pid in ids if pid not in photos]
    if missing:
        fail(422, fields={field: ["照片不存在：" + "、".join(map(str, missing))]})
    foreign = [pid for pid in ids if photos[pid].uploaded_by_id not in set(uploaders)]
    if foreign:
        fail(422, fields={field: ["照片须由本人或本店成员上传：" + "、".join(map(str, foreign))]})
    earlier = {(record_type, version) for version in _versions(supersedes)}
    for pid, linked_type, linked_id, linked_role in (db.session.execute(_LINKS_OF, {"ids": ids}).all() if ids else []):
        if (linked_type, linked_id) in earlier:
            continue
        if (linked_type, linked_id) != (record_type, record_id):
            fail(422, fields={field: [f"照片 #{pid} 已是另一条记录的证据，同一张照片只能证明一条记录，请重新拍摄"]})
        if linked_role != role and not roles_may_share:
            fail(422, fields={field: [f"照片 #{pid} 已作为{ROLE_NAMES.get(linked_role, linked_role)}照片，"
                                      f"不能同时作为{ROLE_NAMES.get(role, role)}照片"]})
    for pid in ids:
        db.session.add(PhotoLink(photo_id=pid, record_type=record_type, record_id=record_id, role=role))
    return [photos[pid] for pid in ids]
