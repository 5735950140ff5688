from flask import jsonify

from server.api import Blueprint
from server.schemas.reference import HealthSchema
from server.services.upkeep.health import database_ok

blp = Blueprint("meta", __name__, url_prefix="", description="运维")


@blp.route("/health")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="数据库不可用")
def health():
    """健康检查：应用与数据库是否可用（无需登录）."""
    if database_ok():
        return {"status": "ok", "database": "ok"}
    response = jsonify({"status": "unavailable", "database": "unavailable"})
    response.status_code = 503
    return response
