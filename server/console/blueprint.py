"""The console's blueprint, its CSRF protection, session cookie and HTML error pages."""
import datetime as dt
import logging

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect

from server import labels
from server.clock import to_shanghai
from server.services.roster import reference

log = logging.getLogger(__name__)
csrf = CSRFProtect()
# Why the login page is shown, by code: the page says only these, never text a link brings.
LOGIN_REASONS = {"login": "请先登录", "expired": "登录已失效，请重新登录", "idle": "长时间未操作，请重新登录",
                 "disabled": "账号已停用"}
_REASON_OF = {message: code for code, message in LOGIN_REASONS.items()}
bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")


@bp.app_template_filter("label")
def label_filter(code, kind):
    """``{{ status | label('handover_status') }}``: the word from the one label table.  An unknown
    code fails under test; in service it is logged and shown as it is rather than break the page."""
    try:
        return labels.label(kind, code)
    except labels.Unlabelled:
        if current_app.testing:
            raise
        log.error("no label for %s=%r", kind, code)
        return code


@bp.app_template_filter("checklist_item")
def checklist_item_text(code):
    """A checklist item's text by its code (every published version's; the newest text wins)."""
    texts = g.get("checklist_texts")
    if texts is None:
        texts = g.checklist_texts = reference.checklist_texts()
    if code not in texts:
        if current_app.testing:
            raise labels.Unlabelled(f"no checklist item {code!r}")
        return code
    return texts[code]


@bp.app_template_filter("as_date")
def as_date(value):
    """An ISO date as the API dumps it, as a date (for day arithmetic in a template)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


@bp.app_template_filter("shanghai")
def shanghai_time(moment, format="%Y-%m-%d %H:%M"):
    """A stored time as a desk in Jining reads it (Asia/Shanghai)."""
    if moment is None:
        return "—"
    return to_shanghai(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).strftime(format)


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure when the request came over HTTPS (directly, or as a trusted
    proxy says through ``TRUSTED_PROXIES``/ProxyFix), so plain-HTTP development still works."""

    def get_cookie_secure(self, app):
        return request.is_secure


def init_app(app):
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # the API takes no cookies: nothing to forge
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)  # a form stays usable for a whole session
    # The session cookie is the console's alone: sent to /console only, never cross-site.
    app.config.update(SESSION_COOKIE_PATH="/console", SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_NAME="console_session", SESSION_COOKIE_HTTPONLY=True)
    app.session_interface = ConsoleSessionInterface()
    csrf.init_app(app)
    app.before_request(_forget_csrf_token)
    app.register_blueprint(bp)
    app.after_request(html_errors)
    # A person who types the bare address lands on the console; a browser asking for /favicon.ico
    # gets the console's icon.
    app.add_url_rule("/", "root", lambda: redirect(url_for("console.overview")))
    app.add_url_rule("/favicon.ico", "favicon",
                     lambda: redirect(url_for("static", filename="console/favicon.svg"), 301))


def _forget_csrf_token():
    """Flask-WTF keeps the request's token on ``g``; an app context kept across requests (tests)
    would hand one session's token to the next, so every request starts without it."""
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


@bp.before_request
def _protect_forms():
    if request.method == "POST":
        csrf.protect()


def error_page(status, message):
    response = current_app.make_response((render_template("console/error.html", status=status, message=message),
                                           status))
    return response


@bp.errorhandler(CSRFError)
def _csrf_error(error):
    return error_page(400, "页面已过期或来源不明（CSRF 校验失败），请刷新页面后重新提交")


def html_errors(response):
    """Console errors are HTML pages with the same status: the app's error handlers answer every
    failure in the API's JSON shape; under ``/console`` that answer is turned into a page here
    (401 → the login page)."""
    if not request.path.startswith("/console") or response.status_code < 400 or response.mimetype != "application/json":
        return response
    error = (response.get_json(silent=True) or {}).get("error") or {}
    if response.status_code == 401:
        return redirect(url_for("console.login", next=request.full_path if request.method == "GET" else None,
                                reason=_REASON_OF.get(error.get("message"), "login")))
    page = error_page(response.status_code, error.get("message") or "出错了")
    for name in ("Retry-After", "X-Request-Id"):
        if name in response.headers:
            page.headers[name] = response.headers[name]
    return page
