"""Photos: the upload form, the full photo, and the reference every record shows of its photos."""
import marshmallow as ma

from server.schemas import dump
from server.schemas.base import ShanghaiDateTime, StrictSchema, derived
from server.services import photos
from server.validators import Upload, single_line


class PhotoUploadSchema(StrictSchema):
    """The multipart body of wx.uploadFile: the photo in ``file`` and optional form fields."""

    file = Upload(required=True)
    purpose = ma.fields.String(validate=[ma.validate.Length(max=32), single_line],
                               metadata={"example": "cleaning_after"})
    source = ma.fields.String(validate=ma.validate.OneOf(["camera", "album"]))
    lat = ma.fields.Float(validate=ma.validate.Range(min=-90, max=90), allow_nan=False)
    lng = ma.fields.Float(validate=ma.validate.Range(min=-180, max=180), allow_nan=False)
    captured_at = ShanghaiDateTime(metadata={"description": "the client's own capture time"})


class GpsSchema(ma.Schema):
    lat = ma.fields.Float(required=True)
    lng = ma.fields.Float(required=True)


class PhotoRefSchema(ma.Schema):
    """What a record shows of each attached photo: the reuse flag and fresh signed links."""

    id = ma.fields.Integer(required=True)
    reused = derived(ma.fields.Boolean, lambda photo: photo.reused_photo_id is not None, required=True)
    reused_photo_id = ma.fields.Integer(allow_none=True)
    thumb_url = derived(ma.fields.String, lambda photo: photos.signed_url(photo.id, "thumb"), required=True)
    url = derived(ma.fields.String, lambda photo: photos.signed_url(photo.id, "display"), required=True,
                  metadata={"description": "signed link, expires"})


def preload_attached(record_type, record_ids):
    """Read the photos of a page of records of ``record_type`` in one query."""
    dump.preload(("photos", record_type), record_ids, lambda ids: photos.attached_to(record_type, ids), default={})


def attached(record_type, record_id, role):
    return dump.cached(("photos", record_type), record_id, lambda ids: photos.attached_to(record_type, ids),
                       default={}).get(role, [])


class AttachedPhotos(ma.fields.List):
    """The photos attached to the dumped record in ``role`` (a name, or a function of the object;
    ``record_id`` a function of the object, default its id)."""

    def __init__(self, record_type, role, record_id=None, **kwargs):
        super().__init__(ma.fields.Nested(PhotoRefSchema), required=True, **kwargs)
        self.record_type, self.role = record_type, role
        self.record_id = record_id or (lambda obj: obj.id)

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        role = self.role(obj) if callable(self.role) else self.role
        return attached(self.record_type, self.record_id(obj), role)


def _gps(lat, lng):
    return {"lat": lat, "lng": lng} if lat is not None else None


class PhotoSchema(PhotoRefSchema):
    sha256 = ma.fields.String(required=True)
    width = ma.fields.Integer(required=True)
    height = ma.fields.Integer(required=True)
    received_at = ShanghaiDateTime(required=True)
    taken_at = ShanghaiDateTime(allow_none=True, metadata={"description": "EXIF capture time"})
    gps = derived(ma.fields.Nested, lambda photo: _gps(photo.gps_lat, photo.gps_lng), nested=GpsSchema,
                  allow_none=True, metadata={"description": "EXIF GPS"})
    client_gps = derived(ma.fields.Nested, lambda photo: _gps(photo.client_lat, photo.client_lng), nested=GpsSchema,
                         allow_none=True)
    captured_at = ShanghaiDateTime(allow_none=True)
    captured_at_suspect = ma.fields.Boolean(required=True,
                                            metadata={"description": "captured_at is in the future or long "
                                                                     "before receipt: not trusted"})
    purpose = ma.fields.String(allow_none=True)
    source = ma.fields.String(allow_none=True)


class SignedLinkSchema(StrictSchema):
    exp = ma.fields.Integer(validate=ma.validate.Range(min=0, max=2**53),
                            metadata={"description": "expiry, seconds since 1970 (UTC)"})
    sig = ma.fields.String(validate=ma.validate.Length(max=64))
