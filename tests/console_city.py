"""A small city for the console's tests, made through the API as its users would: a regulator of
任城区 with a console password, an inspector there, a shop with a cleaning (photos) and a pending
change request, a 12345 ticket, and a shop in 兖州区 the regulator must not see."""
import datetime as dt
import re
from typing import NamedTuple

from werkzeug.security import generate_password_hash

from server.clock import today
from tests.helpers import upload_photo

PASSWORD = "Str0ng-Console!"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleCity(NamedTuple):
    regulator_id: int
    inspector_id: int
    shop: dict
    other_shop: dict
    change_request_id: int
    case_id: int
    cleaning: dict


def build(client, make_user, make_shop, login):
    regulator = make_user("regulator", jurisdiction=["370811"], name="李监管", username="li.jianguan",
                          password_hash=generate_password_hash(PASSWORD))
    inspector = make_user("inspector", jurisdiction=["370811"], name="王执法", username="wang.zhifa",
                          password_hash=generate_password_hash(PASSWORD))
    made = make_shop(name="老王烧烤古槐路店")
    other = make_shop(name="兖州羊汤馆", district_code="370812", address="济宁市兖州区建设路8号")
    day = (today() - dt.timedelta(days=3)).isoformat()
    cleaning = client.post(f"/api/v1/shops/{made.shop_id}/cleanings", headers=made.owner, json={
        "cleaned_on": day, "parts": ["purifier", "hood"], "performed_by": "self",
        "before_photo_ids": [upload_photo(client, made.owner, 1)],
        "after_photo_ids": [upload_photo(client, made.owner, 2)]})
    assert cleaning.status_code == 201, cleaning.get_data(as_text=True)
    change = client.patch(f"/api/v1/shops/{made.shop_id}", json={"cooking_heads": 6}, headers=made.owner)
    assert change.status_code == 202, change.get_data(as_text=True)
    regulator_headers = login(regulator)
    received = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)).isoformat()
    case = client.post("/api/v1/cases", headers=regulator_headers, json={
        "source": "hotline", "external_case_no": "12345-20261201-0001", "district_code": "370811",
        "received_at": received, "summary": "市民反映古槐路烧烤店油烟直排", "note": "12345 派单"})
    assert case.status_code == 201, case.get_data(as_text=True)
    return ConsoleCity(regulator.id, inspector.id, made.shop, other.shop, change.get_json()["id"], case.get_json()["id"],
                       cleaning.get_json())


def csrf_of(html):
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def console_login(client, username="li.jianguan", password=PASSWORD):
    """Log in through the console's form (CSRF token from the login page); returns the response."""
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token})
