"""The mini-program's flows end to end: its H5 build (dev login) served by the app under gunicorn at /m/,
driven in Debian's Chromium at 390×844 with a mocked GPS position, photos through the file chooser;
each record read back through the API afterwards.  Screenshots of every screen go to the folder
printed at the end (build/miniprogram-screenshots/)."""
import os
import re
import time

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import User
from server.services import audit
from tests.helpers import gunicorn_serving, upload_photo
from tests.images import encode, scene
from tests.miniprogram import SCREENSHOTS, build, node

HERE = {"latitude": 35.4300, "longitude": 116.6200}  # 任城区, over 2 km from the shops the tests register


@pytest.fixture(scope="module")
def h5(tmp_path_factory, browser):
    npm = node()
    output = tmp_path_factory.mktemp("h5")
    build(npm, "h5", output, MP_DEV_LOGIN="1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return output


@pytest.fixture
def served(h5, app_config, client):
    db.session.remove()
    with gunicorn_serving(app_config, log_path=os.environ.get("MINIPROGRAM_GUNICORN_LOG"), APP_ENV="development",
                          MINIAPP_H5_DIR=str(h5), WECHAT_APPID="", OVERVIEW_CACHE_SECONDS="0") as api:
        yield api.removesuffix("/api/v1")


@pytest.fixture
def photos(tmp_path):
    paths = []
    for seed in range(3):
        path = tmp_path / f"photo-{seed}.jpg"
        path.write_bytes(encode(scene(40 + seed, size=(800, 600))))
        paths.append(str(path))
    return paths


def as_user(user, name):
    """The dev login ``dev-<name>`` is this user (its id returned; the session let go, so that the
    server may write to SQLite)."""
    ident = sa.inspect(user).identity[0]  # readable even once the session that loaded it is gone
    user = db.session.get(User, ident)
    user.openid = f"dev-{name}"
    audit.record("test.fixture", "user", ident, "the H5 build's dev login")
    db.session.commit()
    db.session.remove()
    return ident


class Phone:
    """One person's phone: a browser context at 390×844, logged in (dev-<name>), privacy accepted."""

    def __init__(self, browser, base, name, where=HERE):
        self.context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", base_url=base,
                                           geolocation=where, permissions=["geolocation"], has_touch=True)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if "Content Security Policy" in m.text else None)
        self.page.goto("/m/")
        self.page.wait_for_selector("input[name=dev-name]")
        self.shot("login")
        self.page.fill("input[name=dev-name]", name)
        self.page.click("#login")
        self.page.wait_for_url("**/pages/privacy/index")
        self.shot("privacy")
        self.page.click("#agree")
        self.page.wait_for_selector("#citizen")

    def shot(self, name):
        self.page.wait_for_timeout(600)  # the last render settled, a page's slide-in over
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name}: the page is {width} px wide"

    @property
    def screen(self):
        """The page on top (H5 keeps the pages below it in the document, hidden: .taro_page_shade)."""
        return self.page.locator(".taro_page:not(.taro_page_shade)").last

    def text(self, selector=".page"):
        return self.screen.locator(selector).first.inner_text()

    def wait(self, selector):
        self.screen.locator(selector).first.wait_for()

    def tap(self, text):
        self.screen.locator(".entry", has_text=text).first.click()

    def fill(self, name, value):
        self.screen.locator(f"input[name={name}], textarea[name={name}]").first.fill(value)

    def add_photos(self, field, paths):
        with self.page.expect_file_chooser() as chooser:
            self.screen.locator(f"[data-name={field}]").get_by_text("从相册选").click()
        chooser.value.set_files(paths)
        deadline = time.monotonic() + 30
        while self.screen.locator(f"[data-name={field}] .thumb.done").count() < len(paths):
            failed = self.screen.locator(f"[data-name={field}] .thumb.failed")
            assert not failed.count(), failed.first.inner_text()
            assert time.monotonic() < deadline, "the photos did not upload"
            self.page.wait_for_timeout(100)

    def until(self, script, seconds=30):
        """Poll ``script`` (with ``top``, the page on top) from here until true (wait_for_function compiles
        its string in the page, which the CSP without 'unsafe-eval' refuses)."""
        deadline = time.monotonic() + seconds
        script = ("(() => { const top = Array.from(document.querySelectorAll('.taro_page:not(.taro_page_shade)')).pop();"
                  f" return top && ({script}); }})()")
        while not self.page.evaluate(script):
            assert time.monotonic() < deadline, f"never true: {script}"
            self.page.wait_for_timeout(100)

    def button(self, text):
        self.screen.locator(".btn", has_text=text).last.click()

    def close(self):
        assert not self.errors, self.errors
        self.context.close()


