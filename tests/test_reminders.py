"""Reminders: every occasion and its dates, the notifications API, subscription quotas, each WeChat
outcome through the fake WeChat over real HTTP, the shared access token, and concurrent runs."""
import datetime as dt
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.clock import SHANGHAI
from server.extensions import db
from server.models import Case, CaseEvent, CollectorCompany, Notification, RectificationEvent, ShopMember, Subscription, User
from server.models.notification import WeChatToken
from server.services import audit, reminders
from server.services.reminders import wechat_token
from tests.helpers import at, error_of, server_environment

ROOT = Path(__file__).resolve().parent.parent

TEMPLATES = {
    "cleaning_due": {"id": "TPL-CLEAN", "long_term": False,
                     "fields": {"thing1": "shop_name", "date2": "date", "phrase3": "status", "thing4": "hint"}},
    "rectification_deadline": {"id": "TPL-RECT", "long_term": False,
                               "fields": {"thing1": "shop_name", "date2": "date", "character_string3": "serial",
                                          "phrase4": "status"}},
    "handover_to_confirm": {"id": "TPL-SLIP", "long_term": True,
                            "fields": {"character_string1": "serial", "thing2": "shop_name", "time3": "time"}},
    "case_assigned": {"id": "TPL-CASE", "long_term": False,
                      "fields": {"character_string1": "serial", "thing2": "shop_name", "phrase3": "status"}},
}


@pytest.fixture
def app_config(app_config, fake_wechat):
    fake_wechat.reset()
    return {**app_config, "WECHAT_TEMPLATES": json.loads(json.dumps(TEMPLATES)), "REMINDER_QUIET_HOURS": (21, 8)}


def member(shop, user, role="manager"):
    db.session.add(ShopMember(shop_id=shop.id, user_id=user.id, role=role))
    audit.record("test.fixture", "shop", shop.id)
    db.session.commit()


def grant(user, template_id, quota=1, long_term=False):
    db.session.add(Subscription(user_id=user.id, template_id=template_id, quota=quota, long_term=long_term))
    db.session.commit()


def notes(user=None):
    statement = sa.select(Notification).order_by(Notification.id)
    if user is not None:
        statement = statement.where(Notification.user_id == user.id)
    return db.session.scalars(statement).all()


def quota(user, template_id):
    user_id = user if isinstance(user, int) else user.id
    return db.session.scalar(sa.select(Subscription.quota).where(Subscription.user_id == user_id,
                                                                 Subscription.template_id == template_id))


def sent(fake):
    return [r["body"] for r in fake.requests if r["path"] == "/cgi-bin/message/subscribe/send"]


