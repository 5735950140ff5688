"""Per-request plumbing: request ids, security headers, and logging of refused requests.

Every request gets an id — the one a trusted proxy (``TRUSTED_PROXIES``) sent in ``X-Request-Id`` when it is a
plain token, else a new one — returned in the ``X-Request-Id`` header, in every error body
(``error.request_id``) and on every log line written while the request runs, so a user's
screenshot of an error leads to the log lines behind it.
"""
import base64
import hashlib
import logging
import re
import uuid
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, request
from werkzeug.exceptions import BadRequest

from server.security import for_log

log = logging.getLogger("server.access")

INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# JSON and files only: nothing the API returns may run script, be framed or send a referrer.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The Swagger UI page: its own scripts and styles only; its one inline script by hash.
DOCS_CSP = ("default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'none'")
# Console pages (API.md "Console"): scripts and styles from /static only, forms back to the app only;
# images also from the map's tile host and, with PHOTO_REDIRECT, the photo store.
CONSOLE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:{images}; "
               "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# The mini-program's H5 build (/m/): its own bundles; inline styles (the framework sets style
# attributes); photos picked in the browser are blob: URLs shown and then uploaded.
MINIAPP_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:{images}; "
               "connect-src 'self' blob:; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def request_id():
    """The current request's id ("-" outside a request)."""
    if not has_request_context():
        return "-"
    # Kept on the WSGI environ, not ``g``: an app context can outlive one request (tests).
    environ = request.environ
    if "app.request_id" not in environ:
        incoming = request.headers.get("X-Request-Id", "") if current_app.config["TRUSTED_PROXIES"] else ""
        environ["app.request_id"] = incoming if INCOMING_ID.match(incoming) else uuid.uuid4().hex
    return environ["app.request_id"]


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every log record."""

    def filter(self, record):
        record.request_id = request_id()
        return True


def log_refusal(status, code):
    """A refused request (401/403/404) in the application log; what the client sent is escaped
    so that a newline in a path cannot forge a log line."""
    user = g.get("current_user") if has_request_context() else None
    log.warning("refused %s %s -> %s %s (user %s, role %s, from %s)", request.method, for_log(request.path),
                status, code, getattr(user, "id", "-"), getattr(user, "role", "-"),
                for_log(request.remote_addr or "-"))


def _headers(response):
    response.headers["X-Request-Id"] = request_id()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if request.path.startswith("/console"):
        # Same-origin referrers: over HTTPS, CSRFProtect also checks that a form came from this host.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = CONSOLE_CSP.format(images=_image_origins())
    elif request.path.startswith("/m/"):
        response.headers["Content-Security-Policy"] = MINIAPP_CSP.format(images=_image_origins())
    elif response.mimetype == "text/html" and request.path.startswith("/api/v1/docs"):
        hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
                          for script in INLINE_SCRIPT.findall(response.get_data()))
        response.headers["Content-Security-Policy"] = DOCS_CSP.format(hashes=hashes or "")
    else:
        response.headers["Content-Security-Policy"] = API_CSP
    return response


def _origin(url):
    parts = urlsplit(url or "")
    return f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _image_origins():
    config = current_app.config
    origins = _origin(config.get("MAP_TILE_URL", "").replace("{s}", "*") if config.get("MAP_TILE_URL") else "")
    if config.get("PHOTO_REDIRECT"):
        origins += _origin(config.get("S3_PUBLIC_ENDPOINT_URL") or config.get("S3_ENDPOINT_URL"))
    return origins


def _assign_request_id():
    request_id()  # returns None: a before_request function that returned a value would answer


def _refuse_nul():
    """A NUL character in a query string or a form field is a 400 before any view sees it: no text
    column can store it (PostgreSQL refuses it mid-query) and no person typed it."""
    sources = [request.args]
    if request.mimetype == "application/x-www-form-urlencoded":
        sources.append(request.form)
    for source in sources:
        for key, value in source.items(multi=True):
            if "\x00" in key or "\x00" in value:
                refused = BadRequest()
                refused.data = {"message": "请求中含有不允许的字符（NUL）"}  # the one error shape's message
                raise refused


def init_app(app):
    app.before_request(_assign_request_id)
    app.before_request(_refuse_nul)
    app.after_request(_headers)
