"""Every failure leaves in the one error shape, in Chinese, without a stack trace."""
import flask
import marshmallow as ma
import pytest
from server.api import Blueprint
from werkzeug import exceptions

from server.errors import fail
from server.extensions import db
from server.models import District
from server.pagination import PageArgs, page_of, paginate
from server.schemas.base import StrictSchema
from server.schemas.reference import DistrictSchema
from tests.helpers import error_of


class EchoSchema(StrictSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(max=10))
    count = ma.fields.Integer(validate=ma.validate.Range(min=1))


@pytest.fixture
def app(app):
    """The app with a few routes that fail on purpose, registered before the first request."""
    raw = flask.Blueprint("failing", __name__, url_prefix="/api/v1/_test")

    @raw.route("/status/<int:status>", methods=["GET", "POST"])
    def status(status):
        werkzeug_errors = {400: exceptions.BadRequest, 401: exceptions.Unauthorized,
                           403: exceptions.Forbidden, 409: exceptions.Conflict,
                           415: exceptions.UnsupportedMediaType, 429: exceptions.TooManyRequests,
                           502: exceptions.BadGateway, 503: exceptions.ServiceUnavailable}
        raise werkzeug_errors[status]()

    @raw.route("/fail/<int:status>")
    def custom(status):
        fail(status, "自定义的中文说明", headers={"Retry-After": "60"} if status == 429 else None)

    @raw.route("/crash")
    def crash():
        raise RuntimeError("secret internal detail /etc/passwd")

    @raw.route("/duplicate", methods=["POST"])
    def duplicate():
        db.session.add(District(code="370811", name="重复", kind="district"))
        db.session.commit()
        return "", 204

    @raw.route("/upload", methods=["POST"])
    def upload():
        return {"size": len(flask.request.get_data())}

    app.register_blueprint(raw)

    blp = Blueprint("echo", __name__, url_prefix="/api/v1/_test")

    @blp.route("/echo", methods=["POST"])
    @blp.arguments(EchoSchema)
    @blp.response(200, EchoSchema)
    def echo(body):
        return body

    @blp.route("/districts-page")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(DistrictSchema))
    def districts_page(args):
        return paginate(db.select(District).order_by(District.code), args)

    app.extensions["smorest_api"].register_blueprint(blp)
    return app


@pytest.mark.parametrize("status,code", [
    (400, "bad_request"), (401, "unauthorized"), (403, "forbidden"), (409, "conflict"),
    (415, "unsupported_media_type"), (429, "rate_limited"), (502, "upstream_unavailable"),
    (503, "service_unavailable"),
])
def test_http_errors_use_the_error_shape(client, status, code):
    assert error_of(client.get(f"/api/v1/_test/status/{status}"), status)["code"] == code


@pytest.mark.parametrize("status,code", [
    (403, "forbidden"), (404, "not_found"), (409, "conflict"), (422, "validation_failed"),
    (429, "rate_limited"), (502, "upstream_unavailable"), (507, "insufficient_storage"),
])
def test_raised_errors_keep_their_message(client, status, code):
    response = client.get(f"/api/v1/_test/fail/{status}")
    error = error_of(response, status)
    assert error == {"code": code, "message": "自定义的中文说明", "request_id": response.headers["X-Request-Id"]}
    if status == 429:
        assert response.headers["Retry-After"] == "60"


def test_unknown_path_is_404_json(client):
    assert error_of(client.get("/api/v1/no-such-path"), 404)["code"] == "not_found"
    assert error_of(client.get("/no-such-page"), 404)["code"] == "not_found"
    assert client.get("/").headers["Location"].endswith("/console/")  # a person typing the address
    with client.get("/favicon.ico", follow_redirects=True) as icon:
        assert icon.mimetype == "image/svg+xml"


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/api/v1/districts")
    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_body_over_the_limit_is_413_json(client):
    response = client.post("/api/v1/_test/upload", data=b"x" * (11 * 1024 * 1024),
                           content_type="application/octet-stream")
    assert error_of(response, 413)["code"] == "payload_too_large"


def test_integrity_error_is_409_and_the_session_recovers(client):
    assert error_of(client.post("/api/v1/_test/duplicate"), 409)["code"] == "conflict"
    assert client.get("/api/v1/districts").status_code == 200


def test_crash_is_500_without_details(client, caplog):
    response = client.get("/api/v1/_test/crash")
    error = error_of(response, 500)
    assert error["code"] == "internal_error"
    body = response.get_data(as_text=True)
    assert "secret" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert "secret internal detail" in caplog.text  # logged for us instead


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/_test/echo", data="{", content_type="application/json")
    error = error_of(response, 400)
    assert error["code"] == "bad_request"
    assert "JSON" in error["message"]


def test_unknown_fields_are_refused(client):
    response = client.post("/api/v1/_test/echo", json={"name": "店", "surprise": 1})
    error = error_of(response, 422)
    assert error["code"] == "validation_failed"
    assert error["fields"] == {"surprise": ["未知字段"]}


def test_validation_messages_are_chinese_per_field(client):
    response = client.post("/api/v1/_test/echo", json={"name": "一二三四五六七八九十十一", "count": 0})
    fields = error_of(response, 422)["fields"]
    assert fields == {"name": ["长度不能超过 10"], "count": ["不能小于 1"]}
    fields = error_of(client.post("/api/v1/_test/echo", json={}), 422)["fields"]
    assert fields == {"name": ["必填项"]}
    fields = error_of(client.post("/api/v1/_test/echo", json=["not", "an", "object"]), 422)["fields"]
    assert fields == {"_schema": ["数据类型错误"]}


def test_valid_body_passes_through(client):
    assert client.post("/api/v1/_test/echo", json={"name": "店", "count": 2}).get_json() == {
        "name": "店", "count": 2}


def test_pagination_envelope_and_per_page_clamped(client):
    body = client.get("/api/v1/_test/districts-page?per_page=500").get_json()
    assert body["per_page"] == 100 and body["page"] == 1 and body["total"] == 14
    assert len(body["items"]) == 14
    body = client.get("/api/v1/_test/districts-page?page=2&per_page=10").get_json()
    assert [d["code"] for d in body["items"]] == ["370871", "370881", "370883", "370891"]
    assert (body["page"], body["per_page"], body["total"]) == (2, 10, 14)
    assert client.get("/api/v1/_test/districts-page?page=9").get_json()["items"] == []
    assert client.get("/api/v1/_test/districts-page").get_json()["per_page"] == 20


@pytest.mark.parametrize("query", ["per_page=0", "page=0", "page=x", "per_page=-5", "colour=red"])
def test_bad_pagination_arguments_are_422(client, query):
    assert error_of(client.get("/api/v1/_test/districts-page?" + query), 422)["code"] == "validation_failed"


def test_every_response_says_nosniff_and_utf8(client):
    for response in (client.get("/api/v1/districts"), client.get("/api/v1/nope")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