def test_cleaning_due_soon_then_overdue_once_each_and_not_for_a_suspended_shop(app, city, make_user, fake_wechat,
                                                                               frozen_clock):
    shop, sunday, suspended = city.shop(1), city.shop(2), city.shop(3)
    city.cleaning(shop, dt.date(2024, 1, 27), received=at(2024, 1, 27))  # 3 heads: every 60 days, due 2024-03-27
    city.cleaning(sunday, dt.date(2024, 1, 24), received=at(2024, 1, 24))  # due Sunday 2024-03-24
    city.cleaning(suspended, dt.date(2024, 1, 24), received=at(2024, 1, 24))
    suspended.status, suspended.status_effective_on = "suspended", dt.date(2024, 3, 1)
    owner, staff, other = make_user(), make_user(), make_user()
    member(shop, owner), member(shop, staff, "staff"), member(sunday, owner), member(suspended, other)
    grant(owner, "TPL-CLEAN", quota=1)

    first = reminders.run()
    assert first["created"] == 3 and first["sent"] == 1 and first["no_quota"] == 1, first
    by_key = {(n.user_id, n.occasion): n for n in notes()}
    assert set(by_key) == {(owner.id, f"cleaning_due:{shop.id}:2024-03-27:due_soon"),
                           (staff.id, f"cleaning_due:{shop.id}:2024-03-27:due_soon"),
                           (owner.id, f"cleaning_due:{sunday.id}:2024-03-24:due_soon")}
    assert not notes(other)  # a suspended shop is not graded, so nothing is due
    assert by_key[(staff.id, f"cleaning_due:{shop.id}:2024-03-27:due_soon")].wechat == "not_subscribed"
    (message,) = sent(fake_wechat)
    assert message["touser"] == owner.openid and message["template_id"] == "TPL-CLEAN"
    assert message["miniprogram_state"] == "formal" and message["page"].startswith("pages/shop/detail?id=")
    assert message["data"]["date2"]["value"] in ("2024年3月27日", "2024年3月24日")
    assert message["data"]["phrase3"]["value"] == "即将到期" and len(message["data"]["thing1"]["value"]) <= 20
    assert quota(owner, "TPL-CLEAN") == 0  # spent by the message WeChat answered 0
    states = sorted(n.wechat for n in notes(owner))
    assert states == ["no_quota", "sent"]  # one quota, two occasions: the second stays in the app

    again = reminders.run()
    assert again["created"] == 0 and again["sent"] == 0
    frozen_clock.set(at(2024, 3, 28, 9, 0))
    later = reminders.run()
    assert later["created"] == 3  # both shops' overdue occasion for the owner, the staff member's one
    assert {n.occasion for n in notes(owner)} >= {f"cleaning_due:{shop.id}:2024-03-27:overdue",
                                                   f"cleaning_due:{sunday.id}:2024-03-24:overdue"}
    assert reminders.run()["created"] == 0


def test_the_notifications_api_lists_own_newest_first_and_marks_read(app, client, city, make_user, login,
                                                                     frozen_clock):
    shop = city.shop(1)
    city.cleaning(shop, dt.date(2024, 1, 27), received=at(2024, 1, 27))
    owner, stranger = make_user(), make_user()
    member(shop, owner)
    reminders.run()
    frozen_clock.set(at(2024, 3, 28, 9, 0))
    reminders.run()
    headers, other = login(owner), login(stranger)
    page = client.get("/api/v1/me/notifications", headers=headers).get_json()
    assert page["total"] == 2 and [n["kind"] for n in page["items"]] == ["cleaning_due"] * 2
    newest, oldest = page["items"]
    assert newest["title"] == "油烟净化设施清洗已逾期" and oldest["title"] == "油烟净化设施即将到期清洗"
    assert newest["object_type"] == "shop" and newest["object_id"] == shop.id and newest["read_at"] is None
    assert newest["wechat"] == "not_subscribed" and "2024-03-27" in newest["body"]
    assert newest["created_at"].endswith("+08:00")
    error_of(client.post(f"/api/v1/me/notifications/{newest['id']}/read", headers=other), 404)  # not theirs
    assert client.get("/api/v1/me/notifications", headers=other).get_json()["total"] == 0
    read = client.post(f"/api/v1/me/notifications/{newest['id']}/read", headers=headers).get_json()
    assert read["read_at"] is not None
    unread = client.get("/api/v1/me/notifications?unread=true", headers=headers).get_json()
    assert [n["id"] for n in unread["items"]] == [oldest["id"]]
    assert client.post("/api/v1/me/notifications/read-all", headers=headers).status_code == 204
    assert client.get("/api/v1/me/notifications?unread=true", headers=headers).get_json()["total"] == 0
    error_of(client.get("/api/v1/me/notifications"), 401)


