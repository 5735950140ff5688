"""WeChat's ``code2Session`` (小程序登录), reached over HTTP with requests.

The answer's ``session_key`` is never stored, returned or logged: this backend does not
decrypt WeChat user data, so it has no use for it.
"""
import logging

import requests
from flask import current_app

from server.errors import fail
from server.security import for_log

log = logging.getLogger(__name__)

# (connect, read) seconds: a hung WeChat must give 502 well within 10 s.
TIMEOUT = (3.05, 5)
BAD_CODE = {40029, 40163}  # invalid code; code already used
BLOCKED = {40226}  # high-risk user blocked by WeChat
UNAVAILABLE_MESSAGE = "微信登录服务暂时不可用，请稍后再试"


def code2session(code):
    """Exchange a ``wx.login`` code for ``{"openid", "unionid"}``; map WeChat's failures to our errors."""
    config = current_app.config
    if not config.get("WECHAT_APPID") or not config.get("WECHAT_SECRET"):
        log.error("WeChat login attempted but WECHAT_APPID/WECHAT_SECRET are not set")
        fail(502, UNAVAILABLE_MESSAGE, code="upstream_unavailable")
    url = config["WECHAT_API_BASE"].rstrip("/") + "/sns/jscode2session"
    params = {"appid": config["WECHAT_APPID"], "secret": config["WECHAT_SECRET"], "js_code": code,
              "grant_type": "authorization_code"}
    try:
        response = requests.get(url, params=params, timeout=TIMEOUT)
    except requests.RequestException as exc:
        log.warning("code2Session unreachable: %s", type(exc).__name__)
        fail(502, UNAVAILABLE_MESSAGE, code="upstream_unavailable")
    if response.status_code != 200:
        log.warning("code2Session answered HTTP %s", response.status_code)
        fail(502, UNAVAILABLE_MESSAGE, code="upstream_unavailable")
    try:
        answer = response.json()
    except ValueError:
        log.warning("code2Session answered something that is not JSON")
        fail(502, UNAVAILABLE_MESSAGE, code="upstream_unavailable")
    if not isinstance(answer, dict):
        fail(502, UNAVAILABLE_MESSAGE, code="upstream_unavailable")
    errcode = answer.get("errcode") or 0
    if errcode in BAD_CODE:
        fail(401, "微信登录凭证无效或已使用，请重新进入小程序")
    if errcode in BLOCKED:
        fail(403, "该微信账号存在风险，已被微信限制登录")
    openid = answer.get("openid")
    if errcode or not isinstance(openid, str) or not openid or len(openid) > 128:
        # -1 system busy, 45011 rate limit, or anything we do not understand.
        log.warning("code2Session failed: errcode=%s errmsg=%s", for_log(errcode), for_log(answer.get("errmsg", "")))
        fail(502, UNAVAILABLE_MESSAGE, code="upstream_unavailable")
    unionid = answer.get("unionid")
    return {"openid": openid, "unionid": unionid if isinstance(unionid, str) and len(unionid) <= 128 else None}


class Unreachable(Exception):
    """WeChat did not answer usably: no connection, a timeout, an HTTP error or a body not JSON."""


def call(path, body, params=None):
    """POST ``body`` (JSON) to WeChat's ``path``; the answer's JSON object (``errcode`` 0 when absent)."""
    url = current_app.config["WECHAT_API_BASE"].rstrip("/") + path
    try:
        response = requests.post(url, params=params, json=body, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise Unreachable(type(exc).__name__) from None
    if response.status_code != 200:
        raise Unreachable(f"HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        raise Unreachable("not JSON") from None
    if not isinstance(answer, dict):
        raise Unreachable("not a JSON object")
    answer.setdefault("errcode", 0)
    return answer


def stable_token(force_refresh=False):
    """``POST /cgi-bin/stable_token`` (normal mode): ``(access_token, expires_in seconds)``."""
    config = current_app.config
    answer = call("/cgi-bin/stable_token", {"grant_type": "client_credential", "appid": config["WECHAT_APPID"],
                                            "secret": config["WECHAT_SECRET"], "force_refresh": force_refresh})
    token, expires_in = answer.get("access_token"), answer.get("expires_in")
    if answer["errcode"] or not isinstance(token, str) or not token or not isinstance(expires_in, int):
        log.warning("stable_token failed: errcode=%s errmsg=%s", for_log(answer["errcode"]),
                    for_log(answer.get("errmsg", "")))
        raise Unreachable(f"stable_token errcode {answer['errcode']}")
    return token, expires_in
