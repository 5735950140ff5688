from server.api import Blueprint
from server.auth import current_user, login_required
from server.pagination import page_of
from server.schemas.records import (ConfirmSchema, HandoverCorrectionSchema, HandoverInSchema,
                                    HandoverQuerySchema, HandoverSchema, RejectSchema, SettleSchema)
from server.services.records import handovers

blp = Blueprint("handovers", __name__, url_prefix="", description="收运联单")


@blp.route("/shops/<int:shop_id>/handovers", methods=["POST"])
@login_required
@blp.arguments(HandoverInSchema)
@blp.response(201, HandoverSchema)
def start_handover(body, shop_id):
    """开具收运联单（本店成员或签约收运单位人员）."""
    return handovers.start(current_user(), shop_id, body)


@blp.route("/shops/<int:shop_id>/handovers")
@login_required
@blp.arguments(HandoverQuerySchema, location="query")
@blp.response(200, page_of(HandoverSchema))
def shop_handovers(args, shop_id):
    """店铺的收运联单."""
    return handovers.list_handovers(current_user(), args, shop_id=shop_id)


@blp.route("/handovers")
@login_required
@blp.arguments(HandoverQuerySchema, location="query")
@blp.response(200, page_of(HandoverSchema))
def list_handovers(args):
    """联单台账（收运单位：本单位；工作人员：辖区；status=disputed 为争议联单清单）."""
    return handovers.list_handovers(current_user(), args)


@blp.route("/handovers/<int:handover_id>/confirm", methods=["POST"])
@login_required
@blp.arguments(ConfirmSchema)
@blp.response(200, HandoverSchema)
def confirm_handover(body, handover_id):
    """另一方确认联单（收运单位填写称重数量）；差异超出允许范围时为争议联单."""
    return handovers.confirm(current_user(), handover_id, body)


@blp.route("/handovers/<int:handover_id>/reject", methods=["POST"])
@login_required
@blp.arguments(RejectSchema)
@blp.response(200, HandoverSchema)
def reject_handover(body, handover_id):
    """另一方拒绝联单（须说明原因）."""
    return handovers.reject(current_user(), handover_id, body["reason"])


@blp.route("/handovers/<int:handover_id>/settle", methods=["POST"])
@login_required
@blp.arguments(SettleSchema)
@blp.response(200, HandoverSchema)
def settle_handover(body, handover_id):
    """监管人员裁定争议联单：采信申报或称重数量（须说明理由），联单转为已确认，按采信数量计入."""
    return handovers.settle(current_user(), handover_id, body)


@blp.route("/handovers/<int:handover_id>/corrections", methods=["POST"])
@login_required
@blp.arguments(HandoverCorrectionSchema)
@blp.response(201, HandoverSchema)
def correct_handover(body, handover_id):
    """更正联单（开具方）：同一编号的新版本，需另一方重新确认."""
    return handovers.correct(current_user(), handover_id, body)
