"""The console in a real browser: Debian's Chromium driven by Playwright against the app under a
real gunicorn.  Without Chromium these tests skip, saying how to get it; CI (REQUIRE_BROWSER=1)
installs it and fails instead.  Screenshots at 1366×768 go to the folder printed at the end."""
import csv
import io
import os
import time
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from server.extensions import db
from tests.browser import CLAIM_PREFIX, SCREENSHOTS  # the browser fixture itself: conftest.py
from tests.console_city import PASSWORD, build
from tests.helpers import credit_code, gunicorn_serving


@pytest.fixture
def served(app_config, client, make_user, make_shop, login):
    city = build(client, make_user, make_shop, login)
    db.session.remove()  # the test's app context outlives its requests: let go of SQLite's write lock
    with gunicorn_serving(app_config, log_path=os.environ.get("CONSOLE_GUNICORN_LOG"), OVERVIEW_CACHE_SECONDS="0",
                          CLAIM_QR_URL_PREFIX=CLAIM_PREFIX) as api:
        yield city, api.removesuffix("/api/v1")


@pytest.fixture
def desk(browser, served):
    """A logged-in console page at 1366×768, and the city behind it."""
    city, base = served
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True,
                                  base_url=base)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto("/console/shops")
    assert "/console/login" in page.url  # no session: the login page, with next=
    page.fill("input[name=username]", "li.jianguan")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/shops")
    yield page, city, base
    assert not [e for e in errors if "Content Security Policy" in e], errors  # nothing the CSP refused
    context.close()


def shot(page, name):
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_overview_map_list_export_and_shop_with_photo(desk):
    page, city, base = desk
    page.goto("/console/")
    page.wait_for_selector("#map[data-loaded]")
    assert page.get_attribute("#map", "data-loaded") == "1"  # the one shop of 任城区 (兖州区's is not ours)
    assert page.inner_text(".numbers div:first-child dd") == "1"
    # Click the shop's point on the canvas: its card opens beside the map.
    x, y = page.evaluate("""() => { const el = document.getElementById('map'), map = el.leafletMap;
        const box = el.getBoundingClientRect(); let p;
        map.eachLayer(l => { if (l instanceof L.CircleMarker) p = map.latLngToContainerPoint(l.getLatLng()); });
        return [box.left + p.x, box.top + p.y]; }""")
    page.mouse.click(x, y)
    page.wait_for_selector("#card h3 a")
    assert city.shop["name"] in page.inner_text("#card")
    shot(page, "overview")

    page.goto("/console/shops")
    page.select_option("select[name=district_code]", "370811")
    page.wait_for_url("**district_code=370811**")  # htmx swapped the table and pushed the filters
    page.fill("input[name=q]", "古槐路")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**q=**")
    assert page.locator("table.list tbody tr").count() == 1
    shot(page, "compliance-list")
    with page.expect_download() as download:
        page.click("a.button:has-text('CSV')")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert len(rows) == 2 and city.shop["name"] in rows[1]

    page.click(f"a:has-text('{city.shop['name']}')")
    page.wait_for_url(f"**/console/shops/{city.shop['id']}")
    assert page.locator(".thumb img").count() == 2
    # Every thumbnail arrives through its signed link (a broken one ends 'complete' with no width: a timeout).
    # Polled from here with evaluate(): wait_for_function's polling compiles its string in the page,
    # which the console's CSP (no 'unsafe-eval') refuses whenever the first check is false.
    deadline = time.monotonic() + 30
    while not page.evaluate("Array.from(document.querySelectorAll('.thumb img'))"
                            ".every(i => i.complete && i.naturalWidth > 0)"):
        assert time.monotonic() < deadline, "a thumbnail did not load through its signed link"
        page.wait_for_timeout(100)
    shot(page, "shop")
    with page.context.expect_page() as opened:
        page.click(".thumb >> nth=0")
    photo = opened.value
    photo.wait_for_load_state()
    assert photo.evaluate("document.images[0].naturalWidth") > 0  # the full-size copy, through its signed link


