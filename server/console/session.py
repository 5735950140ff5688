"""Console sessions: log in with a password (the API's own login, throttle and audit), keep the
console token in the signed cookie, and load the caller from it on every page."""
import functools
from flask import flash, g, redirect, render_template, request, session, url_for

from server.auth import admit, user_for_token
from server.console.blueprint import LOGIN_REASONS, bp
from server.console.forms import attempt, load, safe_next
from server.schemas.auth import OwnPasswordSchema
from server.errors import ApiError
from server.roles import CONSOLE_ROLES
from server.services.people import accounts


def page(*roles):
    """A console page for staff (of ``roles`` when named): no session → the login page; a POST
    counts in the caller's write limit, as an API write does."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            token = session.get("token")
            if not token:
                return redirect(url_for("console.login", next=request.full_path if request.method == "GET" else None))
            # 401 → the login page, 403 → an error page (console.html_errors)
            admit(user_for_token(token, kind="console"), roles or CONSOLE_ROLES, refusal="没有权限访问此页面")
            if g.current_user.password_must_change and request.endpoint not in ("console.own_password",
                                                                                 "console.logout"):
                return redirect(url_for("console.own_password"))  # an admin set it: choose one's own first
            return view(*args, **kwargs)

        return wrapper

    return decorator


def viewer():
    return g.current_user


@bp.route("/login", methods=["GET", "POST"])
def login():
    username = request.form.get("username", "")
    error = LOGIN_REASONS.get(request.args.get("reason", "")) if request.method == "GET" else None
    status, retry = 200, None
    if request.method == "POST":
        password = request.form.get("password", "")
        if not username.strip() or not password:
            error, status = "请输入用户名和密码", 422
        else:
            try:
                result = accounts.password_login(username, password)
            except ApiError as failure:  # 401 wrong password, 429 throttled: the API's own message
                error, status = failure.description, failure.code
                retry = failure.extra_headers.get("Retry-After")
            else:
                session.clear()
                session["token"] = result["token"]
                return redirect(safe_next(request.form.get("next")), 303)
    response = render_template("console/login.html", username=username, error=error,
                               next=safe_next(request.values.get("next"), default="")), status
    if status == 429 and retry:
        return (*response, {"Retry-After": retry})
    return response


@bp.route("/password", methods=["GET", "POST"])
@page()
def own_password():
    """修改本人密码: required after an admin set or reset it, open to anyone at any time."""
    forced = bool(g.current_user.password_must_change)
    if request.method == "GET":
        return render_template("console/password.html", form={}, errors={}, forced=forced)
    values, errors = load(OwnPasswordSchema(), request.form)
    if not errors and request.form.get("password") != request.form.get("password_again"):
        errors = {"password_again": ["两次输入的新密码不一致"]}
    if not errors:
        _result, errors = attempt(lambda: accounts.change_own_password(g.current_user, values["current_password"],
                                                                        values["password"]))
    if errors:
        return render_template("console/password.html", form={}, errors=errors, forced=forced), 422
    flash("密码已修改")
    return redirect(url_for("console.overview"), 303)


@bp.route("/logout", methods=["POST"])
@page()
def logout():
    accounts.logout()
    session.clear()
    flash("已退出登录")
    return redirect(url_for("console.login"), 303)
