from server.api import Blueprint
from server.auth import current_user, login_required
from server.pagination import page_of
from server.schemas.inspections import (RectificationQuerySchema, RectificationSchema, ResponseInSchema,
                                        ReviewInSchema)
from server.services.enforcement import rectifications

blp = Blueprint("rectifications", __name__, url_prefix="", description="整改通知")


@blp.route("/rectifications")
@login_required
@blp.arguments(RectificationQuerySchema, location="query")
@blp.response(200, page_of(RectificationSchema))
def list_rectifications(args):
    """整改通知（店铺：本店；工作人员：辖区；status=overdue 为逾期未整改）."""
    return rectifications.list_for(current_user(), args)


@blp.route("/rectifications/<int:order_id>/acknowledge", methods=["POST"])
@login_required
@blp.response(200, RectificationSchema)
def acknowledge(order_id):
    """店铺签收整改通知（记录送达时间）."""
    return rectifications.acknowledge(current_user(), order_id)


@blp.route("/rectifications/<int:order_id>/responses", methods=["POST"])
@login_required
@blp.arguments(ResponseInSchema)
@blp.response(200, RectificationSchema)
def respond(body, order_id):
    """店铺提交整改答复（说明与照片）."""
    return rectifications.respond(current_user(), order_id, body)


@blp.route("/rectifications/<int:order_id>/review", methods=["POST"])
@login_required
@blp.arguments(ReviewInSchema)
@blp.response(200, RectificationSchema)
def review(body, order_id):
    """执法人员审核整改：通过则结案，不通过则退回并给出新期限."""
    return rectifications.review(current_user(), order_id, body)
