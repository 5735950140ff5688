"""Idempotency-Key: a retried POST replays the first answer and creates nothing."""
import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from server.clock import utcnow
from server.extensions import db
from server.models import CollectorCompany, IdempotencyKey
from tests.helpers import credit_code, error_of


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


def test_a_key_whose_answer_was_lost_never_writes_twice(client, regulator, frozen_clock):
    """The write committed with its key but the process died before storing the answer."""
    import hashlib
    import json
    payload = body()
    raw = json.dumps(payload).encode()
    db.session.add(IdempotencyKey(user_id=1, key="k1", method="POST", path="/api/v1/collectors",
                                  body_sha256=hashlib.sha256(raw).hexdigest(), created_at=utcnow(),
                                  status_code=None))
    db.session.commit()
    frozen_clock.advance(dt.timedelta(hours=1))
    response = client.post("/api/v1/collectors", data=raw, content_type="application/json",
                           headers=dict(regulator, **{"Idempotency-Key": "k1"}))
    assert error_of(response, 409)["code"] == "conflict"
    assert companies() == 0


def test_the_key_is_written_in_the_same_transaction_as_the_record(client, regulator, monkeypatch):
    """If the business write fails at commit, no key is left behind, and a retry runs."""
    from server.services.roster import collectors
    real = collectors.audit.record

    def explode(*args, **kwargs):
        raise RuntimeError("crash between the write and its commit")

    monkeypatch.setattr(collectors.audit, "record", explode)
    error_of(post(client, regulator, body()), 500)
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    monkeypatch.setattr(collectors.audit, "record", real)
    assert post(client, regulator, body()).status_code == 201
    assert companies() == 1


@pytest.mark.parametrize("key", ["", "x" * 65, "has space", "中文"])
def test_malformed_keys_are_400(client, regulator, key):
    headers = dict(regulator)
    response = client.post("/api/v1/collectors", json=body(),
                           headers=[*headers.items(), ("Idempotency-Key", key.encode().decode("latin-1"))])
    assert error_of(response, 400)["code"] == "bad_request"
    assert companies() == 0


def test_a_photo_sent_again_with_a_new_multipart_boundary_is_replayed(client, login_as):
    """A phone that lost the answer to an upload sends it again: a new boundary, maybe a new file name,
    the same fields and bytes — the same request (replayed); other bytes under the key are not."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from tests.images import encode, scene

    _owner, headers = login_as()
    picture = encode(scene(5))

    def send(data, name, boundary):
        fields = {"source": "camera", "lat": "35.4151", "lng": "116.5872",
                  "file": FileStorage(io.BytesIO(data), name, content_type="image/jpeg")}
        _boundary, body = encode_multipart(fields, boundary=boundary)
        return client.post("/api/v1/photos", data=body, headers={**headers, "Idempotency-Key": "photo-1"},
                           content_type=f"multipart/form-data; boundary={boundary}")

    first = send(picture, "a.jpg", "----first")
    again = send(picture, "blob", "----second-attempt")
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json()["id"] == first.get_json()["id"]
    other = send(encode(scene(6)), "a.jpg", "----third")
    assert other.status_code == 422 and other.get_json()["error"]["code"] == "idempotency_key_reused"
