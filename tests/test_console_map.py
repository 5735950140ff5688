"""The console's offline map in a real browser (Debian's Chromium under Playwright, the app under
gunicorn): the districts' boundaries drawn with their names, each district's figures on hover, a
district's view fitted to its polygon — at 1366×768 and 390×844, screenshots to the folder printed."""
import os

import pytest
from werkzeug.security import generate_password_hash

from server.extensions import db
from tests.browser import SCREENSHOTS  # the browser fixture itself: conftest.py
from tests.console_city import PASSWORD, build
from tests.helpers import gunicorn_serving

COUNTIES = {"任城区", "兖州区", "微山县", "鱼台县", "金乡县", "嘉祥县", "汶上县", "泗水县", "梁山县", "曲阜市", "邹城市"}


@pytest.fixture
def served(app_config, client, make_user, make_shop, login):
    build(client, make_user, make_shop, login)
    make_user("admin", jurisdiction=None, name="市局管理员", username="city.admin",
              password_hash=generate_password_hash(PASSWORD))
    db.session.remove()
    with gunicorn_serving(app_config, log_path=os.environ.get("CONSOLE_GUNICORN_LOG"),
                          OVERVIEW_CACHE_SECONDS="0") as api:
        yield api.removesuffix("/api/v1")


def open_console(browser, base, width, height, username):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", base_url=base)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto("/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/")
    return context, page, errors


def loaded(page):
    page.wait_for_selector("#map[data-loaded]")
    assert page.get_attribute("#map", "data-loaded") != "error"
    return int(page.get_attribute("#map", "data-areas-drawn"))


def hover(page, lat, lng):
    """Move the mouse over (lat, lng) and return the hover tooltip's text once it names a district there
    (polled from here: the console's CSP refuses wait_for_function's compiled string)."""
    x, y = page.evaluate("""([lat, lng]) => { const el = document.getElementById('map'), map = el.leafletMap;
        const box = el.getBoundingClientRect(), p = map.latLngToContainerPoint([lat, lng]);
        return [box.left + p.x, box.top + p.y]; }""", [lat, lng])
    page.mouse.move(x - 5, y - 5)
    page.mouse.move(x, y)
    for _ in range(100):
        text = page.evaluate("(document.querySelector('.leaflet-tooltip.area-tip') || {}).textContent || ''")
        if text and page.evaluate("document.querySelector('.leaflet-tooltip.area-tip').style.opacity !== '0'"):
            return text
        page.wait_for_timeout(100)
    raise AssertionError("no district tooltip")


def test_the_city_map_draws_its_districts_with_names_and_figures(browser, served):
    for width, height in ((1366, 768), (390, 844)):
        context, page, errors = open_console(browser, served, width, height, "city.admin")
        assert loaded(page) == 11  # the counties; no zone has a polygon yet
        names = set(page.locator(".leaflet-tooltip.area-name").all_inner_texts())
        assert names == COUNTIES
        page.screenshot(path=str(SCREENSHOTS / f"map-districts-{width}.png"), full_page=False)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if width == 1366:
            # Hover inside 邹城市 (away from any shop): its figures, from the overview's pass; then 任城区.
            assert hover(page, 35.40, 117.05).startswith("邹城市：在营 0 家 · A 0 · B 0 · C 0 · 待认领 0")
            tip = hover(page, 35.45, 116.55)
            assert tip.startswith("任城区：在营 1 家"), tip  # its one shop of the city counts
            page.screenshot(path=str(SCREENSHOTS / "map-district-hover.png"), full_page=False)
        # 区县边界: the shop of 兖州区 registered at a point in 任城区 is listed; the upload form is the admin's.
        page.click("nav a:has-text('区县边界')")
        page.wait_for_url("**/console/boundaries")
        assert "兖州羊汤馆" in page.inner_text("#misplaced") and page.locator("#upload input[type=file]").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SCREENSHOTS / f"boundaries-{width}.png"), full_page=True)
        assert not [e for e in errors if "Content Security Policy" in e], errors
        context.close()


def test_a_districts_view_fits_its_polygon_and_a_regulator_sees_only_hers(browser, served):
    context, page, _errors = open_console(browser, served, 1366, 768, "li.jianguan")  # 任城区's regulator
    assert loaded(page) == 1 and page.locator(".leaflet-tooltip.area-name").all_inner_texts() == ["任城区"]
    page.goto("/console/?district_code=370811")
    assert loaded(page) == 1
    fit = page.evaluate("""() => { const map = document.getElementById('map').leafletMap; let area;
        map.eachLayer(l => { if (l.feature && l.feature.properties.code === '370811') area = l; });
        const view = map.getBounds(), poly = area.getBounds();
        const span = b => (b.getNorth() - b.getSouth()) * (b.getEast() - b.getWest());
        return {contains: view.contains(poly), share: span(poly) / span(view)}; }""")
    assert fit["contains"] and fit["share"] > 0.25, fit  # the view is the district, not the city
    page.screenshot(path=str(SCREENSHOTS / "map-one-district.png"), full_page=False)
    assert page.goto("/console/areas.json?district_code=370812").status == 404  # not hers
    context.close()
