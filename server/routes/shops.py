from flask import jsonify

from server.api import Blueprint
from server.auth import current_user, login_required, roles_required
from server.pagination import PageArgs, page_of
from server.roles import REGULATOR_ROLES, STAFF_ROLES
from server.schemas.auth import CodeSchema
from server.schemas.contracts import ContractInSchema, ContractSchema
from server.schemas.shops import (ChangeRequestSchema, CodeCreatedSchema, ComplianceQuerySchema,
                                  ComplianceSchema, HistoryEntrySchema,
                                  ImportFileSchema, ImportResultSchema, ShopInSchema, ShopPatchSchema,
                                  ShopQuerySchema, ShopSchema, StatusInSchema)
from server.services.roster import contracts, importing, listing, members, shops

blp = Blueprint("shops", __name__, url_prefix="", description="店铺名录")


@blp.route("/shops", methods=["POST"])
@login_required
@blp.arguments(ShopInSchema)
@blp.response(201, ShopSchema)
def register(body):
    """登记店铺（微信用户成为负责人；执法人员巡查时登记为待认领）."""
    return shops.register(current_user(), body)


@blp.route("/shops")
@login_required
@blp.arguments(ShopQuerySchema, location="query")
@blp.response(200, page_of(ShopSchema))
def list_shops(args):
    """店铺列表（按角色限定范围；near=纬度,经度 + radius_m 查附近）."""
    return listing.list_shops(current_user(), args)


@blp.route("/shops/import", methods=["POST"])
@roles_required(*REGULATOR_ROLES)
@blp.arguments(ImportFileSchema, location="multipart")
@blp.response(200, ImportResultSchema)
def import_shops(body):
    """批量导入店铺名录（CSV/XLSX，中文表头），导入的店铺为待认领."""
    return importing.import_file(current_user(), body["file"])


@blp.route("/shops/<int:shop_id>")
@login_required
@blp.response(200, ShopSchema)
def get_shop(shop_id):
    """店铺详情."""
    return listing.get(current_user(), shop_id)


@blp.route("/shops/<int:shop_id>", methods=["PATCH"])
@login_required
@blp.arguments(ShopPatchSchema(partial=True))
@blp.response(200, ShopSchema)
@blp.alt_response(202, schema=ChangeRequestSchema, description="变更需审批：返回变更申请")
def patch_shop(body, shop_id):
    """修改店铺信息；负责人修改灶头数、净化设施、区县、坐标时生成变更申请（202）."""
    shop, request = shops.update(current_user(), shop_id, body)
    if request is not None:
        response = jsonify(ChangeRequestSchema().dump(request))
        response.status_code = 202
        return response
    return shop


@blp.route("/shops/<int:shop_id>/status", methods=["POST"])
@roles_required(*STAFF_ROLES)
@blp.arguments(StatusInSchema)
@blp.response(200, ShopSchema)
def set_status(body, shop_id):
    """设置营业状态（正常、停业整顿/装修、关闭），附原因与生效日期."""
    return shops.set_status(current_user(), shop_id, body)


@blp.route("/shops/<int:shop_id>/claim-code", methods=["POST"])
@roles_required(*STAFF_ROLES)
@blp.response(201, CodeCreatedSchema)
def claim_code(shop_id):
    """签发认领码（一店一码，只显示一次；打印为二维码交给店铺）."""
    return members.issue_claim_code(current_user(), shop_id)


@blp.route("/shops/claim", methods=["POST"])
@login_required
@blp.arguments(CodeSchema)
@blp.response(200, ShopSchema)
def claim(body):
    """以认领码认领店铺，成为负责人."""
    return members.claim(current_user(), body["code"])


@blp.route("/shops/<int:shop_id>/contract", methods=["POST"])
@roles_required("collector_manager", *REGULATOR_ROLES)
@blp.arguments(ContractInSchema)
@blp.response(201, ContractSchema)
def record_contract(body, shop_id):
    """登记收运合同（收运单位负责人或监管人员，附合同照片）."""
    return contracts.record(current_user(), shop_id, body)


@blp.route("/shops/<int:shop_id>/compliance")
@login_required
@blp.arguments(ComplianceQuerySchema, location="query")
@blp.response(200, ComplianceSchema)
def shop_compliance(args, shop_id):
    """店铺合规状况（任一日期；只计该日结束前收到的记录）."""
    return listing.compliance(current_user(), shop_id, args.get("as_of"))


@blp.route("/shops/<int:shop_id>/history")
@roles_required(*STAFF_ROLES)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(HistoryEntrySchema))
def history(args, shop_id):
    """店铺操作记录（审计日志），新的在前."""
    return listing.history(current_user(), shop_id, args)
