"""Open311 GeoReport v2 (the open standard FixMyStreet and US cities use) over our complaints.

Services are the complaint categories.  A partner (a district's 政务 platform, a community app) posts
requests with its API key; anyone may read requests back — without personal data: no phone, no
names, no e-mail, no internal reasons.  Our statuses map to Open311's two: closed for closed,
duplicate and not-ours complaints, open otherwise; ``status_notes`` is staff's public reply.
"""
import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import select

from server.clock import to_shanghai, utcnow
from server.errors import fail
from server.extensions import db
from server.models.complaint import CATEGORIES, Complaint, PartnerKey
from server.services import audit
from server.services.enforcement import complaints

GROUP = "餐饮油烟与餐厨废弃物"
DESCRIPTIONS = {"fume": "餐饮油烟直排、净化设施未开启或未清洗", "open_air_bbq": "露天烧烤油烟",
                "outside_store": "餐饮店出店占道经营", "waste_dumping": "餐厨垃圾乱倒、混入生活垃圾"}
CLOSED = ("closed", "duplicate", "not_ours")
DEFAULT_DAYS, DEFAULT_ROWS, MAX_ROWS = 90, 1000, 1000
URL = re.compile(r"^https?://[^\s]{1,490}$")
EARLIEST, LATEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
MAX_ID, MAX_PAGE = 2**31 - 1, 100_000


def _hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(name):
    """A new partner key: returned once, stored as its hash."""
    if db.session.scalar(select(PartnerKey.id).where(PartnerKey.name == name)):
        raise ValueError(f"已有名为 {name} 的合作方密钥（先 revoke-key 再重新创建）")
    key = secrets.token_urlsafe(32)
    partner = PartnerKey(name=name, key_hash=_hash(key), created_at=utcnow())
    db.session.add(partner)
    db.session.flush()
    audit.record("open311.key_create", "partner_key", partner.id, f"创建 Open311 合作方密钥：{name}")
    db.session.commit()
    return key


def revoke_key(name):
    partner = db.session.scalar(select(PartnerKey).where(PartnerKey.name == name, PartnerKey.revoked_at.is_(None)))
    if partner is None:
        raise ValueError(f"没有名为 {name} 的有效密钥")
    partner.revoked_at = utcnow()
    partner.name = f"{name} (revoked {partner.id})"  # the name may be issued again
    audit.record("open311.key_revoke", "partner_key", partner.id, f"吊销 Open311 合作方密钥：{name}")
    db.session.commit()


def partner_for(key):
    """The partner whose key this is, or 403 (checked before anything else is looked at)."""
    partner = db.session.scalar(select(PartnerKey).where(PartnerKey.key_hash == _hash(key or "")))
    if not key or partner is None or partner.revoked_at is not None:
        fail(403, "api_key 无效或已吊销")
    return partner


def services():
    return [{"service_code": code, "service_name": name, "description": DESCRIPTIONS[code], "metadata": False,
             "type": "realtime", "keywords": "餐饮,油烟,城管", "group": GROUP} for code, name in CATEGORIES.items()]


def service_definition(code):
    if code not in CATEGORIES:
        fail(404, "没有这项服务：可用 " + "、".join(CATEGORIES))
    return {"service_code": code, "attributes": []}


def _number(form, name):
    try:
        value = float(form[name])
    except (KeyError, ValueError):
        fail(400, f"{name} 须为数字")
    if value != value or value in (float("inf"), float("-inf")):
        fail(400, f"{name} 须为数字")
    return value


