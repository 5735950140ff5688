"""The one error shape: ``{"error": {"code", "message", "fields"?}}``, messages in Chinese.

Every failure leaves through here — HTTP errors raised by Flask and werkzeug, request
validation by flask-smorest/webargs, database integrity and availability errors, and
anything unexpected (logged with its stack trace, which never reaches the client).
"""
import logging

import marshmallow as ma
from flask import has_request_context, jsonify
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, StatementError
from werkzeug.exceptions import HTTPException

from server.extensions import db
from server.messages import flatten_messages, is_chinese
from server.storage import StorageError, StorageFull
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


def defaults_for(status):
    """``(code, message)`` for a status: its own, else the generic 500 or 400 one."""
    return ERRORS.get(status, ERRORS[500] if status >= 500 else ERRORS[400])


def error_response(status, message=None, *, code=None, fields=None, headers=None):
    default_code, default_message = defaults_for(status)
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
    return error_response(status, data.get("message") if is_chinese(str(data.get("message", ""))) else None,
                          fields=fields, headers=headers)


def handle_integrity_error(error):
    db.session.rollback()
    log.warning("integrity error: %s", error.orig)
    return error_response(409, "数据与已有记录冲突，请刷新后重试")


def handle_out_of_range(error):
    """A number the database cannot hold (PostgreSQL's DataError, sqlite3's OverflowError)."""
    db.session.rollback()
    log.warning("value out of range: %s", error)
    return error_response(422, "提交的数值超出允许范围")


def handle_statement_error(error):
    if isinstance(error.orig, OverflowError):
        return handle_out_of_range(error)
    return handle_unexpected(error)


def handle_database_unavailable(error):
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; the rollback is only a courtesy
        pass
    if isinstance(error, OperationalError) or error.connection_invalidated:
        log.error("database unavailable: %s", error)
        return error_response(503, "数据库暂时不可用，请稍后再试")
    log.exception("database error")
    return error_response(500)


def handle_storage_error(error):
    """The photo store failed (it has logged why): nothing half-stored is kept, the client retries."""
    db.session.rollback()
    if isinstance(error, StorageFull):
        return error_response(507, "服务器存储空间已满，照片未保存，请稍后重试并联系管理员")
    return error_response(503, "照片存储暂时不可用，请稍后重试")


def handle_unexpected(error):
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
    app.register_error_handler(StorageError, handle_storage_error)
    app.register_error_handler(Exception, handle_unexpected)
