from server.api import Blueprint
from server.auth import current_user, login_required, roles_required
from server.roles import STAFF_ROLES
from server.schemas.shops import ChangeRequestSchema, DecisionSchema
from server.services.roster import change_requests

blp = Blueprint("change_requests", __name__, url_prefix="", description="店铺信息变更申请")


@blp.route("/shops/<int:shop_id>/change-requests")
@login_required
@blp.response(200, ChangeRequestSchema(many=True))
def list_change_requests(shop_id):
    """店铺的变更申请（本店成员、辖区工作人员）."""
    return change_requests.for_shop(current_user(), shop_id)


@blp.route("/change-requests/<int:request_id>/decision", methods=["POST"])
@roles_required(*STAFF_ROLES)
@blp.arguments(DecisionSchema)
@blp.response(200, ChangeRequestSchema)
def decide(body, request_id):
    """批准或驳回变更申请."""
    return change_requests.decide(current_user(), request_id, body["approved"], body.get("note"))
