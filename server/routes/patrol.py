from server.api import Blueprint
from server.auth import current_user, roles_required
from server.pagination import page_of
from server.roles import INSPECTOR_ROLES
from server.schemas.shops import PatrolQuerySchema, ShopSchema
from server.services.roster import listing

blp = Blueprint("patrol", __name__, url_prefix="", description="巡查清单")


@blp.route("/patrol")
@roles_required(*INSPECTOR_ROLES)
@blp.arguments(PatrolQuerySchema, location="query")
@blp.response(200, page_of(ShopSchema))
def patrol(args):
    """巡查清单：辖区内正常营业的店铺，优先级高的在前，再按距离."""
    return listing.patrol(current_user(), args)