def test_a_citizen_files_a_complaint_from_gps_with_photos_and_sees_it(browser, served, client, photos, login_as):
    phone = Phone(browser, served, "citizen1")
    phone.shot("home-citizen")
    phone.tap("我要投诉")
    phone.wait("textarea[name=description]")
    phone.fill("description", "背街小巷每晚露天烧烤，油烟很大")
    phone.screen.locator("#use-gps").click()
    phone.until("top.querySelector('input[name=lat]').value !== ''")
    assert phone.screen.locator("input[name=lat]").input_value() == "35.430000"
    phone.add_photos("photos", photos[:2])
    phone.fill("contact_phone", "13812345678")
    phone.shot("complaint-form")
    phone.button("提交投诉")
    phone.wait("#filed")
    filed = phone.text("#filed")
    assert "投诉已提交" in filed and "任城区" in filed and "附近没有登记的店铺" in filed
    phone.shot("complaint-filed")
    number = int(re.search(r"编号 (\d+)", filed).group(1))
    phone.button("查看我的投诉")
    phone.wait(".complaint")
    assert "背街小巷每晚露天烧烤" in phone.text(".complaint") and "待分办" in phone.text(".complaint")
    phone.shot("my-complaints")
    phone.close()
    _staff, headers = login_as("regulator", jurisdiction=["370811"])
    stored = client.get(f"/api/v1/complaints/{number}", headers=headers).get_json()
    assert stored["category"] == "fume" and stored["district_code"] == "370811" and len(stored["photos"]) == 2
    assert abs(stored["lat"] - HERE["latitude"]) < 1e-6 and stored["contact_phone"] == "138****5678"


def test_an_owner_registers_a_shop_and_logs_a_cleaning_with_photos(browser, served, client, photos, login_as):
    phone = Phone(browser, served, "owner1")
    phone.tap("登记新店铺")
    phone.wait("input[name=uscc]")
    phone.fill("name", "老王烧烤后街店")
    phone.fill("uscc", "91370800MA3C0000")
    assert "还差" not in phone.text()  # still typing: no complaint yet
    phone.fill("uscc", "91370800MA3C00001O")
    assert "无效字符“O”" in phone.text()  # checked as typed
    from tests.helpers import credit_code
    phone.fill("uscc", credit_code(4242))
    phone.fill("address", "济宁市任城区后街 8 号")
    phone.screen.locator("#use-gps").click()
    phone.until("top.querySelector('input[name=lng]').value !== ''")
    phone.fill("cooking_heads", "4")
    phone.shot("register")
    phone.button("登记")
    phone.wait("#grade")
    home = phone.text()
    assert "老王烧烤后街店" in home and "尚未登记过净化设施清洗" in home and "请与有资质的收运单位签订" in home
    phone.shot("shop-home-new")
    shop_id = int(re.search(r"id=(\d+)", phone.page.url).group(1))
    phone.button("登记清洗")
    phone.wait("[data-name=before]")
    phone.add_photos("before", photos[:1])
    phone.add_photos("after", photos[1:3])
    phone.shot("cleaning")
    phone.button("提交")
    phone.wait("#grade")
    phone.until("!top.innerText.includes('尚未登记过净化设施清洗')")
    phone.shot("shop-home-cleaned")
    phone.close()
    _staff, headers = login_as("regulator", jurisdiction=["370811"])
    (cleaning,) = client.get(f"/api/v1/shops/{shop_id}/cleanings", headers=headers).get_json()["items"]
    assert len(cleaning["before_photos"]) == 1 and len(cleaning["after_photos"]) == 2
    assert sorted(cleaning["parts"]) == ["hood", "purifier"] and cleaning["performed_by"] == "self"
    shop = client.get(f"/api/v1/shops/{shop_id}", headers=headers).get_json()
    assert shop["district_code"] == "370811" and shop["cooking_heads"] == 4 and shop["claimed"] is True