def test_subscription_quota_arithmetic(app, client, make_user, login):
    user = make_user()
    headers = login(user)
    url = "/api/v1/me/subscriptions"
    empty = client.post(url, json={"results": {}}, headers=headers).get_json()
    assert empty == {"quota": {"cleaning_due": 0, "rectification_deadline": 0, "handover_to_confirm": 0,
                               "case_assigned": 0}}
    for _ in range(2):
        answer = client.post(url, json={"results": {"TPL-CLEAN": "accept", "TPL-RECT": "reject",
                                                    "TPL-SLIP": "accept"}}, headers=headers).get_json()
    assert answer["quota"]["cleaning_due"] == 2 and answer["quota"]["rectification_deadline"] == 0
    assert answer["quota"]["handover_to_confirm"] == "long_term"
    answer = client.post(url, json={"results": {"TPL-SLIP": "reject", "TPL-CLEAN": "ban"}}, headers=headers).get_json()
    assert answer["quota"]["handover_to_confirm"] == 0 and answer["quota"]["cleaning_due"] == 2
    error = error_of(client.post(url, json={"results": {"TPL-NOPE": "accept"}}, headers=headers), 422)
    assert "TPL-NOPE" in error["fields"]["results"][0]
    error_of(client.post(url, json={"results": {"TPL-CLEAN": "maybe"}}, headers=headers), 422)
    error_of(client.post(url, json={"results": {"TPL-CLEAN": "accept"}, "extra": 1}, headers=headers), 422)
    assert quota(user, "TPL-CLEAN") == 2
    # What the mini-program asks first: the template of each kind, and what is left of each.
    listed = client.get(url, headers=headers).get_json()
    assert {t["kind"]: (t["template_id"], t["long_term"]) for t in listed["templates"]} == {
        "case_assigned": ("TPL-CASE", False), "cleaning_due": ("TPL-CLEAN", False),
        "handover_to_confirm": ("TPL-SLIP", True), "rectification_deadline": ("TPL-RECT", False)}
    assert listed["quota"]["cleaning_due"] == 2
    error_of(client.get(url), 401)


def _pending_for(city, make_user, template_quota=1):
    """A shop due soon, its owner granted one cleaning_due message; the notification made, not sent."""
    shop = city.shop(1)
    city.cleaning(shop, dt.date(2024, 1, 27), received=at(2024, 1, 27))
    owner = make_user()
    member(shop, owner)
    grant(owner, "TPL-CLEAN", quota=template_quota)
    return owner


@pytest.mark.parametrize("script, state, quota_after, error", [
    ([43101], "no_quota", 0, "43101"),
    ([47003], "failed", 1, "47003"),
    ([40003], "failed", 1, "40003"),
    ([40037], "failed", 1, "40037"),
], ids=["43101-no-quota", "47003-bad-data", "40003-bad-openid", "40037-bad-template"])
def test_wechat_refusals_settle_once_and_keep_the_quota_honest(app, city, make_user, fake_wechat, script, state,
                                                               quota_after, error):
    owner = _pending_for(city, make_user)
    fake_wechat.server.send_script.extend(script)
    counts = reminders.run()
    (note,) = notes(owner)
    assert note.wechat == state and error in note.wechat_error and note.attempts == 0
    assert quota(owner, "TPL-CLEAN") == quota_after  # 43101 zeroes it; a failure does not spend it
    assert counts["sent"] == 0 and len(sent(fake_wechat)) == 1
    assert reminders.run()["sent"] == 0 and len(sent(fake_wechat)) == 1  # never tried again


@pytest.mark.parametrize("trouble", [-1, 45009, "http500", "hang"], ids=["busy", "limited", "http500", "timeout"])
def test_transient_failures_retry_after_1_5_30_minutes_then_fail(app, city, make_user, fake_wechat, frozen_clock,
                                                                 trouble):
    owner = _pending_for(city, make_user)
    fake_wechat.server.send_script.extend([trouble] * (4 if trouble != "hang" else 2))
    started = frozen_clock.set(at(2024, 3, 22, 9, 30))
    assert reminders.run()["retried"] == 1
    (note,) = notes(owner)
    assert note.wechat == "pending" and note.attempts == 1 and note.send_after == started + dt.timedelta(minutes=1)
    assert quota(owner, "TPL-CLEAN") == 1  # given back until a message is delivered
    assert reminders.run()["retried"] == 0  # not due yet
    if trouble == "hang":  # the second attempt hangs too, the third goes through
        frozen_clock.advance(dt.timedelta(minutes=1))
        assert reminders.run()["retried"] == 1
        frozen_clock.advance(dt.timedelta(minutes=5))
        assert reminders.run()["sent"] == 1
        db.session.expire_all()
        assert notes(owner)[0].wechat == "sent" and quota(owner, "TPL-CLEAN") == 0
        return
    for wait in (1, 5, 30):
        frozen_clock.advance(dt.timedelta(minutes=wait))
        reminders.run()
        db.session.expire_all()
    (note,) = notes(owner)
    assert note.wechat == "failed" and note.attempts == 4
    assert len(sent(fake_wechat)) == 4 and quota(owner, "TPL-CLEAN") == 1


