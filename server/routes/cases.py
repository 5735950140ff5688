from server.api import Blueprint
from server.auth import current_user, roles_required
from server.pagination import page_of
from server.roles import STAFF_ROLES
from server.schemas.inspections import (CaseInSchema, CaseQuerySchema, CaseSchema, CaseTransitionSchema,
                                       FollowUpSchema)
from server.services.enforcement import cases

blp = Blueprint("cases", __name__, url_prefix="", description="案件")


@blp.route("/cases", methods=["POST"])
@roles_required(*STAFF_ROLES)
@blp.arguments(CaseInSchema)
@blp.response(201, CaseSchema)
def create_case(body):
    """立案（受理）：逾期整改、争议联单，或 12345 热线工单（办理期限：受理次日起第 5 个工作日）."""
    return cases.create(current_user(), body)


@blp.route("/cases/<int:case_id>/transitions", methods=["POST"])
@roles_required(*STAFF_ROLES)
@blp.arguments(CaseTransitionSchema)
@blp.response(200, CaseSchema)
def case_transition(body, case_id):
    """案件流转：转办、处置、退回重办、结案；热线工单还可回退（受理后 2 个工作日内）与延期一次（≤10 个工作日）."""
    return cases.transition(current_user(), case_id, body)


@blp.route("/cases/<int:case_id>/follow-up", methods=["POST"])
@roles_required(*STAFF_ROLES)
@blp.arguments(FollowUpSchema)
@blp.response(200, CaseSchema)
def case_follow_up(body, case_id):
    """热线工单结案后回访：不满意则重办（退回承办人）."""
    return cases.follow_up(current_user(), case_id, body)


@blp.route("/cases")
@roles_required(*STAFF_ROLES)
@blp.arguments(CaseQuerySchema, location="query")
@blp.response(200, page_of(CaseSchema))
def list_cases(args):
    """辖区内的案件."""
    return cases.list_for(current_user(), args)
