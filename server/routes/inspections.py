from server.api import Blueprint
from server.auth import current_user, login_required, roles_required
from server.pagination import page_of
from server.schemas.inspections import (CaseInSchema, CaseQuerySchema, CaseSchema, CaseTransitionSchema,
                                        InspectionInSchema, InspectionQuerySchema, InspectionSchema,
                                        RectificationQuerySchema, RectificationSchema, ResponseInSchema,
                                        ReviewInSchema, VoidSchema)
from server.services import cases, inspections, rectifications, scope

blp = Blueprint("inspections", __name__, url_prefix="", description="一店三查、整改与案件")


@blp.route("/shops/<int:shop_id>/inspections", methods=["POST"])
@roles_required("inspector")
@blp.arguments(InspectionInSchema)
@blp.response(201, InspectionSchema)
def file_inspection(body, shop_id):
    """提交一店三查检查结果（不合格项自动生成整改通知）."""
    shop = scope.get_shop_for(current_user(), shop_id)
    return inspections.as_dict(inspections.file(current_user(), shop, body))


@blp.route("/shops/<int:shop_id>/inspections")
@login_required
@blp.arguments(InspectionQuerySchema, location="query")
@blp.response(200, page_of(InspectionSchema))
def shop_inspections(args, shop_id):
    """店铺的检查记录（含已作废的，标明作废）."""
    return inspections.list_for(current_user(), args, shop=scope.get_shop_for(current_user(), shop_id))


@blp.route("/inspections")
@roles_required("inspector", "regulator", "admin")
@blp.arguments(InspectionQuerySchema, location="query")
@blp.response(200, page_of(InspectionSchema))
def list_inspections(args):
    """辖区内的检查记录（按区县、日期范围筛选）."""
    return inspections.list_for(current_user(), args)


@blp.route("/inspections/<int:inspection_id>/void", methods=["POST"])
@roles_required("regulator", "admin")
@blp.arguments(VoidSchema)
@blp.response(200, InspectionSchema)
def void_inspection(body, inspection_id):
    """作废检查记录（仍可查看，不再计入）."""
    return inspections.as_dict(inspections.void(current_user(), inspection_id, body["reason"]))


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
    return rectifications.as_dict(rectifications.acknowledge(current_user(), order_id))


@blp.route("/rectifications/<int:order_id>/responses", methods=["POST"])
@login_required
@blp.arguments(ResponseInSchema)
@blp.response(200, RectificationSchema)
def respond(body, order_id):
    """店铺提交整改答复（说明与照片）."""
    return rectifications.as_dict(rectifications.respond(current_user(), order_id, body))


@blp.route("/rectifications/<int:order_id>/review", methods=["POST"])
@login_required
@blp.arguments(ReviewInSchema)
@blp.response(200, RectificationSchema)
def review(body, order_id):
    """执法人员审核整改：通过则结案，不通过则退回并给出新期限."""
    return rectifications.as_dict(rectifications.review(current_user(), order_id, body))


@blp.route("/cases", methods=["POST"])
@roles_required("inspector", "regulator", "admin")
@blp.arguments(CaseInSchema)
@blp.response(201, CaseSchema)
def create_case(body):
    """立案（受理）：逾期整改或争议联单."""
    return cases.as_dict(cases.create(current_user(), body))


@blp.route("/cases/<int:case_id>/transitions", methods=["POST"])
@roles_required("inspector", "regulator", "admin")
@blp.arguments(CaseTransitionSchema)
@blp.response(200, CaseSchema)
def case_transition(body, case_id):
    """案件流转：转办、处置、退回重办、结案."""
    return cases.as_dict(cases.transition(current_user(), case_id, body))


@blp.route("/cases")
@roles_required("inspector", "regulator", "admin")
@blp.arguments(CaseQuerySchema, location="query")
@blp.response(200, page_of(CaseSchema))
def list_cases(args):
    """辖区内的案件."""
    return cases.list_for(current_user(), args)
