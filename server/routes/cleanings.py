from server.api import Blueprint
from server.auth import current_user, login_required
from server.pagination import page_of
from server.schemas.records import CleaningCorrectionSchema, CleaningInSchema, CleaningSchema, RecordListArgs
from server.services.records import cleanings

blp = Blueprint("cleanings", __name__, url_prefix="", description="清洗记录")


@blp.route("/shops/<int:shop_id>/cleanings", methods=["POST"])
@login_required
@blp.arguments(CleaningInSchema)
@blp.response(201, CleaningSchema)
def log_cleaning(body, shop_id):
    """登记油烟净化设施清洗记录（本店成员，附清洗前后照片）."""
    return cleanings.log(current_user(), shop_id, body)


@blp.route("/shops/<int:shop_id>/cleanings")
@login_required
@blp.arguments(RecordListArgs, location="query")
@blp.response(200, page_of(CleaningSchema))
def list_cleanings(args, shop_id):
    """清洗记录，新的在前（当前版本；工作人员可查看更正前的版本）."""
    return cleanings.list_for_shop(current_user(), shop_id, args)


@blp.route("/cleanings/<int:cleaning_id>/corrections", methods=["POST"])
@login_required
@blp.arguments(CleaningCorrectionSchema)
@blp.response(201, CleaningSchema)
def correct_cleaning(body, cleaning_id):
    """更正清洗记录：生成新版本，原记录保留并标记 superseded_by."""
    return cleanings.correct(current_user(), cleaning_id, body)
