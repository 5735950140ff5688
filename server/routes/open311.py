"""Open311 GeoReport v2 at /open311/v2 (JSON).  Errors on this prefix take Open311's own shape,
``[{"code": 400, "description": "..."}]``, as partner systems' client libraries expect."""
from flask import Blueprint, jsonify, request

from server.errors import defaults_for
from server.services.enforcement import open311

blp = Blueprint("open311", __name__, url_prefix="/open311/v2")


def _answer(body, status=200):
    response = jsonify(body)
    response.status_code = status
    return response


def init_app(app):
    app.register_blueprint(blp)
    app.after_request(open311_errors)


def open311_errors(response):
    """Every error under /open311/v2 in Open311's shape — the blueprint's own refusals, and those made
    before it is reached (an unknown path, an id the route cannot take) or by the app's handlers (a
    number or date the database cannot hold): bad input 400, an unknown request 404."""
    if not request.path.startswith(blp.url_prefix + "/") and request.path != blp.url_prefix \
            or response.status_code < 400 or response.mimetype != "application/json":
        return response
    error = (response.get_json(silent=True) or {})
    if not isinstance(error, dict) or "error" not in error:
        return response
    error = error["error"]
    status = 400 if response.status_code == 422 else response.status_code
    description = error.get("message") or defaults_for(status)[1]
    if error.get("fields"):
        description += "：" + "；".join(f"{k} {'、'.join(map(str, v))}" for k, v in error["fields"].items())
    answer = _answer([{"code": status, "description": description}], status)
    for name in ("Retry-After", "X-Request-Id", "Allow"):
        if name in response.headers:
            answer.headers[name] = response.headers[name]
    return answer


@blp.route("/services.json")
def services():
    return _answer(open311.services())


@blp.route("/services/<service_code>.json")
def service_definition(service_code):
    """GeoReport v2 "GET Service Definition": every service answers, none asks for attributes."""
    return _answer(open311.service_definition(service_code))


@blp.route("/requests.json", methods=["GET", "POST"])
def requests_():
    if request.method == "POST":
        form_encoded = request.mimetype == "application/x-www-form-urlencoded"
        return _answer(open311.post_request(request.form.to_dict(), form_encoded), 201)
    return _answer(open311.get_requests(request.args.to_dict()))


@blp.route("/requests/<int:request_id>.json")
def one_request(request_id):
    return _answer(open311.get_request(request_id))
