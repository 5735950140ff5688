"""Every console page as its users see it, in Debian's Chromium at 1366×768 and at 390×844, as a
city-wide admin, a 任城区 regulator and an inspector, over a city with work in every queue: no shop
named by its id, no checklist code without its text, no English status or action word on screen,
photos at every decision, a handled item leaving its queue, a disputed slip settled, and at phone
width every menu item on screen and no page wider than the viewport.  Screenshots of every page at
both sizes go to the screenshots folder (see test_console_browser.py)."""
import datetime as dt
import os
import re

import pytest
from werkzeug.security import generate_password_hash

from server.clock import SHANGHAI
from server.extensions import db
from server.models.user import User
from tests.console_city import PASSWORD, build
from tests.helpers import gunicorn_serving, upload_photo
from tests.browser import SCREENSHOTS  # the browser fixture itself: conftest.py
from tests.test_inspections import NEAR, items

pytestmark = pytest.mark.timeout(600)
SIZES = {"desk": (1366, 768), "phone": (390, 844)}
# Words that are codes, not Chinese: a status, part, source, action or field left untranslated.
ENGLISH = re.compile(r"\b(accepted|assigned|handled|returned|sent_back|pending|confirmed|disputed|rejected|submitted|"
                     r"due_soon|overdue|never_cleaned|no_purifier|no_contract|contract_expired|purifier|hood|duct|"
                     r"kitchen_waste|waste_oil|rectification|handover|hotline|complaint|linked|not_ours|"
                     r"registration|patrol|import|active|suspended|open_air_bbq|outside_store|waste_dumping|fume|"
                     r"cooking_heads|district_code|[a-z]+\.[a-z_]+)\b")
CHECKLIST_CODE = re.compile(r"(?<![A-Za-z0-9])[PWO][0-9]{1,2}(?![A-Za-z0-9])")
SHOP_BY_ID = re.compile(r"店铺\s*#\s*\d+")


def ago(hours):
    return (dt.datetime.now(SHANGHAI) - dt.timedelta(hours=hours)).replace(microsecond=0).isoformat()


@pytest.fixture
def working_city(app_config, client, make_user, make_shop, make_company, login, login_as):
    """The console's small city, and work in every queue: two disputed slips (one already a case), an
    order answered with photos after an inspection whose failed items carry notes and photos, an
    overdue order, a citizen's complaint with a photo."""
    city = build(client, make_user, make_shop, login)
    make_user("admin", jurisdiction=None, name="张管理", username="zhang.admin",
              password_hash=generate_password_hash(PASSWORD))
    inspector = login(db.session.get(User, city.inspector_id))
    regulator = login(db.session.get(User, city.regulator_id))
    made = make_shop(name="王记砂锅古槐路店", street="古槐街道")
    company = make_company(["370811"], name="济宁洁城再生资源有限公司")
    contract = client.post(f"/api/v1/shops/{made.shop_id}/contract", headers=regulator, json={
        "collector_company_id": company.id, "contract_no": "HT-2026-18", "valid_from": "2026-01-01",
        "valid_until": "2099-12-31", "photo_ids": [upload_photo(client, regulator, 901)]})
    assert contract.status_code == 201, contract.get_data(as_text=True)
    _driver, driver = login_as("collector", company=company)
    slips = []
    for n in range(2):
        started = client.post(f"/api/v1/shops/{made.shop_id}/handovers", headers=made.owner, json={
            "handed_over_at": ago(3 + n), "waste_type": "kitchen_waste", "bins": 2, "declared_kg": 40,
            "collector_company_id": company.id, "photo_ids": [upload_photo(client, made.owner, 910 + n)]})
        assert started.status_code == 201, started.get_data(as_text=True)
        answered = client.post(f"/api/v1/handovers/{started.get_json()['id']}/confirm", headers=driver,
                               json={"weighed_kg": 95})
        assert answered.get_json()["status"] == "disputed"
        slips.append(answered.get_json()["id"])
    escalated = client.post("/api/v1/cases", headers=inspector,
                            json={"source": "handover", "source_id": slips[1], "note": "称重差异过大，转立案"})
    assert escalated.status_code == 201
    notes = {"P1": "净化器额定风量不足，油烟外溢", "W2": "餐厨垃圾桶未加盖，与其他垃圾混放"}
    checked = [dict(item, note=notes[item["code"]]) if item["code"] in notes else item
               for item in items(client, inspector, fails=tuple(notes))]
    body = {"inspected_at": ago(30), "lat": made.shop["lat"] + 0.0001, "lng": made.shop["lng"], "items": checked}
    inspection = client.post(f"/api/v1/shops/{made.shop_id}/inspections", headers=inspector, json=body)
    assert inspection.status_code == 201, inspection.get_data(as_text=True)
    order = inspection.get_json()["rectification"]
    answer = client.post(f"/api/v1/rectifications/{order['id']}/responses", headers=made.owner,
                         json={"note": "已更换滤网并清洗集烟罩", "photo_ids": [upload_photo(client, made.owner, 920)]})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    _citizen, citizen = login_as()
    complaint = client.post("/api/v1/complaints", headers=citizen, json={
        "category": "fume", "description": "晚上油烟直排居民楼", "lat": made.shop["lat"], "lng": made.shop["lng"],
        "photo_ids": [upload_photo(client, citizen, 930)]})
    assert complaint.status_code == 201
    db.session.remove()
    with gunicorn_serving(app_config, log_path=os.environ.get("CONSOLE_GUNICORN_LOG"),
                          OVERVIEW_CACHE_SECONDS="0") as api:
        yield {"city": city, "shop": made.shop, "slips": slips, "order": order["id"],
               "complaint": complaint.get_json()["id"], "base": api.removesuffix("/api/v1")}


