"""Schema conventions: unknown fields are refused, times carry an offset."""
import marshmallow as ma

from server.clock import to_shanghai


class StrictSchema(ma.Schema):
    """Refuses unknown fields, so a typo never silently drops data."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class ShanghaiDateTime(ma.fields.AwareDateTime):
    """ISO 8601 with offset in and out; shown in Asia/Shanghai (+08:00)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return to_shanghai(value).isoformat()
