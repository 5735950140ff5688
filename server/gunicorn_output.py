"""What gunicorn itself writes: the access log, and the answers it gives without the app.

- A path may carry ``%0a`` (or any control character) that gunicorn writes into the access log
  as it is decoded, so a client could forge log lines: every text atom (path, headers, user
  agent...) has its control characters written as ``\\xNN`` instead (``logger_class``).
- A request line or headers too long (414, 431, 400) are answered by gunicorn before the app runs,
  as an HTML page: :func:`install` makes them the API's error shape (gunicorn has no hook for
  that; its workers call ``gunicorn.util.write_error``, which is replaced in the master before the
  workers fork).  Both are set in gunicorn.conf.py.
"""
import json
import re

from gunicorn import util
from gunicorn.glogging import Logger

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def escape(text):
    return CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class EscapingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        return {key: escape(value) if isinstance(value, str) else value
                for key, value in super().atoms(resp, req, environ, request_time).items()}


CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 413: "payload_too_large", 414: "bad_request",
         431: "bad_request", 500: "internal_error", 503: "service_unavailable"}
MESSAGES = {414: "请求地址过长", 431: "请求头过大", 400: "请求格式错误", 413: "请求体过大",
            500: "服务器内部错误，请稍后再试", 503: "服务暂时不可用，请稍后再试"}


def write_json_error(sock, status_int, reason, mesg):
    body = json.dumps({"error": {"code": CODES.get(status_int, "bad_request"),
                                 "message": MESSAGES.get(status_int, "请求无法处理")}},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)


def install():
    util.write_error = write_json_error
