"""Collection companies: listed for everyone logged in, managed by regulators in jurisdiction."""
import datetime as dt

from tests.helpers import credit_code, error_of


def company(**changes):
    body = {"name": "济宁环卫收运", "uscc": credit_code(99), "licence_no": "JN-2024-01",
            "licence_valid_until": "2099-12-31", "districts": ["370811"]}
    return dict(body, **changes)


def test_regulator_registers_and_everyone_lists(client, login_as):
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    created = client.post("/api/v1/collectors", json=company(), headers=regulator)
    assert created.status_code == 201 and created.get_json()["licence_valid"] is True
    _, user = login_as()
    assert [c["name"] for c in client.get("/api/v1/collectors", headers=user).get_json()] == ["济宁环卫收运"]
    error_of(client.get("/api/v1/collectors"), 401)
    error_of(client.post("/api/v1/collectors", json=company(uscc=credit_code(98)), headers=user), 403)


def test_expired_licences_are_listed_and_marked(client, login_as, make_company, frozen_clock):
    make_company(valid_until=dt.date(2024, 3, 21))
    _, user = login_as()
    assert client.get("/api/v1/collectors", headers=user).get_json()[0]["licence_valid"] is False


def test_wrong_credit_code_check_character_says_so(client, login_as):
    _, regulator = login_as("regulator", jurisdiction=None)
    code = credit_code(5)
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    fields = error_of(client.post("/api/v1/collectors", json=company(uscc=wrong), headers=regulator), 422)["fields"]
    assert fields == {"uscc": ["统一社会信用代码校验位错误"]}
    assert client.post("/api/v1/collectors", json=company(uscc="91350100M000100Y43"),
                       headers=regulator).status_code == 201
    error_of(client.post("/api/v1/collectors", json=company(uscc="91350100M000100Y43"), headers=regulator), 409)


def test_regulator_stays_inside_its_jurisdiction(client, login_as, make_company):
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    error_of(client.post("/api/v1/collectors", json=company(districts=["370883"]), headers=regulator), 403)
    far = make_company(["370883"])
    error_of(client.patch(f"/api/v1/collectors/{far.id}", json={"licence_no": "X"}, headers=regulator), 404)
    near = make_company(["370811"])
    body = client.patch(f"/api/v1/collectors/{near.id}", json={"licence_valid_until": "2030-01-01"},
                        headers=regulator).get_json()
    assert body["licence_valid_until"] == "2030-01-01"