def test_decide_a_change_request_and_move_a_case(desk):
    page, city, base = desk
    page.goto(f"/console/shops/{city.shop['id']}")
    page.fill(f"#decision-{city.change_request_id} input[name=note]", "核实无误")
    page.click(f"#decision-{city.change_request_id} button:has-text('批准')")
    page.wait_for_selector("main > .notice.ok")  # the page reloads by itself: no manual refresh
    assert "已批准" in page.inner_text("main > .notice.ok")
    assert "6（" in page.inner_text(".facts")  # the shop now has 6 cooking heads
    assert page.locator(f"#decision-{city.change_request_id}").count() == 0  # decided: the form has gone

    page.goto(f"/console/cases/{city.case_id}")
    page.select_option("select[name=to]", "assigned")
    page.fill("input[name=note]", "请王执法处置")
    page.click("#transition-%d button[type=submit]" % city.case_id)
    page.wait_for_selector(".field-error, .notice.error")  # no assignee: the message beside the field
    assert "转办须指定承办人" in page.inner_text(f"#transition-{city.case_id}")
    assert page.input_value("input[name=note]") == "请王执法处置"  # what was typed is kept
    page.select_option("select[name=assignee_id]", str(city.inspector_id))  # picked from the district's staff
    page.click("#transition-%d button[type=submit]" % city.case_id)
    page.wait_for_selector("main > .notice.ok")
    assert "转办" in page.inner_text("h1") and "王执法" in page.inner_text(".facts")


def test_import_then_print_the_claim_code_sheet(desk, tmp_path):
    page, city, base = desk
    roster = tmp_path / "名录.csv"
    roster.write_text("名称,统一社会信用代码,地址,区县代码,纬度,经度,基准灶头数\n"
                      f"共青团路面馆,{credit_code(4242)},济宁市任城区共青团路1号,370811,35.41,116.58,2\n"
                      "坏行,bad,济宁市任城区某路,370811,35.41,116.58,2\n", encoding="utf-8")
    page.goto("/console/import")
    page.set_input_files("input[type=file]", str(roster))
    page.click("main form button[type=submit]")
    page.wait_for_selector("#report")
    report = page.inner_text("#report")
    assert "新增 1 家" in report and "未导入 1 行" in report and "第 3 行" in report
    page.goto("/console/claim-codes")
    page.select_option("select[name=district_code]", "370811")
    page.wait_for_url("**district_code=370811")
    waiting = int(page.inner_text("#waiting"))
    page.click("button:has-text('签发并生成打印表')")
    page.wait_for_selector(".codes article")
    assert page.locator(".codes article").count() == waiting >= 1
    assert page.locator(".codes article svg").count() == waiting
    assert "李监管" in page.inner_text(".sheet-head") and "任城区" in page.inner_text(".sheet-head")
    for article in page.locator(".codes article").all():  # what a phone's camera sees, read back
        code = article.locator(".code-text").inner_text().removeprefix("认领码").strip()
        (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(article.locator("svg").screenshot())))
        assert found.format == zxingcpp.BarcodeFormat.QRCode, found.format  # not Micro QR
        assert found.text == f"{CLAIM_PREFIX}?code={code}"
    page.screenshot(path=str(SCREENSHOTS / "claim-sheet.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.is_visible(".no-print")
    page.pdf(path=str(SCREENSHOTS / "claim-codes.pdf"), format="A4")


def test_another_districts_shop_is_a_404_and_a_form_without_csrf_is_refused(desk):
    page, city, base = desk
    response = page.goto(f"/console/shops/{city.other_shop['id']}")
    assert response.status == 404 and "找不到页面" in page.inner_text("h1")
    page.goto(f"/console/shops/{city.shop['id']}")
    status = page.evaluate("""async (url) => (await fetch(url, {method: 'POST', body: new URLSearchParams({approved: 'true'}),
        credentials: 'same-origin'})).status""", f"/console/change-requests/{city.change_request_id}/decision")
    assert status == 400
    assert page.locator(f"#decision-{city.change_request_id} form").count() == 1  # still pending


def test_people_page_disables_an_inspector_in_place(desk):
    page, city, base = desk
    page.goto("/console/people")
    shot(page, "people")
    page.click(f"a[href='/console/people/{city.inspector_id}']")
    page.select_option("select[name=disabled]", "true")
    page.click("#user-form button[type=submit]")
    page.wait_for_selector("main > .notice.ok")  # saved, and the page shows it without a manual reload
    assert "已保存" in page.inner_text("main > .notice.ok")
    shot(page, "person-saved")
    page.goto("/console/people")
    row = page.locator("tr", has=page.locator(f"a[href='/console/people/{city.inspector_id}']"))
    assert "已停用" in row.inner_text()