def test_a_collector_confirms_a_slip_with_the_weighed_kg_and_a_photo(browser, served, client, contracted, photos):
    slip = client.post(f"/api/v1/shops/{contracted.shop_id}/handovers", headers=contracted.owner, json={
        "handed_over_at": "2026-12-07T18:30:00+08:00", "waste_type": "kitchen_waste", "bins": 2, "declared_kg": 40,
        "collector_company_id": contracted.company_id}).get_json()
    as_user(contracted.driver, "driver1")  # and the session let go
    phone = Phone(browser, served, "driver1")
    assert phone.screen.locator("#collector").count() == 1
    phone.tap("待确认联单")
    phone.wait(".slip")
    assert slip["serial"] in phone.text(".slip") and "待确认" in phone.text(".slip")
    assert contracted.shop["name"] in phone.text(".slip")  # which shop, by name
    phone.shot("collector-slips")
    phone.screen.locator(".slip .btn", has_text="处理").click()
    phone.fill("weighed_kg", "41.5")
    phone.add_photos("weighing", photos[:1])
    phone.shot("collector-confirm")
    phone.button("确认收运")
    phone.wait("text=没有待确认的联单")
    phone.shot("collector-slips-empty")
    phone.close()
    stored = client.get(f"/api/v1/shops/{contracted.shop_id}/handovers", headers=contracted.owner).get_json()["items"][0]
    assert stored["status"] == "confirmed" and stored["weighed_kg"] == 41.5 and len(stored["weighing_photos"]) == 1


def test_an_owner_claims_the_shop_wechat_opened_the_app_for(browser, served, client, login_as):
    _staff, headers = login_as("regulator", jurisdiction=["370811"])
    from tests.helpers import shop_body
    shop = client.post("/api/v1/shops", json=shop_body(77), headers=login_as("inspector", jurisdiction=["370811"])[1]).get_json()
    assert shop["claimed"] is False
    code = client.post(f"/api/v1/shops/{shop['id']}/claim-code", headers=headers).get_json()["code"]
    db.session.remove()  # SQLite: the server may write now
    phone = Phone(browser, served, "owner2")
    # WeChat's own scanner opened the mini-program from the claim sheet's URL: it arrives as q=.
    phone.page.goto(f"/m/#/pages/index/index?q=https%3A%2F%2Fjn-cg.example.cn%2Fmp%2Fclaim%3Fcode%3D{code}")
    phone.wait("input[name=code]")
    assert phone.screen.locator("input[name=code]").input_value() == code
    phone.shot("claim")
    phone.button("认领")
    phone.wait("#grade")
    assert shop["name"] in phone.text("#grade")
    phone.close()
    assert client.get(f"/api/v1/shops/{shop['id']}", headers=headers).get_json()["claimed"] is True


def test_an_owner_answers_a_rectification_order_with_a_photo(browser, served, client, make_shop, login_as, photos):
    made = make_shop()
    _inspector, inspector = login_as("inspector", jurisdiction=["370811"])
    checklist = client.get("/api/v1/checklist", headers=inspector).get_json()["items"]
    evidence = upload_photo(client, inspector, 77)
    items = [{"code": i["code"], "result": "fail" if i["code"] == "P3" else "pass",
              **({"photo_ids": [evidence], "note": "未留存清洗记录"} if i["code"] == "P3" else {})} for i in checklist]
    inspection = client.post(f"/api/v1/shops/{made.shop_id}/inspections", headers=inspector, json={
        "inspected_at": "2026-12-07T10:00:00+08:00", "lat": 35.4151, "lng": 116.5872, "items": items}).get_json()
    order_id = inspection["rectification"]["id"]
    as_user(made.manager, "owner3")  # last: it lets the session go, and what it loaded with it
    phone = Phone(browser, served, "owner3")
    phone.tap(made.shop["name"])
    phone.wait("#orders")
    phone.screen.locator("#orders .item").first.click()
    phone.wait("textarea[name=note]")
    assert "按期清洗维护并留存记录" in phone.text()  # the item in words, not P3
    phone.button("签收")
    phone.until("!top.innerText.includes('签收')")
    phone.fill("note", "已请专业公司清洗并建立清洗台账")
    phone.add_photos("photos", photos[2:3])
    phone.shot("order-answer")
    phone.button("提交答复")
    phone.wait("#grade")
    phone.close()
    (order,) = client.get(f"/api/v1/rectifications?shop_id={made.shop_id}", headers=inspector).get_json()["items"]
    assert order["id"] == order_id and order["status"] == "submitted" and order["acknowledged_at"] is not None


