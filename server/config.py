"""Every setting, read from the environment in one place, with its default.

``create_app(config)`` calls :func:`load_config` once; the mapping it returns is
copied into ``app.config`` and never changed afterwards.  Tests pass overrides as
the ``config`` argument instead of patching ``app.config``.
"""
import base64
import binascii
import json
import os
from pathlib import Path

from server import storage

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(RuntimeError):
    """The configuration cannot run; the message says what to set."""


def _int(env, name, default):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _float(env, name, default):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


TEMPLATE_SOURCES = ("shop_name", "date", "time", "status", "serial", "hint")
REMINDER_KINDS = ("cleaning_due", "rectification_deadline", "handover_to_confirm", "rectification_answered",
                  "case_assigned")


def _templates(text):
    """``WECHAT_TEMPLATES``: ``{"<kind>": {"id", "long_term"?, "fields": {"<keyword>": "<source>"}}}``."""
    if not text:
        return {}
    try:
        templates = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"WECHAT_TEMPLATES is not JSON: {error}") from None
    if not isinstance(templates, dict):
        raise ConfigError("WECHAT_TEMPLATES must be a JSON object of reminder kinds")
    for kind, template in templates.items():
        if kind not in REMINDER_KINDS:
            raise ConfigError(f"WECHAT_TEMPLATES: unknown kind {kind!r}; kinds are {', '.join(REMINDER_KINDS)}")
        if not isinstance(template, dict) or not isinstance(template.get("id"), str) or not template["id"] \
                or not isinstance(template.get("fields"), dict) or not template["fields"]:
            raise ConfigError(f"WECHAT_TEMPLATES[{kind!r}] needs a template \"id\" and \"fields\"")
        for keyword, source in template["fields"].items():
            if source not in TEMPLATE_SOURCES:
                raise ConfigError(f"WECHAT_TEMPLATES[{kind!r}]: {keyword} takes one of {', '.join(TEMPLATE_SOURCES)}, "
                                  f"not {source!r}")
        template["long_term"] = bool(template.get("long_term"))
    return templates


def _quiet_hours(text):
    """``"21-8"`` → ``(21, 8)``; empty → None."""
    if not (text or "").strip():
        return None
    try:
        start, end = (int(part) for part in text.split("-"))
    except ValueError:
        raise ConfigError(f"REMINDER_QUIET_HOURS must be like 21-8 (hours), got {text!r}") from None
    if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
        raise ConfigError(f"REMINDER_QUIET_HOURS must be two different hours 0–23, got {text!r}")
    return start, end


