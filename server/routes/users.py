from server.api import Blueprint
from server.auth import current_user, roles_required
from server.pagination import page_of
from server.roles import REGULATOR_ROLES
from server.schemas.auth import InvitationCreatedSchema, InvitationCreateSchema
from server.schemas.users import PasswordSetSchema, UserPatchSchema, UserQuerySchema, UserSchema
from server.services.people import accounts, invitations, staff

blp = Blueprint("users", __name__, url_prefix="", description="工作人员与邀请")


@blp.route("/invitations", methods=["POST"])
@roles_required(*REGULATOR_ROLES, "collector_manager")
@blp.arguments(InvitationCreateSchema)
@blp.response(201, InvitationCreatedSchema)
def create_invitation(body):
    """创建一次性邀请码（只显示一次，7 天内有效）."""
    return invitations.create(current_user(), body)


@blp.route("/invitations/<int:invitation_id>", methods=["DELETE"])
@roles_required(*REGULATOR_ROLES, "collector_manager")
@blp.response(204)
def revoke_invitation(invitation_id):
    """撤销邀请码（创建者或管理员）."""
    invitations.revoke(current_user(), invitation_id)


@blp.route("/users")
@roles_required(*REGULATOR_ROLES)
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, page_of(UserSchema))
def list_users(args):
    """工作人员列表（管理员：全部；监管人员：本辖区执法人员与收运人员）."""
    return staff.list_users(current_user(), args)


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@roles_required(*REGULATOR_ROLES)
@blp.arguments(UserPatchSchema)
@blp.response(200, UserSchema)
def patch_user(body, user_id):
    """修改工作人员角色、辖区，停用或启用账号（停用后令牌立即失效）."""
    return staff.update_user(current_user(), user_id, body)


@blp.route("/users/<int:user_id>/password", methods=["POST"])
@roles_required("admin")
@blp.arguments(PasswordSetSchema)
@blp.response(204)
def set_password(body, user_id):
    """设置后台用户的登录密码（管理员）."""
    accounts.set_password_for(current_user(), user_id, body["password"], body.get("username"))
