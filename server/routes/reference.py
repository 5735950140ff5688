from server.api import Blueprint
from server.auth import roles_required
from server.schemas.reference import ChecklistSchema, DistrictQuerySchema, DistrictSchema, LabelsSchema
from server.services.roster import reference

blp = Blueprint("reference", __name__, url_prefix="", description="基础数据：区县与检查清单")


@blp.route("/districts")
@blp.arguments(DistrictQuerySchema, location="query")
@blp.response(200, DistrictSchema(many=True))
def districts(args):
    """区县与功能区列表（辖区代码）；boundary=true 时附各区县边界（GeoJSON，WGS-84）."""
    return reference.districts_listed(args["boundary"])


@blp.route("/checklist")
@blp.response(200, ChecklistSchema)
def checklist():
    """当前版本的一店三查检查清单."""
    return reference.current_checklist()


@blp.route("/labels")
@roles_required()
@blp.response(200, LabelsSchema)
def labels():
    """每一种代码值的中文名称（状态、部件、废弃物类型、检查项、审计动作……），控制台、导出与小程序共用."""
    return reference.labels()
