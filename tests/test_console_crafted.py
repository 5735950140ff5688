"""The console never answers 5xx to a crafted link: every GET page under /console swept with hostile
query strings (unknown and out-of-view districts, malformed numbers, url_for's own ``_method`` /
``_anchor`` / ``_external``, control characters, huge values), for a district regulator and a
city-wide admin; pagers keep only the page's own filters; ``next`` and ``back`` with control
characters go to the overview; the login page shows only the messages it knows."""
import itertools
import re

import pytest
from sqlalchemy import update
from werkzeug.security import generate_password_hash

from server.clock import utcnow
from server.extensions import db
from server.models.user import AuthToken
from tests.console_city import PASSWORD, build, console_login, csrf_of

HOSTILE = ["", "x", "-1", "0", "99999999999999999999", "1e309", "370812", "999999", "37081", "a\nb", "a\r\nSet-Cookie: x=1",
           "\x00", "<script>alert(1)</script>", "' OR 1=1 --", "%", "日本", "x" * 5000, "2026-02-30", "1,2",
           "http://evil.example/", "//evil.example"]
PARAMS = ["district_code", "page", "per_page", "status", "tab", "q", "near", "radius_m", "sort", "grade", "from", "to",
          "offset", "next", "reason", "_method", "_anchor", "_external", "_scheme", "role", "category", "claimed"]


@pytest.fixture
def city(client, make_user, make_shop, login):
    made = build(client, make_user, make_shop, login)
    make_user("admin", jurisdiction=None, name="张管理", username="zhang.admin",
              password_hash=generate_password_hash(PASSWORD))
    return made


def console_pages(app, city):
    """Every GET page of the console, with real ids in place of the route's arguments."""
    ids = {"shop_id": city.shop["id"], "case_id": city.case_id, "complaint_id": 1, "request_id": city.change_request_id,
           "user_id": city.inspector_id, "receipt_id": 1}
    pages = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/console") or "GET" not in rule.methods or rule.endpoint == "console.logout":
            continue
        values = {name: ids.get(name, 1) for name in rule.arguments}
        if "kind" in rule.arguments:
            values.update(kind="compliance", fmt="csv")
        if "filename" in rule.arguments:
            continue  # static files
        pages.append(rule.build(values, append_unknown=False)[1])
    return sorted(set(pages))


@pytest.mark.parametrize("username", ["li.jianguan", "zhang.admin"])
def test_crafted_queries_on_every_console_page_never_give_5xx(app, client, city, username):
    assert console_login(client, username=username).status_code == 303
    pages = console_pages(app, city)
    assert len(pages) >= 12, pages
    sent, failures = 0, []
    for url, (name, value) in itertools.product(pages, itertools.product(PARAMS, HOSTILE)):
        if name not in ("district_code", "page", "_method", "_anchor", "_external", "next", "reason", "status") \
                and value not in ("a\nb", "99999999999999999999", "x", "\x00"):
            continue  # every page × the parameters that broke pages, and a spread of the rest
        response = client.get(url, query_string={name: value})
        sent += 1
        body = response.get_data(as_text=True)
        if response.status_code >= 500:
            failures.append((url, name, repr(value)[:40], response.status_code))
        elif response.mimetype == "text/html":
            hrefs = re.findall(r'href="([^"]*)"', body)
            planted = [h for h in hrefs if "#x" in h or h.startswith("http") or "_method" in h or "_external" in h]
            if planted:
                failures.append((url, name, repr(value)[:40], planted[:2]))
        if "evil.example" in response.headers.get("Location", ""):
            failures.append((url, name, "redirect", response.headers["Location"]))
    print(f"{username}: {sent} crafted GETs over {len(pages)} pages")
    assert sent > 1400 and not failures, failures[:20]


def test_a_district_out_of_view_is_404_and_a_malformed_one_400(client, city):
    console_login(client)
    for url in ("/console/", "/console/map.json"):
        assert client.get(url, query_string={"district_code": "370812"}).status_code == 404  # 兖州区: not mine
        assert client.get(url, query_string={"district_code": "999999"}).status_code == 404
        malformed = client.get(url, query_string={"district_code": "37 08"})
        assert malformed.status_code == 400 and "区县代码" in malformed.get_data(as_text=True)
        assert client.get(url, query_string={"district_code": "370811"}).status_code == 200


def test_pagers_keep_only_the_pages_own_filters(client, city):
    console_login(client)
    for url in ("/console/shops?per_page=1", "/console/queues?tab=cases&per_page=1", "/console/complaints?per_page=1",
                "/console/people?per_page=1"):
        body = client.get(url + "&_anchor=x&_external=1&bogus=1&page=1").get_data(as_text=True)
        for href in re.findall(r'href="([^"]*page=[^"]*)"', body):
            assert "#" not in href and not href.startswith("http") and "bogus" not in href, (url, href)


@pytest.mark.parametrize("target", ["/console/shops\r\nX-Evil: 1", "/console/\nshops", "/console/\x7f", "\\\\evil.example",
                                    "/console\\..\\..\\x"])
def test_a_next_or_back_with_control_characters_goes_to_the_overview_before_nothing_is_lost(client, city, target):
    token = csrf_of(client.get("/console/login", query_string={"next": target}).get_data(as_text=True))
    response = client.post("/console/login", data={"username": "li.jianguan", "password": PASSWORD, "next": target,
                                                   "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/")
    token = csrf_of(client.get("/console/queues").get_data(as_text=True))
    decided = client.post(f"/console/change-requests/{city.change_request_id}/decision",
                          data={"approved": "true", "csrf_token": token, "back": target})
    assert decided.status_code == 303 and decided.headers["Location"].endswith("/console/")
    assert "已处理" not in client.get("/console/").get_data(as_text=True)


def test_the_login_page_shows_only_the_messages_it_knows(client, city):
    phishing = client.get("/console/login", query_string={"reason": "您的账号存在风险，请拨打 400-000-0000 联系客服"})
    assert phishing.status_code == 200 and "400-000-0000" not in phishing.get_data(as_text=True)
    known = client.get("/console/login", query_string={"reason": "idle"}).get_data(as_text=True)
    assert "长时间未操作，请重新登录" in known
    console_login(client)
    db.session.execute(update(AuthToken).values(revoked_at=utcnow()))  # the session ends elsewhere
    db.session.commit()
    moved = client.get("/console/shops")
    assert moved.status_code == 302 and "reason=expired" in moved.headers["Location"]
    assert "登录已失效，请重新登录" in client.get(moved.headers["Location"]).get_data(as_text=True)


def test_a_functional_zones_code_is_a_district_code_too(client, city):
    console_login(client, username="zhang.admin")  # the city-wide admin of this module's city
    for url in ("/console/", "/console/map.json", "/console/queues", "/console/stats"):
        assert client.get(url, query_string={"district_code": "370800-JK"}).status_code == 200, url