def normalise_database_url(url):
    """Let ``postgres://`` and ``postgresql://`` URLs use psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_config(overrides=None, environ=None):
    """Return the settings as a dict: environment first, then ``overrides``."""
    env = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    app_env = overrides.get("APP_ENV", env.get("APP_ENV") or "development")
    if app_env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {app_env!r}")

    config = {
        "APP_ENV": app_env,
        "TESTING": app_env == "testing",
        # None here means "a SQLite file in the instance folder" (decided by create_app).
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or None,
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(PROJECT_ROOT / "uploads"),
        # Photos: file:///path (unset: the UPLOAD_DIR folder) or s3://bucket/prefix on S3_ENDPOINT_URL
        # (unset: AWS), credentials from the AWS_* variables or boto3's own chain.  S3_PUBLIC_ENDPOINT_URL:
        # where clients reach the store, when it differs (presigned redirects are signed for it).
        "STORAGE_URL": env.get("STORAGE_URL") or None,
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL") or None,
        "S3_PUBLIC_ENDPOINT_URL": env.get("S3_PUBLIC_ENDPOINT_URL") or None,
        "S3_REGION": env.get("S3_REGION") or None,
        "AWS_ACCESS_KEY_ID": env.get("AWS_ACCESS_KEY_ID") or None,
        "AWS_SECRET_ACCESS_KEY": env.get("AWS_SECRET_ACCESS_KEY") or None,
        "S3_TIMEOUT_SECONDS": _int(env, "S3_TIMEOUT_SECONDS", 10),
        # Serve photos from S3 by a short-lived redirect to a presigned GET (true) instead of through the app.
        "PHOTO_REDIRECT": (env.get("PHOTO_REDIRECT") or "").lower() in ("1", "true", "yes", "on"),
        "PHOTO_REDIRECT_SECONDS": _int(env, "PHOTO_REDIRECT_SECONDS", 120),
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "WECHAT_APPID": env.get("WECHAT_APPID") or None,
        "WECHAT_SECRET": env.get("WECHAT_SECRET") or None,
        "WECHAT_API_BASE": env.get("WECHAT_API_BASE") or "https://api.weixin.qq.com",
        # Reminders: the subscribe-message templates per kind (JSON, see README), WeChat's quiet hours
        # ("21-8": from 21:00 up to 08:00 Asia/Shanghai; empty = none), which mini-program build opens,
        # and how long one `reminders run` may spend sending before it stops (the next run goes on).
        "WECHAT_TEMPLATES": _templates(env.get("WECHAT_TEMPLATES")),
        "REMINDER_QUIET_HOURS": _quiet_hours(env.get("REMINDER_QUIET_HOURS", "21-8")),
        "WECHAT_MINIPROGRAM_STATE": env.get("WECHAT_MINIPROGRAM_STATE") or "formal",
        "REMINDER_MAX_SECONDS": _int(env, "REMINDER_MAX_SECONDS", 240),
        "TOKEN_TTL_HOURS": _int(env, "TOKEN_TTL_HOURS", 72),
        # The console's map: a tile URL template ({z}/{x}/{y}; unset: the shops on a plain background,
        # fully offline), its attribution, and whether its tiles are in GCJ-02 (高德/腾讯) rather than
        # WGS-84; how long the overview's graded pass is kept per jurisdiction (0 = not kept).
        "MAP_TILE_URL": env.get("MAP_TILE_URL") or None,
        # The mini-program's H5 build served at /m/ [miniprogram/dist/h5 when built].
        "MINIAPP_H5_DIR": env.get("MINIAPP_H5_DIR") or None,
        # The claim sheet's QR codes hold <prefix>?code=<claim code> (the address registered in the
        # mini-program's admin for 扫普通链接二维码打开小程序), unset: the claim code itself.
        "CLAIM_QR_URL_PREFIX": env.get("CLAIM_QR_URL_PREFIX") or None,
        "MAP_TILE_ATTRIBUTION": env.get("MAP_TILE_ATTRIBUTION") or "",
        "MAP_TILE_GCJ02": (env.get("MAP_TILE_GCJ02") or "").lower() in ("1", "true", "yes", "on"),
        "OVERVIEW_CACHE_SECONDS": _int(env, "OVERVIEW_CACHE_SECONDS", 60),
        # Whether a web worker grades a stale pass again in a background thread (seconds of CPU beside
        # its requests); off where `overview refresh` runs from cron: workers then only read passes.
        "OVERVIEW_REFRESH_IN_WORKERS": (env.get("OVERVIEW_REFRESH_IN_WORKERS") or "true").lower()
        in ("1", "true", "yes", "on"),
        "PHOTO_URL_TTL_MINUTES": _int(env, "PHOTO_URL_TTL_MINUTES", 30),
        # Where clients reach the app (signed photo links start with it), e.g. https://api.example.cn;
        # unset: the links are relative to the host the client called.
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL") or None,
        "RETENTION_YEARS": _int(env, "RETENTION_YEARS", 5),
        # The city's bounding box (south, west, north, east) for shop coordinates: 济宁市.
        "CITY_BOUNDS": tuple(float(x) for x in (env.get("CITY_BOUNDS") or "34.4,115.7,36.1,117.7").split(",")),
        # 联单: weighed and declared kg differing by more than this percentage of the declared
        # figure make the slip "disputed"; serials are PREFIX + yyyymmdd + "-" + daily number.
        "HANDOVER_TOLERANCE_PERCENT": _int(env, "HANDOVER_TOLERANCE_PERCENT", 20),
        "HANDOVER_SERIAL_PREFIX": env.get("HANDOVER_SERIAL_PREFIX") or "JN",
        # Inspections: farther than this from the shop is flagged; rectification deadlines in days.
        "INSPECTION_FAR_METRES": _int(env, "INSPECTION_FAR_METRES", 500),
        "RECTIFICATION_DAYS": _int(env, "RECTIFICATION_DAYS", 7),
        "RECTIFICATION_RETRY_DAYS": _int(env, "RECTIFICATION_RETRY_DAYS", 3),
        "CASE_DAYS": _int(env, "CASE_DAYS", 15),
        # Compliance engine (分类+精准): cleaning interval by scale (small, medium, large), days;
        # "due soon" window; the longest gap between kitchen-waste handovers; how long a pending slip counts.
        "PURIFIER_INTERVAL_DAYS": tuple(int(x) for x in (env.get("PURIFIER_INTERVAL_DAYS") or "90,60,30").split(",")),
        "DUE_SOON_DAYS": _int(env, "DUE_SOON_DAYS", 7),
        "WASTE_MAX_GAP_DAYS": _int(env, "WASTE_MAX_GAP_DAYS", 3),
        "PENDING_SLIP_HOURS": _int(env, "PENDING_SLIP_HOURS", 48),
        # Plausibility (waste_low): a shop's kitchen waste per cooking head per day over 30 days below
        # this share of its peers' median is flagged; a slip with bins but no kg counts this many kg
        # a bin (a 120 L bin at 0.9 t/m³); the peers' medians are recomputed at most this often.
        "WASTE_LOW_SHARE": _float(env, "WASTE_LOW_SHARE", 0.25),
        "WASTE_KG_PER_BIN": _float(env, "WASTE_KG_PER_BIN", 108.0),
        "WASTE_PEER_CACHE_SECONDS": _int(env, "WASTE_PEER_CACHE_SECONDS", 600),
        # Ed25519 private key (base64 of its raw 32 bytes) signing export receipts; derived from
        # SECRET_KEY when unset (set it apart so SECRET_KEY can be rotated without new receipts' key changing).
        "EXPORT_SIGNING_KEY": env.get("EXPORT_SIGNING_KEY") or None,
        # Per-user daily photo upload quota (Asia/Shanghai days).
        "PHOTO_DAILY_COUNT": _int(env, "PHOTO_DAILY_COUNT", 300),
        "PHOTO_DAILY_MB": _int(env, "PHOTO_DAILY_MB", 1024),
        # Per-user limits shared by all workers (0 = off): writes (POST/PUT/PATCH/DELETE) per
        # minute, exports per hour.  Over them → 429 with Retry-After.
        "RATE_LIMIT_WRITES_PER_MINUTE": _int(env, "RATE_LIMIT_WRITES_PER_MINUTE", 120),
        "RATE_LIMIT_EXPORTS_PER_HOUR": _int(env, "RATE_LIMIT_EXPORTS_PER_HOUR", 30),
        # Anonymous WeChat logins per client address a minute (each is a call to WeChat); generous,
        # as many phones may share one address behind a carrier's or a mall's NAT.
        "RATE_LIMIT_WECHAT_LOGINS_PER_MINUTE": _int(env, "RATE_LIMIT_WECHAT_LOGINS_PER_MINUTE", 60),
        # Seconds a SQLite connection waits for another writer before giving up.
        "SQLITE_BUSY_TIMEOUT_MS": _int(env, "SQLITE_BUSY_TIMEOUT_MS", 15000),
        # Number of proxies in front of the app whose X-Forwarded-For may be trusted.
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        # Photos are at most 10 MB; the multipart envelope gets a little room on top.
        "MAX_CONTENT_LENGTH": 10 * 1024 * 1024 + 64 * 1024,
        "JSON_AS_ASCII": False,
        # flask-smorest / OpenAPI
        "API_TITLE": "餐饮油烟与餐厨废弃物监管 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
    for key, value in overrides.items():
        if key == "DATABASE_URL":
            key = "SQLALCHEMY_DATABASE_URI"
        config[key] = value
    config["TESTING"] = config["APP_ENV"] == "testing" or bool(overrides.get("TESTING"))

    if config["APP_ENV"] == "production" and not config["SECRET_KEY"]:
        raise ConfigError(
            "APP_ENV=production needs SECRET_KEY: set it to a long random value, e.g. "
            "the output of `python -c \"import secrets; print(secrets.token_hex(32))\"`."
        )
    if not config["SECRET_KEY"]:
        # Development and tests only: a fixed, clearly non-secret key.
        config["SECRET_KEY"] = "dev-insecure-secret-key-do-not-use-in-production"
    if config["EXPORT_SIGNING_KEY"]:
        try:
            raw = base64.b64decode(config["EXPORT_SIGNING_KEY"], validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ConfigError("EXPORT_SIGNING_KEY must be the base64 of a raw 32-byte Ed25519 private key, e.g. the "
                              "output of `python -c \"import base64, os; print(base64.b64encode(os.urandom(32)).decode())\"`.")
    prefix = config["CLAIM_QR_URL_PREFIX"]
    if prefix and (not prefix.startswith(("https://", "http://")) or any(c.isspace() for c in prefix)):
        raise ConfigError(f"CLAIM_QR_URL_PREFIX must be an http(s) address like https://bureau.example.cn/claim, "
                          f"got {prefix!r}")
    if config["MAP_TILE_URL"] and not config["MAP_TILE_URL"].startswith("https://") \
            and not config["MAP_TILE_URL"].startswith("http://"):
        raise ConfigError(f"MAP_TILE_URL must be an http(s) URL template like https://tiles.example.cn/{{z}}/{{x}}/{{y}}.png, "
                          f"got {config['MAP_TILE_URL']!r}")
    if config["STORAGE_URL"]:
        try:
            storage.parse_url(config["STORAGE_URL"])
        except storage.ConfigurationError as error:
            raise ConfigError(str(error)) from None
    if config["SQLALCHEMY_DATABASE_URI"]:
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if (config["SQLALCHEMY_DATABASE_URI"] or "").startswith("postgresql"):
        # Sessions in UTC: psycopg then returns datetime.timezone.utc values, which UTCDateTime
        # passes through; in the server's zone (a ZoneInfo) building and converting them took a
        # third of the compliance export's fetch.  Every stored time is timestamptz either way.
        options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"options": "-c TimeZone=UTC", **options.get("connect_args", {})}
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    return config


def dev_login_enabled(config):
    """Dev login (codes ``dev-<name>``) exists only in development without WeChat credentials."""
    return config["APP_ENV"] == "development" and not config.get("WECHAT_APPID")
