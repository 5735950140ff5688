from server.api import Blueprint
from server.auth import current_user, roles_required
from server.roles import REGULATOR_ROLES
from server.schemas.stats import CollectorStatsPageSchema, DistrictStatsPageSchema, PeriodSchema
from server.services.reports import stats

blp = Blueprint("stats", __name__, url_prefix="", description="统计")


@blp.route("/stats/districts")
@roles_required(*REGULATOR_ROLES)
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, DistrictStatsPageSchema)
def district_stats(args):
    """区县季度考评统计：店铺、评级分布、逾期、检查、整改结案率、餐厨废弃物收运量."""
    return stats.districts(current_user(), args)


@blp.route("/stats/collectors")
@roles_required(*REGULATOR_ROLES)
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, CollectorStatsPageSchema)
def collector_stats(args):
    """收运单位统计：联单数、收运量、争议与拒绝联单."""
    return stats.collectors(current_user(), args)
