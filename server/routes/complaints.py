from server.api import Blueprint
from server.auth import current_user, login_required, roles_required
from server.pagination import PageArgs, page_of
from server.roles import STAFF_ROLES
from server.schemas.complaints import (ComplaintCreatedSchema, ComplaintInSchema, ComplaintQuerySchema,
                                       ComplaintSchema, TriageResultSchema, TriageSchema)
from server.services.enforcement import complaints

blp = Blueprint("complaints", __name__, url_prefix="", description="市民投诉")


@blp.route("/complaints", methods=["POST"])
@login_required
@blp.arguments(ComplaintInSchema)
@blp.response(201, ComplaintCreatedSchema)
def file_complaint(body):
    """市民投诉（油烟扰民、露天烧烤、出店经营、乱倒餐厨垃圾），附近 100 米的店铺与可能重复的投诉一并返回；每人每天 10 条."""
    return complaints.file(body, user=current_user())


@blp.route("/me/complaints")
@login_required
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(ComplaintSchema))
def my_complaints(args):
    """本人的投诉，含处理状态与答复."""
    return complaints.mine(current_user(), args)


@blp.route("/complaints")
@roles_required(*STAFF_ROLES)
@blp.arguments(ComplaintQuerySchema, location="query")
@blp.response(200, page_of(ComplaintSchema))
def list_complaints(args):
    """辖区内的投诉."""
    return complaints.list_for(current_user(), args)


@blp.route("/complaints/<int:complaint_id>")
@login_required
@blp.response(200, ComplaintSchema)
def get_complaint(complaint_id):
    """一条投诉（投诉人本人，或所在区县的工作人员）."""
    return complaints.get(current_user(), complaint_id)


@blp.route("/complaints/<int:complaint_id>/triage", methods=["POST"])
@roles_required(*STAFF_ROLES)
@blp.arguments(TriageSchema)
@blp.response(200, TriageResultSchema)
def triage_complaint(body, complaint_id):
    """处理投诉：关联店铺、标记重复、非本部门职责、立案或答复结案."""
    return complaints.triage(current_user(), complaint_id, body)
