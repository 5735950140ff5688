"""The console through the test client: sessions, CSRF, scope, errors as pages, forms that keep what
was typed, exports and the claim-code sheet.  What needs a browser is in test_console_browser.py."""
import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from server import clock
from server.extensions import db
from server.models.audit import AuditEntry
from server.models.user import User
from server.services import audit
from tests.console_city import PASSWORD, build, console_login, csrf_of
from tests.helpers import bearer


@pytest.fixture
def city(client, make_user, make_shop, login):
    return build(client, make_user, make_shop, login)


@pytest.fixture
def desk(client, city):
    """The regulator logged in to the console: the client holds the session cookie."""
    assert console_login(client).status_code == 303
    return client


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:500])
    return response.get_data(as_text=True)


def test_login_sets_a_console_cookie_that_never_opens_the_api(client, city):
    assert client.get("/console/shops").status_code == 302  # no session → the login page
    assert "/console/login" in client.get("/console/shops").headers["Location"]
    wrong = console_login(client, password="wrong-Passw0rd")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)
    assert 'value="li.jianguan"' in wrong.get_data(as_text=True)  # what was typed is kept
    response = console_login(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP in development
    assert client.get("/console/").status_code == 200
    # The cookie is for /console only, and the API reads bearer tokens only.
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Cookie": cookie.split(";")[0]}).status_code == 401


def test_a_bearer_token_does_not_open_a_page_and_https_makes_the_cookie_secure(client, city, login):
    headers = login(db.session.get(User, city.regulator_id))
    assert client.get("/console/", headers=headers).status_code == 302
    token = csrf_of(client.get("/console/login", base_url="https://console.example").get_data(as_text=True))
    response = client.post("/console/login", base_url="https://console.example",
                           data={"username": "li.jianguan", "password": PASSWORD, "csrf_token": token},
                           headers={"Referer": "https://console.example/console/login"})
    assert response.status_code == 303 and "Secure" in response.headers["Set-Cookie"]


def test_every_post_needs_the_csrf_token(client, city):
    refused = client.post("/console/login", data={"username": "li.jianguan", "password": PASSWORD})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    assert refused.mimetype == "text/html"
    console_login(client)
    url = f"/console/change-requests/{city.change_request_id}/decision"
    assert client.post(url, data={"approved": "true"}).status_code == 400
    assert client.post(url, data={"approved": "true", "csrf_token": "forged"}).status_code == 400
    pending = client.get(f"/api/v1/shops/{city.shop['id']}/change-requests",
                         headers=bearer_of(client, city)).get_json()
    assert pending[0]["status"] == "pending"  # nothing was decided


def bearer_of(client, city):
    token = client.post("/api/v1/auth/password-login",
                        json={"username": "li.jianguan", "password": PASSWORD}).get_json()["token"]
    return bearer(token)


def test_pages_render_for_the_regulator_and_errors_are_pages(desk, city):
    for url in ("/console/", "/console/shops", f"/console/shops/{city.shop['id']}", "/console/stats",
                "/console/queues", "/console/queues?tab=disputed", "/console/queues?tab=review",
                "/console/queues?tab=overdue", "/console/queues?tab=cases", "/console/queues?tab=complaints",
                f"/console/cases/{city.case_id}", "/console/complaints", "/console/import", "/console/claim-codes",
                "/console/people"):
        response = desk.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "<script>" not in response.get_data(as_text=True)  # no inline script anywhere
    # Another district's shop, case-insensitively the same as one that does not exist: 404 pages.
    assert "找不到页面" in page(desk, f"/console/shops/{city.other_shop['id']}", 404)
    page(desk, f"/console/shops/{city.other_shop['id']}/card", 404)
    page(desk, "/console/shops/99999999", 404)
    page(desk, "/console/no-such-page", 404)
    assert "取值必须是以下之一" in page(desk, "/console/shops?grade=Z", 422)


def test_the_list_filters_sorts_and_exports_what_it_shows(desk, city):
    html = page(desk, "/console/shops?q=古槐路&sort=name")
    assert "老王烧烤古槐路店" in html and "兖州羊汤馆" not in html
    export = re.search(r'href="(/console/exports/compliance\.csv[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "q=" in export
    response = desk.get(export)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2 and "老王烧烤古槐路店" in rows[1]  # the header and the one shop shown
    assert response.headers["X-Export-Receipt"]
    fragment = desk.get("/console/shops?district_code=370811", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "<td>任城区</td>" in fragment.get_data(as_text=True)  # the district's name, not its code


def test_deciding_a_change_request_goes_through_the_service_and_its_audit(desk, city):
    html = page(desk, "/console/queues?tab=changes")
    assert "老王烧烤古槐路店" in html and "任城区" in html and "基准灶头数" in html and "店铺 #" not in html
    url = f"/console/change-requests/{city.change_request_id}/decision"
    response = desk.post(url, data={"approved": "true", "note": "核实无误", "csrf_token": csrf_of(html)},
                         headers={"HX-Request": "true"})
    assert response.status_code == 200 and "已批准" in response.get_data(as_text=True)
    assert "基准灶头" in page(desk, f"/console/shops/{city.shop['id']}") and ">6（" in page(desk, f"/console/shops/{city.shop['id']}")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "shop.change_request_decision"))
    assert entry.actor_id == city.regulator_id
    again = desk.post(url, data={"approved": "false", "csrf_token": csrf_of(html)}, headers={"HX-Request": "true"})
    assert again.status_code == 422 and "该变更申请已处理" in again.get_data(as_text=True)


def test_a_form_that_fails_shows_the_message_beside_the_field_and_keeps_what_was_typed(desk, city):
    html = page(desk, f"/console/cases/{city.case_id}")
    token = csrf_of(html)
    response = desk.post(f"/console/cases/{city.case_id}/transitions",
                         data={"to": "assigned", "note": "请尽快处置", "assignee_id": "", "csrf_token": token})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "转办须指定承办人" in body and 'value="请尽快处置"' in body
    assert "<html" in body  # without htmx: a whole page
    response = desk.post(f"/console/cases/{city.case_id}/transitions",
                         data={"to": "assigned", "note": "请尽快处置", "assignee_id": str(city.inspector_id),
                               "csrf_token": token})
    assert response.status_code == 303
    assert "转办" in page(desk, f"/console/cases/{city.case_id}")


def test_an_inspector_sees_no_regulator_pages(client, city):
    console_login(client, "wang.zhifa")
    assert client.get("/console/").status_code == 200
    for url in ("/console/stats", "/console/people", "/console/import", "/console/exports/compliance.csv"):
        assert client.get(url).status_code == 403, url


def test_idle_and_logout_end_the_session(desk, city):
    start = clock.utcnow()
    clock.freeze(start + dt.timedelta(minutes=31))
    try:
        response = desk.get("/console/shops")
        assert response.status_code == 302 and "login" in response.headers["Location"]
    finally:
        clock.freeze(None)
    console_login(desk)
    token = csrf_of(page(desk, "/console/"))
    assert desk.post("/console/logout", data={"csrf_token": token}).status_code == 303
    assert desk.get("/console/").status_code == 302


def test_next_never_leaves_the_console(client, city):
    for target in ("//evil.example/console/", "https://evil.example/", "/api/v1/me"):
        token = csrf_of(client.get("/console/login").get_data(as_text=True))
        response = client.post("/console/login", data={"username": "li.jianguan", "password": PASSWORD,
                                                       "csrf_token": token, "next": target})
        assert response.headers["Location"].endswith("/console/"), target


def test_claim_code_sheet_codes_claim_the_shop(desk, city, client, login_as, make_shop, app):
    from server.models.shop import Shop
    unclaimed = Shop(**{c: getattr(db.session.get(Shop, city.shop["id"]), c) for c in (
        "district_code", "lat", "lng", "cooking_heads", "purifier_installed", "purifier_rated_efficiency",
        "registered_on", "created_by_id", "geo_cell")}, name="待认领面馆", uscc="91370811MA3CLAIM1X"[:18],
        address="济宁市任城区共青团路1号", address_key="共青团路1号", status="active", source="import")
    db.session.add(unclaimed)
    db.session.flush()
    audit.record("shop.import", "shop", unclaimed.id, "test: an imported shop", shop_id=unclaimed.id)
    db.session.commit()
    html = page(desk, "/console/claim-codes?district_code=370811")
    assert "待认领的在营店铺：<strong id=\"waiting\">1</strong>" in html
    sheet = desk.post("/console/claim-codes", data={"district_code": "370811", "offset": "0",
                                                    "csrf_token": csrf_of(html)}).get_data(as_text=True)
    assert "待认领面馆" in sheet and "<svg" in sheet
    code = re.search(r"认领码 ([A-Za-z0-9-]+)<", sheet).group(1)
    _, owner = login_as()
    claimed = client.post("/api/v1/shops/claim", json={"code": code}, headers=owner)
    assert claimed.status_code == 200 and claimed.get_json()["name"] == "待认领面馆"
    assert page(desk, "/console/claim-codes?district_code=370812", 404)


def test_people_page_disables_and_rescopes_staff_through_the_service(desk, city, client, login, make_user):
    inspector = db.session.get(User, city.inspector_id)
    api = login(inspector)
    html = page(desk, "/console/people")
    assert f'/console/people/{city.inspector_id}' in html and f'/console/people/{city.regulator_id}"' not in html
    form = page(desk, f"/console/people/{city.inspector_id}")
    assert 'value="370811" checked' in form and "全市（不限区县）" not in form  # city-wide is the admin's
    url = f"/console/people/{city.inspector_id}"
    # Outside the regulator's jurisdiction: refused, nothing changed.
    outside = desk.post(url, data={"role": "inspector", "jurisdiction": "370812", "csrf_token": csrf_of(form)})
    assert outside.status_code == 403 and "超出您辖区" in outside.get_data(as_text=True)
    assert db.session.get(User, city.inspector_id).jurisdiction == ["370811"]
    # A regulator may not make an admin: the choice is not offered, and a forged one is refused.
    assert 'value="admin"' not in form
    assert desk.post(url, data={"role": "admin", "csrf_token": csrf_of(form)}).status_code == 403
    done = desk.post(url, data={"display_name": "王执法（停用）", "role": "inspector", "disabled": "true",
                                "jurisdiction": "370811", "csrf_token": csrf_of(form), "back": "/console/people"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/console/people")
    db.session.expire_all()
    account = db.session.get(User, city.inspector_id)
    assert account.disabled and account.display_name == "王执法（停用）"
    assert client.get("/api/v1/me", headers=api).status_code == 401  # its tokens stopped at once
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.object_id == city.inspector_id and "disabled: False → True" in entry.summary
    assert "已停用" in page(desk, "/console/people")
    # The regulator cannot reach an admin's account, another regulator's, or change itself.
    admin = make_user("admin", jurisdiction=None)
    page(desk, f"/console/people/{admin.id}", 404)
    page(desk, f"/console/people/{city.regulator_id}", 404)


def test_collectors_are_registered_and_their_licence_renewed_from_the_people_page(desk, city, make_company):
    from tests.helpers import credit_code
    html = page(desk, "/console/people")
    bad = desk.post("/console/collectors", data={"name": "任城环卫收运", "uscc": "12345", "licence_no": "JN-2026-07",
                                                 "licence_valid_until": "2027-06-30", "districts": "370811",
                                                 "csrf_token": csrf_of(html)}, headers={"HX-Request": "true"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'value="任城环卫收运"' in text and 'value="JN-2026-07"' in text
    assert re.search(r'field-error[^>]*>[^<]*信用代码', text), text[:2000]
    good = desk.post("/console/collectors", data={"name": "任城环卫收运", "uscc": credit_code(77), "licence_no": "JN-2026-07",
                                                  "licence_valid_until": "2027-06-30", "districts": "370811",
                                                  "csrf_token": csrf_of(html), "back": "/console/people"})
    assert good.status_code == 303
    html = page(desk, "/console/people")
    assert "任城环卫收运" in html and "JN-2026-07" in html
    company_id = int(re.search(r'/console/collectors/(\d+)"', html).group(1))
    form = page(desk, f"/console/collectors/{company_id}")
    assert 'value="2027-06-30"' in form and 'value="370811" checked' in form
    renewed = desk.post(f"/console/collectors/{company_id}", headers={"HX-Request": "true"}, data={
        "name": "任城环卫收运", "uscc": credit_code(77), "licence_no": "JN-2027-01", "licence_valid_until": "2028-06-30",
        "districts": "370811", "csrf_token": csrf_of(form)})
    assert renewed.status_code == 200 and "已保存收运单位" in renewed.get_data(as_text=True)
    assert "2028-06-30" in page(desk, "/console/people")
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "collector.update",
                                                       AuditEntry.object_id == company_id)).first()
    # A company serving only 兖州区 is not this regulator's: not listed, its page a 404, its form refused.
    other = make_company(districts=("370812",), name="兖州收运")
    assert "兖州收运" not in page(desk, "/console/people")
    page(desk, f"/console/collectors/{other.id}", 404)
    assert desk.post(f"/console/collectors/{other.id}", data={"licence_no": "X", "csrf_token": csrf_of(form)}).status_code == 404


def test_a_disputed_slip_is_listed_and_becomes_a_case(desk, city, contracted):
    handed = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat()
    slip = desk.post(f"/api/v1/shops/{contracted.shop_id}/handovers", headers=contracted.owner, json={
        "handed_over_at": handed, "waste_type": "kitchen_waste", "bins": 2, "declared_kg": 40,
        "collector_company_id": contracted.company_id}).get_json()
    answered = desk.post(f"/api/v1/handovers/{slip['id']}/confirm", json={"weighed_kg": 60}, headers=contracted.collector)
    assert answered.get_json()["status"] == "disputed"
    html = page(desk, "/console/queues?tab=disputed")
    assert slip["serial"] in html and f'id="case-handover-{slip["id"]}"' in html
    opened = desk.post("/console/cases", headers={"HX-Request": "true"}, data={
        "source": "handover", "source_id": str(slip["id"]), "note": "称重与申报相差 50%，立案核查",
        "csrf_token": csrf_of(html)})
    text = opened.get_data(as_text=True)
    assert opened.status_code == 200 and "查看案件" in text, text[:1000]
    case_id = int(re.search(r"/console/cases/(\d+)", text).group(1))
    assert "称重与申报相差 50%" in page(desk, f"/console/cases/{case_id}")


def test_shop_page_actions_status_claim_code_and_the_printed_file(desk, city):
    shop_id = city.shop["id"]
    html = page(desk, f"/console/shops/{shop_id}")
    assert "变更营业状态" in html and "签发认领码" in html and "打印一店一档" in html
    token = csrf_of(html)
    moved = desk.post(f"/console/shops/{shop_id}/status", headers={"HX-Request": "true"},
                      data={"status": "suspended", "reason": "净化设施整改期间停业", "effective_on": "2026-12-01",
                            "csrf_token": token})
    assert moved.status_code == 200 and "停业整顿" in moved.get_data(as_text=True)
    assert "停业整顿" in page(desk, f"/console/shops/{shop_id}")
    missing = desk.post(f"/console/shops/{shop_id}/status", headers={"HX-Request": "true"},
                        data={"status": "active", "csrf_token": token})
    assert missing.status_code == 422 and "原因" in missing.get_data(as_text=True)
    code = desk.post(f"/console/shops/{shop_id}/claim-code", headers={"HX-Request": "true"}, data={"csrf_token": token})
    body = code.get_data(as_text=True)
    assert code.status_code == 200 and "<svg" in body and "认领码" in body
    other = desk.post(f"/console/shops/{city.other_shop['id']}/claim-code", data={"csrf_token": token})
    assert other.status_code == 404  # another district's shop: not there
    printed = page(desk, f"/console/shops/{shop_id}/file")
    assert "一店一档" in printed and city.shop["name"] in printed and "集烟罩" in printed and "thumb" in printed


def test_a_12345_ticket_entered_at_the_desk(desk, city):
    html = page(desk, f"/console/hotline?shop_id={city.shop['id']}")
    assert city.shop["name"] in html and "王执法" in html  # the assignee picker names the district's staff
    form = {"external_case_no": "12345-20261207-0042", "district_code": "370811", "received_at": "2026-12-07T09:30",
            "summary": "市民反映夜间油烟扰民", "note": "12345 派单", "shop_id": str(city.shop["id"]),
            "assignee_id": str(city.inspector_id), "csrf_token": csrf_of(html)}
    made = desk.post("/console/hotline", data=form)
    assert made.status_code == 303 and "/console/cases/" in made.headers["Location"]
    case_page = page(desk, made.headers["Location"].split("localhost")[-1])
    assert "12345-20261207-0042" in case_page and "王执法" in case_page and city.shop["name"] in case_page
    again = desk.post("/console/hotline", data=form)
    assert again.status_code == 422 and "已受理" in again.get_data(as_text=True)
    assert page(desk, f"/console/hotline?shop_id={city.other_shop['id']}", 404)
    # A ticket with the place it happened and no district: the district whose boundary holds the point.
    placed = desk.post("/console/hotline", data={
        "external_case_no": "12345-20261207-0043", "district_code": "", "received_at": "2026-12-07T10:00",
        "summary": "后街无证烧烤摊", "note": "12345 派单", "lat": "35.4300", "lng": "116.6200", "address": "任城区后街",
        "csrf_token": csrf_of(html)})
    assert placed.status_code == 303, placed.get_data(as_text=True)
    assert "任城区后街" in page(desk, placed.headers["Location"].split("localhost")[-1])
    neither = desk.post("/console/hotline", data={**form, "external_case_no": "12345-X", "district_code": ""})
    assert neither.status_code == 422 and "热线工单必填" in neither.get_data(as_text=True)


def test_an_admin_resets_a_password_and_the_user_must_choose_their_own(client, city, make_user):
    from werkzeug.security import generate_password_hash
    make_user("admin", jurisdiction=None, name="张管理", username="zhang.admin",
              password_hash=generate_password_hash(PASSWORD))
    assert console_login(client, username="zhang.admin").status_code == 303
    html = page(client, f"/console/people/{city.inspector_id}")
    assert "重置密码" in html
    reset = client.post(f"/console/people/{city.inspector_id}/password", headers={"HX-Request": "true"},
                        data={"password": "Temp-Reset-2026!", "csrf_token": csrf_of(html)})
    assert reset.status_code == 200 and "下次登录时须修改" in reset.get_data(as_text=True)
    client.post("/console/logout", data={"csrf_token": csrf_of(page(client, "/console/"))})
    assert console_login(client, username="wang.zhifa", password=PASSWORD).status_code == 401  # the old one is gone
    assert console_login(client, username="wang.zhifa", password="Temp-Reset-2026!").status_code == 303
    for url in ("/console/", "/console/shops", "/console/queues"):
        moved = client.get(url)
        assert moved.status_code == 302 and moved.headers["Location"].endswith("/console/password"), url
    form = page(client, "/console/password")
    assert "管理员为您设置或重置了密码" in form
    token = csrf_of(form)
    wrong = client.post("/console/password", data={"current_password": "nope", "password": "Mine-Own-Pass-2026",
                                                   "password_again": "Mine-Own-Pass-2026", "csrf_token": token})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    twice = client.post("/console/password", data={"current_password": "Temp-Reset-2026!", "password": "Mine-Own-Pass-2026",
                                                   "password_again": "Mine-Own-Pass-2027", "csrf_token": token})
    assert twice.status_code == 422 and "不一致" in twice.get_data(as_text=True)
    done = client.post("/console/password", data={"current_password": "Temp-Reset-2026!", "password": "Mine-Own-Pass-2026",
                                                  "password_again": "Mine-Own-Pass-2026", "csrf_token": token})
    assert done.status_code == 303
    assert client.get("/console/shops").status_code == 200
    api = client.post("/api/v1/auth/password-login", json={"username": "wang.zhifa", "password": "Mine-Own-Pass-2026"})
    assert api.get_json()["user"]["password_must_change"] is False


def test_the_console_lists_ones_exports_and_hands_out_their_receipts(desk, city, client, make_user):
    exported = desk.get("/console/exports/compliance.csv")
    assert exported.status_code == 200
    body = exported.get_data()
    receipt_id = exported.headers["X-Export-Receipt"]
    listed = page(desk, "/console/exports")
    assert "合规名录" in listed and "下载回执" in listed
    receipt = desk.get(f"/console/exports/receipts/{receipt_id}.json")
    assert receipt.status_code == 200 and "attachment" in receipt.headers["Content-Disposition"]
    import hashlib
    import json as json_module
    document = json_module.loads(receipt.get_data(as_text=True))
    assert document["sha256"] == hashlib.sha256(body).hexdigest() and document["complete"] is True
    from werkzeug.security import generate_password_hash
    make_user("regulator", jurisdiction=["370811"], name="另一位", username="ling.yiwei",
              password_hash=generate_password_hash(PASSWORD))
    desk.post("/console/logout", data={"csrf_token": csrf_of(page(desk, "/console/"))})
    assert console_login(desk, username="ling.yiwei").status_code == 303
    assert desk.get(f"/console/exports/receipts/{receipt_id}.json").status_code == 404  # not the exporter
    assert "还没有导出记录" in page(desk, "/console/exports")