def test_mine_counts_unread_notifications_and_marks_them_read(browser, served, client, make_user):
    from server.models.notification import Notification
    from server.clock import utcnow
    user_id = as_user(make_user(), "reader1")
    for n in range(2):
        db.session.add(Notification(user_id=user_id, kind="cleaning_due", occasion=f"e2e:{n}",
                                    title=f"油烟净化设施即将到期清洗{n}", body="请在 2026-12-10 前清洗并登记",
                                    object_type="shop", object_id=1, created_at=utcnow(), wechat="not_subscribed"))
    db.session.commit()
    db.session.remove()
    phone = Phone(browser, served, "reader1")
    phone.button("我的")
    phone.wait("#notifications")
    assert phone.text("#notifications .badge") == "2"
    phone.shot("mine")
    phone.screen.locator("#notifications .item").first.click()
    phone.until("top.querySelector('#notifications .badge').textContent === '1'")
    phone.button("全部已读")
    phone.until("!top.querySelector('#notifications .badge')")
    assert "浏览器中无法接收微信订阅消息" in phone.text("#subscriptions") or \
        "尚未配置订阅消息模板" in phone.text("#subscriptions")
    phone.close()
    db.session.expire_all()
    assert all(n.read_at is not None for n in db.session.query(Notification).filter_by(user_id=user_id))


def test_an_owner_starts_a_slip_and_the_collector_rejects_another_it_started(browser, served, client, contracted, photos):
    as_user(contracted.manager, "owner4")
    as_user(contracted.driver, "driver2")
    phone = Phone(browser, served, "owner4")
    phone.tap(contracted.shop["name"])
    phone.wait("#slips")
    phone.button("开具联单")
    phone.wait("input[name=declared_kg]")
    phone.fill("bins", "3")
    phone.fill("declared_kg", "55")
    phone.add_photos("photos", photos[:1])
    phone.shot("handover-start")
    phone.button("开具联单")
    phone.wait("#slips")
    phone.until("top.querySelector('#slips').innerText.includes('待确认')")
    assert "申报 55 kg · 3 桶" in phone.text("#slips")
    phone.shot("shop-home-slip")
    phone.close()
    collector = Phone(browser, served, "driver2")
    collector.tap("为店铺开具联单")
    collector.wait("input[name=weighed_kg]")
    collector.fill("weighed_kg", "20")
    collector.shot("collector-start")
    collector.button("开具联单")
    collector.wait("#collector")
    collector.tap("待确认联单")
    collector.wait(".slip")
    assert collector.screen.locator(".slip").count() == 1  # the shop's to answer; its own waits for the shop
    assert "等待店铺确认" in collector.text("#waiting")
    collector.shot("collector-slips-waiting")
    collector.screen.locator(".slip .btn", has_text="处理").click()
    collector.button("拒收")
    collector.until("top.innerText.includes('请填写拒收原因')")
    collector.fill("reason", "桶内混有其他垃圾")
    collector.button("拒收")
    collector.until("top.innerText.includes('没有待确认的联单')")
    collector.close()
    slips = {s["started_by_party"]: s for s in client.get(f"/api/v1/shops/{contracted.shop_id}/handovers",
                                                          headers=contracted.regulator).get_json()["items"]}
    assert slips["shop"]["status"] == "rejected" and slips["shop"]["reject_reason"] == "桶内混有其他垃圾"
    assert slips["shop"]["declared_kg"] == 55 and slips["shop"]["bins"] == 3 and len(slips["shop"]["photos"]) == 1
    assert slips["collector"]["status"] == "pending" and slips["collector"]["weighed_kg"] == 20


