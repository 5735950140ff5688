"""Idempotency-Key: a retried POST replays the first answer and creates nothing."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from server.clock import utcnow
from server.extensions import db
from server.models import CollectorCompany, IdempotencyKey
from tests.conftest import credit_code, error_of


def body(n=1, **changes):
    return dict({"name": f"收运公司{n}", "uscc": credit_code(n), "licence_no": "L-1",
                 "licence_valid_until": "2099-12-31", "districts": ["370811"]}, **changes)


@pytest.fixture
def regulator(login_as):
    return login_as("regulator", jurisdiction=None)[1]


def post(client, headers, json, key="3f1c2a9e-5b7d-4c1e-9a8f-0d2b6e4c7a11", path="/api/v1/collectors"):
    return client.post(path, json=json, headers=dict(headers, **{"Idempotency-Key": key}))


def companies():
    return db.session.scalar(select(func.count()).select_from(CollectorCompany))


def test_same_key_replays_the_first_answer(client, regulator):
    first = post(client, regulator, body())
    again = post(client, regulator, body())
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert companies() == 1


def test_same_key_with_another_body_is_422(client, regulator):
    post(client, regulator, body())
    response = post(client, regulator, body(name="别的公司"))
    assert error_of(response, 422)["code"] == "idempotency_key_reused"
    assert companies() == 1


def test_same_key_while_the_first_still_runs_is_409(client, regulator, login_as, app):
    post(client, regulator, body())
    row = db.session.scalar(select(IdempotencyKey))
    row.status_code = None  # as if the first request were still running
    db.session.commit()
    assert error_of(post(client, regulator, body()), 409)["code"] == "conflict"


def test_keys_belong_to_one_user_and_one_route(client, regulator, login_as):
    post(client, regulator, body(1))
    _, other = login_as("regulator", jurisdiction=None)
    assert post(client, other, body(2)).status_code == 201  # same key, other user
    company_id = db.session.scalar(select(CollectorCompany.id))
    patched = post(client, regulator, {"licence_no": "L-2"}, path=f"/api/v1/collectors/{company_id}")
    assert patched.status_code == 405  # PATCH-only route: the key does not matter
    assert companies() == 2


def test_after_seven_days_the_key_is_new_again(client, regulator, frozen_clock):
    post(client, regulator, body(1))
    frozen_clock.advance(dt.timedelta(days=7, seconds=1))
    assert post(client, regulator, body(2)).status_code == 201
    assert companies() == 2


def test_failed_requests_are_not_remembered(client, regulator):
    error_of(post(client, regulator, body(uscc="bad")), 422)
    assert post(client, regulator, body(1)).status_code == 201  # same key, now a good body
    assert db.session.scalar(select(IdempotencyKey.status_code)) == 201


def test_an_abandoned_key_can_be_used_again(client, regulator, frozen_clock):
    db.session.add(IdempotencyKey(user_id=1, key="k1", method="POST", path="/api/v1/collectors",
                                  body_sha256="0" * 64, created_at=utcnow(), status_code=None))
    db.session.commit()
    frozen_clock.advance(dt.timedelta(minutes=5))
    assert post(client, regulator, body(), key="k1").status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 65, "has space", "中文"])
def test_malformed_keys_are_400(client, regulator, key):
    headers = dict(regulator)
    response = client.post("/api/v1/collectors", json=body(),
                           headers=[*headers.items(), ("Idempotency-Key", key.encode().decode("latin-1"))])
    assert error_of(response, 400)["code"] == "bad_request"
    assert companies() == 0
