from server.api import Blueprint
from server.auth import current_user, login_required, roles_required
from server.pagination import page_of
from server.roles import INSPECTOR_ROLES, REGULATOR_ROLES, STAFF_ROLES
from server.schemas.inspections import InspectionInSchema, InspectionQuerySchema, InspectionSchema, VoidSchema
from server.services.enforcement import inspections

blp = Blueprint("inspections", __name__, url_prefix="", description="一店三查、整改与案件")


@blp.route("/shops/<int:shop_id>/inspections", methods=["POST"])
@roles_required(*INSPECTOR_ROLES)
@blp.arguments(InspectionInSchema)
@blp.response(201, InspectionSchema)
def file_inspection(body, shop_id):
    """提交一店三查检查结果（不合格项自动生成整改通知）."""
    return inspections.file(current_user(), shop_id, body)


@blp.route("/shops/<int:shop_id>/inspections")
@login_required
@blp.arguments(InspectionQuerySchema, location="query")
@blp.response(200, page_of(InspectionSchema))
def shop_inspections(args, shop_id):
    """店铺的检查记录（含已作废的，标明作废）."""
    return inspections.list_for(current_user(), args, shop_id=shop_id)


@blp.route("/inspections")
@roles_required(*STAFF_ROLES)
@blp.arguments(InspectionQuerySchema, location="query")
@blp.response(200, page_of(InspectionSchema))
def list_inspections(args):
    """辖区内的检查记录（按区县、日期范围筛选）."""
    return inspections.list_for(current_user(), args)


@blp.route("/inspections/<int:inspection_id>/void", methods=["POST"])
@roles_required(*REGULATOR_ROLES)
@blp.arguments(VoidSchema)
@blp.response(200, InspectionSchema)
def void_inspection(body, inspection_id):
    """作废检查记录（仍可查看，不再计入）."""
    return inspections.void(current_user(), inspection_id, body["reason"])
