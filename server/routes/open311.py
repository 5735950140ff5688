"""Open311 GeoReport v2 at /open311/v2 (JSON).  Errors on this prefix take Open311's own shape,
``[{"code": 400, "description": "..."}]``, as partner systems' client libraries expect."""
from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from server.errors import ApiError, defaults_for
from server.extensions import db
from server.services.enforcement import open311

blp = Blueprint("open311", __name__, url_prefix="/open311/v2")


def _answer(body, status=200):
    response = jsonify(body)
    response.status_code = status
    return response


@blp.errorhandler(HTTPException)
def _error(error):
    db.session.rollback()
    status = error.code or 500
    if isinstance(error, ApiError):
        description = error.description or defaults_for(status)[1]
        if error.fields:
            description += "：" + "；".join(f"{k} {'、'.join(v)}" for k, v in error.fields.items())
        status = 400 if status == 422 else status
    else:
        description = defaults_for(status)[1]
    return _answer([{"code": status, "description": description}], status)


@blp.route("/services.json")
def services():
    return _answer(open311.services())


@blp.route("/requests.json", methods=["GET", "POST"])
def requests_():
    if request.method == "POST":
        form_encoded = request.mimetype == "application/x-www-form-urlencoded"
        return _answer(open311.post_request(request.form.to_dict(), form_encoded), 201)
    return _answer(open311.get_requests(request.args.to_dict()))


@blp.route("/requests/<int:request_id>.json")
def one_request(request_id):
    return _answer(open311.get_request(request_id))
