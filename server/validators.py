"""Field validators shared by the schemas; messages in Chinese."""
import re

import marshmallow as ma
from werkzeug.datastructures import FileStorage

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


# Ids are PostgreSQL integers: a larger number names nothing (and must not reach the database).
MAX_ID = 2**31 - 1


def uscc_check_char(first17):
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value):
    """统一社会信用代码 (GB 32100-2015): 18 characters with a check character."""
    if len(value) != 18:
        raise ma.ValidationError("统一社会信用代码应为 18 位")
    bad = sorted({c for c in value if c not in USCC_CHARSET})
    if bad:
        raise ma.ValidationError("统一社会信用代码含有非法字符：" + "".join(bad))
    if uscc_check_char(value[:17]) != value[17]:
        raise ma.ValidationError("统一社会信用代码校验位错误")


def single_line(value):
    """Names and other one-line text: no control characters (a newline could forge a log line)."""
    if _CONTROL.search(value):
        raise ma.ValidationError("不能包含换行或控制字符")
    if not value.strip():
        raise ma.ValidationError("不能为空")


def validate_mobile(value):
    if not _MOBILE.match(value):
        raise ma.ValidationError("手机号格式不正确，应为 11 位中国大陆手机号")


class Uscc(ma.fields.String):
    """A credit code, upper-cased before it is checked."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        validate_uscc(value)
        return value


def Name(max_length=64, **kwargs):  # noqa: N802 - reads like a field class
    """A one-line name field."""
    return ma.fields.String(validate=[ma.validate.Length(min=1, max=max_length), single_line], **kwargs)


def Text(max_length, minimum=0, **kwargs):  # noqa: N802
    """One line of free text, at most ``max_length`` characters."""
    return ma.fields.String(validate=[ma.validate.Length(min=minimum, max=max_length), single_line], **kwargs)


def DistrictCode(**kwargs):  # noqa: N802
    """A county's code (370811) or a functional zone's (370800-JK)."""
    return ma.fields.String(validate=ma.validate.Regexp(r"^[0-9]{6}(-[A-Z]{1,8})?$",
                                                        error="区县代码应为 6 位数字（功能区如 370800-JK）"), **kwargs)


def PhotoIds(minimum=0, **kwargs):  # noqa: N802
    """A list of uploaded photo ids (at most 20)."""
    return ma.fields.List(ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID)),
                          validate=ma.validate.Length(min=minimum, max=20), **kwargs)


class Upload(ma.fields.Raw):
    """A file part of a multipart body (a form field of the same name with text is refused)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {"type": "string", "format": "binary"})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("请以文件形式上传（multipart 的 file 字段）")
        return value