def post_request(form, form_encoded=True):
    partner = partner_for(form.get("api_key"))
    if not form_encoded:
        fail(400, "请以 application/x-www-form-urlencoded 提交")
    code = form.get("service_code")
    if code not in CATEGORIES:
        fail(400, "service_code 缺失或未知：可用 " + "、".join(CATEGORIES))
    description = (form.get("description") or "").strip()
    if not description or len(description) > 1000:
        fail(400, "description 必填，且不超过 1000 字")
    has_point = form.get("lat") is not None or form.get("long") is not None
    address = (form.get("address_string") or "").strip()
    if not has_point and not address:
        fail(400, "须提供 lat 与 long，或 address_string")
    lat, lng = (_number(form, "lat"), _number(form, "long")) if has_point else (None, None)
    media_url = form.get("media_url") or None
    if media_url and not URL.match(media_url):
        fail(400, "media_url 须为 http(s) 地址")
    phone = form.get("phone") or None
    if phone and not re.fullmatch(r"1\d{10}", phone):
        phone = None  # a partner's free-form phone is not ours to keep when it is not a mobile number
    data = {"category": code, "description": description, "lat": lat, "lng": lng, "address": address[:200] or None,
            "district_code": form.get("attribute[district_code]") or None, "media_url": media_url,
            "contact_phone": phone}
    if lat is None and not data["district_code"]:
        fail(400, "仅有地址时须提供 attribute[district_code]")
    complaint = complaints.file(data, partner=partner)
    return [{"service_request_id": str(complaint.id),
             "service_notice": "已受理，将由所在区县城管部门处理"}]


def _moment(text, name):
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(400, f"{name} 须为 W3C 日期时间，如 2024-03-22T09:30:00+08:00")
    if moment.tzinfo is None:
        fail(400, f"{name} 须带时区")
    # No complaint lies outside 2000–2099: a date beyond asks for the same rows as the bound itself.
    return min(max(moment, EARLIEST), LATEST)


def _row(complaint):
    return {"service_request_id": str(complaint.id), "status": "closed" if complaint.status in CLOSED else "open",
            "status_notes": complaint.reply, "service_name": CATEGORIES[complaint.category],
            "service_code": complaint.category, "description": complaint.description,
            "requested_datetime": to_shanghai(complaint.created_at).isoformat(),
            "updated_datetime": to_shanghai(complaint.updated_at).isoformat(),
            "address": complaint.address, "lat": complaint.lat, "long": complaint.lng,
            "media_url": complaint.media_url}


def get_requests(args):
    statement = select(Complaint)
    if args.get("service_request_id"):
        try:
            ids = [int(part) for part in args["service_request_id"].split(",") if part.strip()][:MAX_ROWS]
        except ValueError:
            fail(400, "service_request_id 须为逗号分隔的编号")
        ids = [ident for ident in ids if 0 < ident <= MAX_ID]  # no request has another number
        statement = statement.where(Complaint.id.in_(ids))
    else:  # the spec: without ids, the last 90 days (or the dates asked for), at most 1,000
        end = _moment(args["end_date"], "end_date") if args.get("end_date") else utcnow()
        start = _moment(args["start_date"], "start_date") if args.get("start_date") else \
            end - dt.timedelta(days=DEFAULT_DAYS)
        if start > end:
            fail(400, "start_date 不能晚于 end_date")
        statement = statement.where(Complaint.created_at >= start, Complaint.created_at <= end)
    if args.get("service_code"):
        statement = statement.where(Complaint.category.in_(args["service_code"].split(",")))
    status = args.get("status")
    if status == "closed":
        statement = statement.where(Complaint.status.in_(CLOSED))
    elif status == "open":
        statement = statement.where(Complaint.status.not_in(CLOSED))
    elif status:
        fail(400, "status 须为 open 或 closed")
    try:
        page = max(1, int(args.get("page") or 1))
        size = min(MAX_ROWS, max(1, int(args.get("page_size") or DEFAULT_ROWS)))
    except ValueError:
        fail(400, "page 与 page_size 须为正整数")
    if page > MAX_PAGE:
        fail(400, f"page 不能超过 {MAX_PAGE}")
    rows = db.session.scalars(statement.order_by(Complaint.id.desc()).limit(size).offset((page - 1) * size))
    return [_row(complaint) for complaint in rows]


def get_request(request_id):
    complaint = db.session.get(Complaint, request_id) if 0 < request_id <= MAX_ID else None
    if complaint is None:
        fail(404, "请求不存在")
    return [_row(complaint)]
