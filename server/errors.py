"""The one error shape: ``{"error": {"code", "message", "fields"?}}``, messages in Chinese.

Every failure leaves through here — HTTP errors raised by Flask and werkzeug, request
validation by flask-smorest/webargs, database integrity and availability errors, and
anything unexpected (logged with its stack trace, which never reaches the client).
"""
import logging
import re

import marshmallow as ma
from flask import has_request_context, jsonify
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, StatementError
from werkzeug.exceptions import HTTPException

from server.web import log_refusal, request_id

log = logging.getLogger(__name__)

# status → (stable English code, default Chinese message)
ERRORS = {
    400: ("bad_request", "请求格式错误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "操作与当前状态冲突"),
    413: ("payload_too_large", "上传内容过大，单个文件不能超过 10 MB"),
    415: ("unsupported_media_type", "不支持的文件或内容类型"),
    422: ("validation_failed", "提交的数据有误"),
    429: ("rate_limited", "操作过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误，请稍后再试"),
    502: ("upstream_unavailable", "上游服务暂时不可用，请稍后再试"),
    503: ("service_unavailable", "服务暂时不可用，请稍后再试"),
    507: ("insufficient_storage", "存储空间不足，请联系管理员"),
}


class ApiError(HTTPException):
    """An error the code raises on purpose, with its own code, message and fields."""

    def __init__(self, status, message=None, *, code=None, fields=None, headers=None):
        super().__init__(description=message)
        self.code = status
        self.error_code = code
        self.fields = fields
        self.extra_headers = headers or {}


def fail(status, message=None, *, code=None, fields=None, headers=None):
    """Stop the request with an error in the one shape."""
    raise ApiError(status, message, code=code, fields=fields, headers=headers)


def validation_error(fields, message=None):
    """A 422 ``validation_failed`` naming the offending fields: ``{"field": ["原因"]}``."""
    fail(422, message, fields=fields)


class ErrorDetail(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "stable English error code"})
    message = ma.fields.String(required=True, metadata={"description": "message for the user, in Chinese"})
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                            metadata={"description": "per-field reasons (validation errors only)"})
    request_id = ma.fields.String(metadata={"description": "the request's id (also in the X-Request-Id "
                                                          "header and the server's log lines)"})


class ErrorSchema(ma.Schema):
    """The body of every error response."""

    error = ma.fields.Nested(ErrorDetail, required=True)


# marshmallow / webargs speak English; users read Chinese.
_EXACT = {
    "Missing data for required field.": "必填项",
    "Unknown field.": "未知字段",
    "Field may not be null.": "不能为空",
    "Invalid input type.": "数据类型错误",
    "Invalid value.": "取值无效",
    "Not a valid string.": "应为字符串",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Number too large.": "数值过大",
    "Not a valid boolean.": "应为 true 或 false",
    "Not a valid date.": "日期格式应为 YYYY-MM-DD",
    "Not a valid datetime.": "时间格式应为带时区的 ISO 8601，例如 2024-03-22T09:30:00+08:00",
    "Not a valid aware datetime.": "时间必须带时区，例如 2024-03-22T09:30:00+08:00",
    "Not a valid list.": "应为列表",
    "Not a valid mapping type.": "应为对象",
    "Not a valid tuple.": "应为列表",
    "Not a valid email address.": "邮箱格式不正确",
    "Not a valid URL.": "网址格式不正确",
    "Not a valid UUID.": "UUID 格式不正确",
    "String does not match expected pattern.": "格式不正确",
    "Invalid JSON body.": "请求体不是合法的 JSON",
}
_PATTERNS = [
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "长度不能少于 {0}"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "长度不能超过 {0}"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), "长度应在 {0} 到 {1} 之间"),
    (re.compile(r"^Length must be (\d+)\.$"), "长度应为 {0}"),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     "应在 {0} 到 {1} 之间"),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), "不能小于 {0}"),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), "不能大于 {0}"),
    (re.compile(r"^Must be greater than (\S+)\.$"), "必须大于 {0}"),
    (re.compile(r"^Must be less than (\S+)\.$"), "必须小于 {0}"),
    (re.compile(r"^Must be one of: (.*)\.$"), "取值必须是以下之一：{0}"),
]
_CJK = re.compile(r"[\u4e00-\u9fff]")


