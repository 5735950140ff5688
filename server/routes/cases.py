from server.api import Blueprint
from server.auth import current_user, roles_required
from server.pagination import page_of
from server.roles import STAFF_ROLES
from server.schemas.inspections import CaseInSchema, CaseQuerySchema, CaseSchema, CaseTransitionSchema
from server.services.enforcement import cases

blp = Blueprint("cases", __name__, url_prefix="", description="案件")


@blp.route("/cases", methods=["POST"])
@roles_required(*STAFF_ROLES)
@blp.arguments(CaseInSchema)
@blp.response(201, CaseSchema)
def create_case(body):
    """立案（受理）：逾期整改或争议联单."""
    return cases.create(current_user(), body)


@blp.route("/cases/<int:case_id>/transitions", methods=["POST"])
@roles_required(*STAFF_ROLES)
@blp.arguments(CaseTransitionSchema)
@blp.response(200, CaseSchema)
def case_transition(body, case_id):
    """案件流转：转办、处置、退回重办、结案."""
    return cases.transition(current_user(), case_id, body)


@blp.route("/cases")
@roles_required(*STAFF_ROLES)
@blp.arguments(CaseQuerySchema, location="query")
@blp.response(200, page_of(CaseSchema))
def list_cases(args):
    """辖区内的案件."""
    return cases.list_for(current_user(), args)
