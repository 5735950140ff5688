from server.api import Blueprint
from server.auth import current_user, login_required
from server.schemas.auth import CodeSchema
from server.schemas.shops import CodeCreatedSchema, MemberSchema, ShopSchema
from server.services.roster import members

blp = Blueprint("members", __name__, url_prefix="", description="店铺成员")


@blp.route("/shops/<int:shop_id>/members")
@login_required
@blp.response(200, MemberSchema(many=True))
def list_members(shop_id):
    """店铺成员（负责人与店员）."""
    return members.members(current_user(), shop_id)


@blp.route("/shops/<int:shop_id>/members/invite", methods=["POST"])
@login_required
@blp.response(201, CodeCreatedSchema)
def invite_member(shop_id):
    """负责人签发店员加入码."""
    return members.issue_join_code(current_user(), shop_id)


@blp.route("/shops/join", methods=["POST"])
@login_required
@blp.arguments(CodeSchema)
@blp.response(200, ShopSchema)
def join(body):
    """以加入码成为店员."""
    return members.join(current_user(), body["code"])


@blp.route("/shops/<int:shop_id>/members/<int:user_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def remove_member(shop_id, user_id):
    """移出店员（负责人），或成员自行退出."""
    members.remove(current_user(), shop_id, user_id)


@blp.route("/shops/<int:shop_id>/members/<int:user_id>/make-manager", methods=["POST"])
@login_required
@blp.response(200, MemberSchema(many=True))
def make_manager(shop_id, user_id):
    """把负责人移交给另一名成员."""
    return members.make_manager(current_user(), shop_id, user_id)