def test_an_owner_changes_details_and_invites_a_staff_member_who_joins(browser, served, client, make_shop):
    made = make_shop()
    as_user(made.manager, "owner5")
    phone = Phone(browser, served, "owner5")
    phone.tap(made.shop["name"])
    phone.wait("#manage")
    phone.tap("修改店铺信息")
    phone.wait("input[name=cooking_heads]")
    phone.fill("contact_name", "李店长")
    phone.button("提交")
    phone.until("top.innerText.includes('没有变更申请')")
    phone.fill("cooking_heads", "8")
    phone.button("提交")
    phone.wait("#requests .item")
    assert "基准灶头数" in phone.text("#requests") and "待审批" in phone.text("#requests")
    phone.shot("change-request")
    phone.page.go_back()
    phone.tap("店员")
    phone.wait("#invite")
    phone.button("生成加入码")
    phone.wait("#join-code")
    code = re.search(r"加入码：([A-Z2-9]{16})", phone.text("#join-code")).group(1)
    phone.shot("members")
    phone.close()
    staff = Phone(browser, served, "staff5")
    staff.tap("加入店铺")
    staff.fill("code", code)
    staff.button("加入")
    staff.wait("#grade")
    assert made.shop["name"] in staff.text("#grade")
    staff.close()
    members = client.get(f"/api/v1/shops/{made.shop_id}/members", headers=made.owner).get_json()
    assert sorted(m["role"] for m in members) == ["manager", "staff"]
    shop = client.get(f"/api/v1/shops/{made.shop_id}", headers=made.owner).get_json()
    assert shop["contact_name"] == "李店长" and shop["cooking_heads"] == 3  # the heads wait for the district
    (request,) = client.get(f"/api/v1/shops/{made.shop_id}/change-requests", headers=made.owner).get_json()
    assert request["changes"] == {"cooking_heads": 8} and request["status"] == "pending"


def test_every_screen_fits_a_small_phone(browser, served, make_shop):
    """375×667 (the smallest phone the issue names): no screen wider than the viewport."""
    made = make_shop()
    as_user(made.manager, "owner6")
    phone = Phone(browser, served, "owner6")
    phone.page.set_viewport_size({"width": 375, "height": 667})
    for route in ("/pages/index/index", f"/owner/shop/index?id={made.shop_id}", f"/owner/cleaning/index?shop={made.shop_id}",
                  "/owner/register/index", "/citizen/complaint/index", "/pages/mine/index", "/owner/claim/index"):
        phone.page.goto(f"/m/#{route}")
        phone.page.wait_for_timeout(1200)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{route} is {width} px wide"
        assert not phone.screen.locator(".error-text").count() or "请" in phone.text(".error-text")
    phone.page.screenshot(path=str(SCREENSHOTS / "claim-375.png"))
    phone.close()


AT_THE_SHOP = {"latitude": 35.41515, "longitude": 116.58725}  # where shop_body puts shops: a few metres off


def inspect(phone, shop_name, failed, photo_paths):
    """Open the shop from the patrol list and file its checklist with ``failed`` items, one photo each."""
    phone.wait(".patrol-shop")
    phone.screen.locator(".patrol-shop", has_text=shop_name).first.click()
    phone.wait("#file")
    assert "距店铺约" in phone.text("#distance")
    for code, path in zip(failed, photo_paths):
        item = phone.screen.locator(f"[data-code={code}]")
        item.locator("[data-result=fail]").click()
        item.locator("textarea").fill("现场发现问题")
        with phone.page.expect_file_chooser() as chooser:
            item.get_by_text("拍照").click()
        chooser.value.set_files([path])
        phone.until(f"top.querySelector('[data-code={code}]').innerText.includes('1 张照片')")
    phone.screen.locator("#file").click()
    phone.wait("#filed")
    return phone.text("#filed")


def test_an_inspector_files_a_checklist_with_two_failures_and_the_owner_sees_the_order(browser, served, client, make_shop,
                                                                                      make_user, photos):
    made = make_shop()
    inspector_id = as_user(make_user("inspector", jurisdiction=["370811"], name="王执法"), "insp1")
    phone = Phone(browser, served, "insp1", where=AT_THE_SHOP)
    phone.tap("巡查")
    phone.wait(".patrol-shop")  # loaded, and the page's slide-in over (mid-animation it is wider)
    phone.shot("patrol")
    filed = inspect(phone, made.shop["name"], ["P3", "W2"], photos[:2])
    assert "检查记录已提交" in filed and "已下达整改通知" in filed
    phone.shot("inspection-filed")
    phone.close()
    inspections = client.get(f"/api/v1/shops/{made.shop_id}/inspections", headers=made.owner).get_json()["items"]
    (inspection,) = inspections
    failed = {i["code"]: i for i in inspection["items"] if i["result"] == "fail"}
    assert set(failed) == {"P3", "W2"} and all(len(i["photos"]) == 1 for i in failed.values())
    assert inspection["inspector_id"] == inspector_id and inspection["far_from_shop"] is False
    (order,) = client.get(f"/api/v1/rectifications?shop_id={made.shop_id}", headers=made.owner).get_json()["items"]
    assert sorted(order["items"]) == ["P3", "W2"] and order["status"] == "open"