def pages_of(world, role):
    city = world["city"]
    pages = ["/console/", "/console/shops", f"/console/shops/{world['shop']['id']}",
             f"/console/shops/{city.shop['id']}", f"/console/cases/{city.case_id}", "/console/complaints",
             "/console/claim-codes", f"/console/shops/{world['shop']['id']}/file", "/console/hotline",
             f"/console/hotline?shop_id={world['shop']['id']}"] + [f"/console/queues?tab={tab}" for tab in
                                        ("changes", "disputed", "review", "overdue", "cases", "complaints")]
    if role != "inspector":
        pages += ["/console/stats", "/console/stats?district_code=370811", "/console/import", "/console/people", "/console/exports", "/console/password"]
    return pages


def visible_text(page):
    """The page's text as a person reads it, without the small code printed beside a checklist item."""
    return page.evaluate("""() => { const body = document.body.cloneNode(true);
        body.querySelectorAll('small.code, script, style, .leaflet-control-attribution').forEach(e => e.remove());
        return body.innerText; }""")


def log_in(browser, world, username, size):
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", base_url=world["base"])
    page = context.new_page()
    page.goto("/console/login")
    page.screenshot(path=str(SCREENSHOTS / f"walk-login-{size}.png"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/")
    return context, page


@pytest.mark.parametrize("username, role", [("zhang.admin", "admin"), ("li.jianguan", "regulator"),
                                            ("wang.zhifa", "inspector")])
def test_every_page_names_things_in_chinese_at_both_sizes(browser, working_city, username, role):
    problems = []
    for size in SIZES:
        context, page = log_in(browser, working_city, username, size)
        for url in pages_of(working_city, role):
            response = page.goto(url)
            page.wait_for_load_state("networkidle")
            if response.status >= 400:
                problems.append((size, url, response.status))
                continue
            text = visible_text(page)
            for name, pattern in (("shop by id", SHOP_BY_ID), ("checklist code", CHECKLIST_CODE),
                                  ("English word", ENGLISH)):
                found = pattern.findall(text)
                if found:
                    problems.append((size, url, name, sorted(set(map(str, found)))[:5]))
            if size == "phone":
                wide = page.evaluate("document.documentElement.scrollWidth")
                if wide > SIZES["phone"][0]:
                    problems.append((size, url, "wider than the phone", wide))
                hidden = page.evaluate("""() => [...document.querySelectorAll('header.top nav a')].filter(a => {
                    const r = a.getBoundingClientRect(); return r.width === 0 || r.right > innerWidth || r.left < 0;
                    }).map(a => a.textContent)""")
                if hidden:
                    problems.append((size, url, "menu items off screen", hidden))
            smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll('figure.chart svg text')]
                .map(t => t.getBoundingClientRect().height).filter(h => h > 0), 99)""")
            if smallest < 12:
                problems.append((size, url, "chart labels smaller than 12 px", round(smallest, 1)))
            name = re.sub(r"[^a-z0-9]+", "-", url.removeprefix("/console").lower()).strip("-") or "overview"
            page.screenshot(path=str(SCREENSHOTS / f"walk-{role}-{size}-{name}.png"), full_page=True)
        context.close()
    assert not problems, problems


def test_evidence_at_each_decision_a_settled_slip_and_queues_that_empty(browser, working_city):
    context, page = log_in(browser, working_city, "li.jianguan", "desk")
    page.goto("/console/queues?tab=review")
    row = page.locator("table.list tbody tr").first
    assert row.locator("ul.failed li").count() == 2  # the inspection's failed items, by their text
    assert row.locator("ul.failed img").count() == 2 and row.locator("td:nth-child(5) img").count() == 1
    assert "已更换滤网" in row.inner_text()
    page.goto("/console/queues?tab=complaints")
    assert page.locator(".queue-item img").count() == 1  # the citizen's photo
    page.goto(f"/console/shops/{working_city['shop']['id']}")
    assert page.locator("ul.failed img").count() == 2  # each failed item's photo on the shop's page
    page.goto("/console/queues?tab=disputed")
    assert page.locator("a[role=tab].on .count").inner_text() == "1"  # the slip made a case has left
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1 and rows.first.locator("img").count() == 1
    assert "申报 40" in rows.first.inner_text() and "称重 95" in rows.first.inner_text()
    page.select_option("select[name=accept]", "declared")
    page.fill("input[name=reason]", "核对过磅单与监控，按申报数量计入")
    page.click("button:has-text('裁定')")
    page.wait_for_selector(".notice.ok")
    assert "按 40 kg 计入" in page.inner_text(".notice.ok")
    page.goto("/console/queues?tab=disputed")
    assert page.locator("a[role=tab].on .count").inner_text() == "0"
    assert "没有有争议的联单" in page.inner_text("main")
    page.goto("/console/queues?tab=complaints")
    picker = page.locator(".queue-item select[name=shop_id]").inner_text()
    assert "王记砂锅古槐路店" in picker and "米" in picker  # the shops near where the complaint was made
    page.select_option(".queue-item select[name=action]", "not_ours")
    page.fill(".queue-item input[name=reason]", "属生态环境部门职责")
    page.fill(".queue-item input[name=reply]", "已转交生态环境部门处理")
    page.click(".queue-item button[type=submit]")
    page.wait_for_selector(".notice.ok")
    page.goto("/console/queues?tab=complaints")
    assert "没有待分办的投诉" in page.inner_text("main")  # triaged: it has left the queue
    context.close()
