from server.api import Blueprint
from server.auth import current_user, login_required, roles_required
from server.roles import REGULATOR_ROLES
from server.schemas.collectors import (CollectorCompanyInSchema, CollectorCompanyPatchSchema,
                                       CollectorCompanySchema)
from server.services.roster import collectors

blp = Blueprint("collectors", __name__, url_prefix="", description="收运单位")


@blp.route("/collectors")
@login_required
@blp.response(200, CollectorCompanySchema(many=True))
def list_collectors():
    """收运单位列表（许可证过期的也列出，并标明）."""
    return collectors.list_companies()


@blp.route("/collectors", methods=["POST"])
@roles_required(*REGULATOR_ROLES)
@blp.arguments(CollectorCompanyInSchema)
@blp.response(201, CollectorCompanySchema)
def create_collector(body):
    """登记收运单位."""
    return collectors.create(current_user(), body)


@blp.route("/collectors/<int:company_id>", methods=["PATCH"])
@roles_required(*REGULATOR_ROLES)
@blp.arguments(CollectorCompanyPatchSchema(partial=True))
@blp.response(200, CollectorCompanySchema)
def patch_collector(body, company_id):
    """修改收运单位信息（许可证有效期、服务区县等）."""
    return collectors.update(current_user(), company_id, body)