def test_inspections_made_offline_survive_a_reload_and_arrive_once(browser, served, client, make_shop, make_user, photos):
    first, second = make_shop(), make_shop()
    as_user(make_user("inspector", jurisdiction=["370811"], name="李执法"), "insp2")
    phone = Phone(browser, served, "insp2", where=AT_THE_SHOP)
    phone.tap("巡查")
    phone.wait(".patrol-shop")
    # Each checklist opened while online, then filled and filed with no network at all.
    phone.screen.locator(".patrol-shop", has_text=first.shop["name"]).first.click()
    phone.wait("#file")
    phone.context.set_offline(True)
    item = phone.screen.locator("[data-code=P1]")
    item.locator("[data-result=fail]").click()
    phone.screen.locator("#file").click()  # a failed item without a photo or a note is not filed
    phone.until("top.innerText.includes('不合格项须附照片')")
    item.locator("textarea").fill("净化器未开启")
    with phone.page.expect_file_chooser() as chooser:
        item.get_by_text("拍照").click()
    chooser.value.set_files(photos[:2])
    phone.until("top.querySelector('[data-code=P1]').innerText.includes('2 张照片')")
    phone.screen.locator("#file").click()
    phone.wait("#filed")
    assert "已保存在手机上" in phone.text("#filed")
    phone.shot("inspection-offline")
    phone.context.set_offline(False)
    phone.page.go_back()
    phone.wait(".patrol-shop")
    phone.screen.locator(".patrol-shop", has_text=second.shop["name"]).first.click()
    phone.wait("#file")
    phone.context.set_offline(True)
    item = phone.screen.locator("[data-code=O1]")
    item.locator("[data-result=fail]").click()
    item.locator("textarea").fill("店外占道经营")
    with phone.page.expect_file_chooser() as chooser:
        item.get_by_text("拍照").click()
    chooser.value.set_files(photos[2:3])
    phone.until("top.querySelector('[data-code=O1]').innerText.includes('1 张照片')")
    phone.screen.locator("#file").click()
    phone.wait("#filed")
    assert "已保存在手机上" in phone.text("#filed")
    # The first photo upload's answer is lost on the way back once: the retry must not duplicate.
    dropped = []

    def lose_one_answer(route):
        if not dropped:
            dropped.append(route.request.url)
            response = route.fetch()  # the server stores the photo...
            assert response.status == 201
            route.abort()  # ...and the phone never hears it
        else:
            route.continue_()

    phone.page.route("**/api/v1/photos", lose_one_answer)
    phone.context.set_offline(False)
    phone.page.goto("/m/#/inspector/patrol/index")
    phone.page.reload()  # nothing in memory: the drafts come back from IndexedDB
    phone.wait(".patrol-shop")
    # Delivered: read back through the API (the banner may not have shown yet when the list did).
    deadline = time.monotonic() + 60

    def arrived():
        found = all(client.get(f"/api/v1/shops/{m.shop_id}/inspections", headers=m.owner).get_json()["items"]
                    for m in (first, second))
        db.session.remove()  # SQLite: no read left open between polls, or the server could not write
        return found

    while not arrived():
        assert time.monotonic() < deadline, "the drafts did not arrive"
        phone.page.wait_for_timeout(500)  # Playwright's own wait: the route handler above runs only inside its calls
    phone.until("!top.querySelector('#drafts')", seconds=30)
    refused = phone.screen.locator(".notice.refused")
    assert not refused.count(), refused.first.inner_text()
    phone.shot("patrol-after-upload")
    phone.close()
    assert dropped
    for made, code, count in ((first, "P1", 2), (second, "O1", 1)):
        (inspection,) = client.get(f"/api/v1/shops/{made.shop_id}/inspections", headers=made.owner).get_json()["items"]
        failed = [i for i in inspection["items"] if i["result"] == "fail"]
        assert len(failed) == 1, inspection["items"]
        (item,) = failed
        assert item["code"] == code and len(item["photos"]) == count
    from server.models.photo import Photo
    db.session.expire_all()
    assert db.session.query(Photo).count() == 3  # not one more: the lost answer was replayed
