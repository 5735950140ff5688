from server.api import Blueprint
from server.schemas.reference import ChecklistSchema, DistrictSchema
from server.services.roster import reference

blp = Blueprint("reference", __name__, url_prefix="", description="基础数据：区县与检查清单")


@blp.route("/districts")
@blp.response(200, DistrictSchema(many=True))
def districts():
    """区县与功能区列表（辖区代码）."""
    return reference.districts()


@blp.route("/checklist")
@blp.response(200, ChecklistSchema)
def checklist():
    """当前版本的一店三查检查清单."""
    return reference.current_checklist()
