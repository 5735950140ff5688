import marshmallow as ma

from server.schemas.base import ShanghaiDateTime, StrictSchema
from server.validators import Upload, single_line


class PhotoUploadSchema(StrictSchema):
    """The multipart body of wx.uploadFile: the photo in ``file`` and optional form fields."""

    file = Upload(required=True)
    purpose = ma.fields.String(validate=[ma.validate.Length(max=32), single_line],
                               metadata={"example": "cleaning_after"})
    source = ma.fields.String(validate=ma.validate.OneOf(["camera", "album"]))
    lat = ma.fields.Float(validate=ma.validate.Range(min=-90, max=90), allow_nan=False)
    lng = ma.fields.Float(validate=ma.validate.Range(min=-180, max=180), allow_nan=False)
    captured_at = ma.fields.AwareDateTime(metadata={"description": "the client's own capture time"})


class GpsSchema(ma.Schema):
    lat = ma.fields.Float(required=True)
    lng = ma.fields.Float(required=True)


class PhotoSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    sha256 = ma.fields.String(required=True)
    width = ma.fields.Integer(required=True)
    height = ma.fields.Integer(required=True)
    received_at = ShanghaiDateTime(required=True)
    taken_at = ShanghaiDateTime(allow_none=True, metadata={"description": "EXIF capture time"})
    gps = ma.fields.Nested(GpsSchema, allow_none=True, metadata={"description": "EXIF GPS"})
    client_gps = ma.fields.Nested(GpsSchema, allow_none=True)
    captured_at = ShanghaiDateTime(allow_none=True)
    captured_at_suspect = ma.fields.Boolean(required=True,
                                            metadata={"description": "captured_at is in the future or long "
                                                                     "before receipt: not trusted"})
    purpose = ma.fields.String(allow_none=True)
    source = ma.fields.String(allow_none=True)
    reused = ma.fields.Boolean(required=True)
    reused_photo_id = ma.fields.Integer(allow_none=True)
    url = ma.fields.String(required=True, metadata={"description": "signed link, expires"})
    thumb_url = ma.fields.String(required=True)


class SignedLinkSchema(StrictSchema):
    exp = ma.fields.Integer(validate=ma.validate.Range(min=0, max=2**53),
                            metadata={"description": "expiry, seconds since 1970 (UTC)"})
    sig = ma.fields.String(validate=ma.validate.Length(max=64))