def to_chinese(message):
    """Translate one validation message; our own messages are Chinese already."""
    if _CJK.search(message):
        return message
    if message in _EXACT:
        return _EXACT[message]
    for pattern, template in _PATTERNS:
        match = pattern.match(message)
        if match:
            return template.format(*match.groups())
    return "取值无效（" + message + "）"


def flatten_messages(messages, prefix=""):
    """marshmallow's nested error dict → ``{"a.b": ["原因", ...]}``."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, name))
    elif isinstance(messages, (list, tuple)):
        strings = [m for m in messages if isinstance(m, str)]
        if strings:
            flat.setdefault(prefix or "_schema", []).extend(to_chinese(m) for m in strings)
        for item in messages:
            if not isinstance(item, str):
                flat.update(flatten_messages(item, prefix))
    elif messages is not None:
        flat.setdefault(prefix or "_schema", []).append(to_chinese(str(messages)))
    return flat


def error_response(status, message=None, *, code=None, fields=None, headers=None):
    default_code, default_message = ERRORS.get(status, ERRORS[500] if status >= 500 else ERRORS[400])
    body = {"code": code or default_code, "message": message or default_message}
    if fields:
        body["fields"] = fields
    if has_request_context():
        body["request_id"] = request_id()
        if status in (401, 403, 404):
            log_refusal(status, body["code"])
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_http_exception(error):
    """HTTPException (werkzeug's, flask-smorest's abort, or :class:`ApiError`) → the one shape.

    A failed request writes nothing: whatever its view flushed is rolled back here."""
    from server.extensions import db

    db.session.rollback()
    status = error.code or 500
    if isinstance(error, ApiError):
        return error_response(status, error.description, code=error.error_code,
                              fields=error.fields, headers=error.extra_headers)
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    messages = data.get("messages")
    if status == 400 and (messages or "JSON" in str(error.description or "")):
        # webargs' or Flask's own "the body could not be parsed as JSON".
        return error_response(400, "请求体不是合法的 JSON", headers=headers)
    fields = None
    if messages:
        fields = {}
        for location_messages in messages.values():
            fields.update(flatten_messages(location_messages))
    return error_response(status, data.get("message") if _CJK.search(str(data.get("message", ""))) else None,
                          fields=fields, headers=headers)


def handle_integrity_error(error):
    from server.extensions import db

    db.session.rollback()
    log.warning("integrity error: %s", error.orig)
    return error_response(409, "数据与已有记录冲突，请刷新后重试")


def handle_out_of_range(error):
    """A number the database cannot hold (PostgreSQL's DataError, sqlite3's OverflowError)."""
    from server.extensions import db

    db.session.rollback()
    log.warning("value out of range: %s", error)
    return error_response(422, "提交的数值超出允许范围")


def handle_statement_error(error):
    if isinstance(error.orig, OverflowError):
        return handle_out_of_range(error)
    return handle_unexpected(error)


def handle_database_unavailable(error):
    from server.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; the rollback is only a courtesy
        pass
    if isinstance(error, OperationalError) or error.connection_invalidated:
        log.error("database unavailable: %s", error)
        return error_response(503, "数据库暂时不可用，请稍后再试")
    log.exception("database error")
    return error_response(500)


def handle_unexpected(error):
    from server.extensions import db

    log.exception("unhandled error: %s", error)
    try:
        db.session.rollback()
    except Exception:  # the connection may be what failed
        log.exception("rollback after an unhandled error failed")
    return error_response(500)


def register_error_handlers(app):
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_out_of_range)
    app.register_error_handler(StatementError, handle_statement_error)
    app.register_error_handler(OverflowError, handle_out_of_range)
    app.register_error_handler(DBAPIError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