def test_an_invalid_token_is_refreshed_once_and_the_message_goes(app, city, make_user, fake_wechat):
    owner = _pending_for(city, make_user)
    assert wechat_token.current() == "token-1"
    fake_wechat.invalidate_tokens()
    assert reminders.run()["sent"] == 1
    calls = fake_wechat.token_calls()
    assert [c["body"]["force_refresh"] for c in calls] == [False, True]
    assert db.session.get(WeChatToken, app.config["WECHAT_APPID"]).access_token == "token-2"
    assert notes(owner)[0].wechat == "sent"


def test_two_app_instances_share_one_token_and_refresh_it_once(app, app_config, make_app, fake_wechat, frozen_clock):
    db.session.remove()
    apps = [make_app(app_config) for _ in range(4)]
    barrier, tokens = threading.Barrier(len(apps)), []

    def ask(instance):
        with instance.app_context():
            barrier.wait()
            tokens.append(wechat_token.current())

    threads = [threading.Thread(target=ask, args=(instance,)) for instance in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tokens == ["token-1"] * 4 and len(fake_wechat.token_calls()) == 1
    frozen_clock.advance(dt.timedelta(seconds=7200 - 299))  # under 5 minutes left: one refresh
    tokens.clear()
    barrier.reset()
    threads = [threading.Thread(target=ask, args=(instance,)) for instance in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake_wechat.token_calls()) == 2 and len(set(tokens)) == 1


def test_a_deadline_that_passes_in_quiet_hours_waits_for_the_morning(app, city, make_user, fake_wechat, frozen_clock):
    frozen_clock.set(at(2024, 3, 22, 9, 30))
    shop = city.shop(1)
    city.cleaning(shop, dt.date(2024, 3, 20), received=at(2024, 3, 20))  # its purifier is not due
    city.inspection(shop, at(2024, 3, 17, 10, 0), fails=("P1",), deadline=dt.date(2024, 3, 24))
    owner = make_user()
    member(shop, owner)
    grant(owner, "TPL-RECT", quota=5)
    assert reminders.run()["sent"] == 1  # 2 days left
    (soon,) = notes(owner)
    assert soon.occasion.endswith(":2024-03-24:soon") and "还有 2 天" in soon.body
    frozen_clock.set(dt.datetime(2024, 3, 25, 0, 30, tzinfo=SHANGHAI))  # the deadline passed at midnight
    night = reminders.run()
    assert night["created"] == 1 and night["sent"] == 0
    passed = notes(owner)[-1]
    assert passed.occasion.endswith(":2024-03-24:passed") and passed.wechat == "quiet_hours"
    assert passed.send_after == dt.datetime(2024, 3, 25, 8, 0, tzinfo=SHANGHAI)
    frozen_clock.set(dt.datetime(2024, 3, 25, 7, 59, tzinfo=SHANGHAI))
    assert reminders.run()["sent"] == 0
    frozen_clock.set(dt.datetime(2024, 3, 25, 8, 1, tzinfo=SHANGHAI))
    assert reminders.run()["sent"] == 1
    message = sent(fake_wechat)[-1]
    assert message["page"] == f"pages/rectification/detail?id={passed.object_id}"
    assert message["data"]["phrase4"]["value"] == "已逾期" and message["data"]["date2"]["value"] == "2024年3月24日"


def test_a_pending_slip_asks_the_other_party_after_two_hours(app, city, make_user, frozen_clock):
    frozen_clock.set(at(2024, 3, 22, 9, 30))
    shop = city.shop(1)
    owner = make_user()
    member(shop, owner)
    company = db.session.scalar(sa.select(CollectorCompany))  # the city's company, which its slips name
    driver = make_user("collector", company=company)
    city.slip(shop, at(2024, 3, 22, 7, 0), status="pending", received=at(2024, 3, 22, 7, 0))  # 2.5 h ago
    city.slip(shop, at(2024, 3, 22, 9, 0), status="pending", received=at(2024, 3, 22, 9, 0))  # 30 min ago
    reminders.run()
    asked = notes(driver)
    assert len(asked) == 1, [(n.occasion, n.created_at) for n in asked]
    ask = asked[0]
    assert ask.kind == "handover_to_confirm" and ask.object_type == "handover"
    assert not [n for n in notes(owner) if n.kind == "handover_to_confirm"]  # the shop started both
    frozen_clock.set(at(2024, 3, 22, 11, 30))
    reminders.run()
    assert len(notes(driver)) == 2 and reminders.run()["created"] == 0


def test_an_answered_order_and_an_assigned_or_returned_case_tell_their_staff(app, city, make_user, frozen_clock):
    frozen_clock.set(at(2024, 3, 22, 9, 30))
    shop = city.shop(1)
    inspection = city.inspection(shop, at(2024, 3, 20, 10, 0), fails=("P1",))
    order = inspection.rectification
    inspector = db.session.get(User, inspection.inspector_id)
    owner, handler = make_user(), make_user("inspector", jurisdiction=["370811"])
    db.session.add(RectificationEvent(rectification_id=order.id, action="responded", actor_id=owner.id,
                                      at=at(2024, 3, 22, 9, 0), note="已清洗"))
    case = Case(shop_id=shop.id, source="rectification", source_id=order.id, status="assigned",
                assignee_id=handler.id, created_by_id=inspector.id, deadline=dt.date(2024, 4, 5))
    db.session.add(case)
    db.session.flush()
    db.session.add(CaseEvent(case_id=case.id, from_status="accepted", to_status="assigned", actor_id=inspector.id,
                             at=at(2024, 3, 22, 9, 10), assignee_id=handler.id))
    audit.record("test.fixture", "case", case.id)
    db.session.commit()
    reminders.run()
    (answered,) = notes(inspector)
    assert answered.kind == "rectification_answered" and answered.object_id == order.id
    (assigned,) = notes(handler)
    assert assigned.kind == "case_assigned" and "办理期限 2024-04-05" in assigned.body
    db.session.add(CaseEvent(case_id=case.id, from_status="handled", to_status="returned", actor_id=inspector.id,
                             at=at(2024, 3, 22, 9, 20), assignee_id=handler.id))
    db.session.commit()
    reminders.run()
    assert [n.title for n in notes(handler)] == ["有案件转办给您", "案件被退回重办"]
    frozen_clock.set(at(2024, 4, 2, 9, 0))  # events older than the look-back are not read again
    assert reminders.run()["created"] == 0


def test_four_reminder_runs_at_once_make_each_notification_and_message_once(app, app_config, city, make_user,
                                                                            fake_wechat):
    from server.clock import today
    real_today = today()
    users = []
    for n in range(12):
        shop = city.shop(n + 1, registered=real_today - dt.timedelta(days=200))
        city.cleaning(shop, real_today - dt.timedelta(days=55), received=at(2024, 1, 1))
        for _ in range(2):
            user = make_user()
            member(shop, user)
            grant(user, "TPL-CLEAN", quota=3)
            users.append(user.id)
    db.session.remove()
    env = server_environment(app_config, WECHAT_APPID=app_config["WECHAT_APPID"],
                             WECHAT_SECRET=app_config["WECHAT_SECRET"], WECHAT_API_BASE=app_config["WECHAT_API_BASE"],
                             WECHAT_TEMPLATES=json.dumps(TEMPLATES), REMINDER_QUIET_HOURS="")
    runs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "reminders", "run"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(4)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    created = sum(int(out.split("新建 ")[1].split(" ")[0]) for out in outputs)
    assert created == 24, outputs
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 24
    delivered = [(m["touser"], m["page"]) for m in fake_wechat.delivered]
    assert len(delivered) == len(set(delivered)) == 24
    assert len(fake_wechat.token_calls()) == 1
    assert {quota(user, "TPL-CLEAN") for user in users} == {2}
    assert {n.wechat for n in notes()} == {"sent"}


def test_a_message_left_sending_by_a_killed_process_is_never_sent_again(app, city, make_user, fake_wechat,
                                                                         frozen_clock):
    owner = _pending_for(city, make_user)
    frozen_clock.set(at(2024, 3, 22, 9, 30))
    reminders.outbox.create(reminders.occasions.due(), at(2024, 3, 22, 9, 30))
    (note,) = notes(owner)
    note.wechat, note.sending_at, note.quota_held = "sending", at(2024, 3, 22, 9, 25), True  # killed mid-call
    db.session.commit()
    assert reminders.run()["failed"] == 0  # 5 minutes: it may still be under way on another machine
    frozen_clock.set(at(2024, 3, 22, 9, 36))
    assert reminders.run()["failed"] == 1
    db.session.expire_all()
    (note,) = notes(owner)
    assert note.wechat == "failed" and "未知" in note.wechat_error and sent(fake_wechat) == []


@pytest.mark.parametrize("keyword, value, shaped", [
    ("thing1", "济宁市任城区古槐路老王烧烤第一百二十三号分店（总店）", "济宁市任城区古槐路老王烧烤第一百二十三…"),
    ("thing2", "a\u0000b\nc\u202ed", "a b c d"),
    ("phrase3", "即将到期 soon", "即将到期"),
    ("phrase4", "退回重办并加急处理", "退回重办并"),
    ("character_string5", "JN20240322-000123号", "JN20240322-000123"),
    ("character_string6", "X" * 40, "X" * 32),
    ("date7", "2024-03-24", "2024年3月24日"),
    ("time8", "2024-03-22T01:30:00+00:00", "2024-03-22 09:30"),
    ("number9", "约 44.5 kg", "44.5"),
    ("thing10", None, "—"),
])
def test_values_are_shaped_to_wechats_keyword_types(keyword, value, shaped):
    from server.services.reminders.values import shape
    assert shape(keyword, value) == shaped
    if keyword.startswith("thing"):
        assert len(shape(keyword, value)) <= 20


def test_a_claim_of_only_unsendable_messages_does_not_stop_the_run(app, city, make_user, fake_wechat, frozen_clock):
    frozen_clock.set(at(2024, 3, 22, 9, 30))
    owners = []
    for n in range(reminders.outbox.CLAIM + 1):
        shop = city.shop(n + 1)
        city.cleaning(shop, dt.date(2024, 1, 27), received=at(2024, 1, 27))
        owner = make_user()
        member(shop, owner)
        grant(owner, "TPL-CLEAN", quota=1)
        owners.append(owner)
    reminders.outbox.create(reminders.occasions.due(), at(2024, 3, 22, 9, 30))
    first_claimed = sorted(notes(), key=lambda n: (n.send_after, n.id))[:reminders.outbox.CLAIM]
    for note in first_claimed:  # their quota was spent elsewhere since they were made
        db.session.get(Subscription, db.session.scalar(sa.select(Subscription.id).where(
            Subscription.user_id == note.user_id))).quota = 0
    db.session.commit()
    counts = reminders.run()
    assert counts["no_quota"] == reminders.outbox.CLAIM and counts["sent"] == 1, counts


def test_every_reminder_kind_names_the_shop_by_its_real_name(app, city, make_user, fake_wechat, frozen_clock):
    """The cleaning reminder once read a stored-facts column as the name (``[]`` in the text and the
    subscribe message's ``thing``): every kind's text and its shop_name keyword carry the name."""
    frozen_clock.set(at(2024, 3, 26, 9, 30))
    shop = city.shop(1)
    shop.name = "老王烧烤古槐路店"
    city.cleaning(shop, dt.date(2024, 1, 27), received=at(2024, 1, 27))  # due 2024-03-27: due soon
    inspection = city.inspection(shop, at(2024, 3, 20, 10, 0), fails=("P1",))
    order = inspection.rectification
    order.deadline = dt.date(2024, 3, 27)  # an open order with a day left
    inspector = db.session.get(User, inspection.inspector_id)
    owner, handler = make_user(), make_user("inspector", jurisdiction=["370811"])
    member(shop, owner)
    company = db.session.scalar(sa.select(CollectorCompany))
    driver = make_user("collector", company=company)
    city.slip(shop, at(2024, 3, 26, 7, 0), status="pending", received=at(2024, 3, 26, 7, 0))
    db.session.add(RectificationEvent(rectification_id=order.id, action="responded", actor_id=owner.id,
                                      at=at(2024, 3, 26, 9, 0), note="已清洗"))
    case = Case(shop_id=shop.id, source="rectification", source_id=order.id, status="assigned",
                assignee_id=handler.id, created_by_id=inspector.id, deadline=dt.date(2024, 4, 5))
    db.session.add(case)
    db.session.flush()
    db.session.add(CaseEvent(case_id=case.id, from_status="accepted", to_status="assigned", actor_id=inspector.id,
                             at=at(2024, 3, 26, 9, 10), assignee_id=handler.id))
    audit.record("test.fixture", "case", case.id)
    db.session.commit()
    for user in (owner, driver, handler):
        for kind in TEMPLATES.values():
            grant(user, kind["id"], quota=5, long_term=kind["long_term"])
    reminders.run()
    made = {n.kind: n for n in notes()}
    assert set(made) == {"cleaning_due", "rectification_deadline", "handover_to_confirm", "rectification_answered",
                         "case_assigned"}, sorted(made)
    for kind, note in made.items():
        assert "老王烧烤古槐路店" in note.body and "[]" not in note.body, (kind, note.body)
        assert note.values["shop_name"] == "老王烧烤古槐路店", (kind, note.values)
    messages = {m["template_id"]: m["data"] for m in sent(fake_wechat)}
    assert set(messages) == {"TPL-CLEAN", "TPL-RECT", "TPL-SLIP", "TPL-CASE"}, sorted(messages)
    for template_id, field in (("TPL-CLEAN", "thing1"), ("TPL-RECT", "thing1"), ("TPL-SLIP", "thing2"),
                               ("TPL-CASE", "thing2")):
        assert messages[template_id][field]["value"] == "老王烧烤古槐路店", (template_id, messages[template_id])


def test_cleaning_reminders_stored_with_the_wrong_name_are_repaired_by_migration_0028(app, city, make_user):
    import importlib.util

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    shop = city.shop(1)
    owner = make_user()
    wrong = Notification(user_id=owner.id, kind="cleaning_due", occasion=f"cleaning_due:{shop.id}:x", title="t",
                         body="[]的油烟净化设施应于 2024-03-27 前清洗。", object_type="shop", object_id=shop.id,
                         wechat="pending", values={"shop_name": "[]", "date": "2024-03-27"})
    right = Notification(user_id=owner.id, kind="cleaning_due", occasion=f"cleaning_due:{shop.id}:y", title="t",
                         body="[]之外的正文", object_type="case", object_id=shop.id, wechat="sent", values=None)
    db.session.add_all([wrong, right])
    db.session.commit()
    path = ROOT / "migrations" / "versions" / "20261207_0028_cleaning_reminder_names.py"
    spec = importlib.util.spec_from_file_location("migration_0028", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with db.engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        migration.upgrade()
    db.session.expire_all()
    assert wrong.body == "店1的油烟净化设施应于 2024-03-27 前清洗。"
    assert wrong.values == {"shop_name": "店1", "date": "2024-03-27"}
    assert right.body == "[]之外的正文"  # another kind of object: untouched
