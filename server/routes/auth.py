from server.api import Blueprint
from server.auth import current_user, login_required
from server.schemas.auth import (CodeSchema, LoginResultSchema, MePatchSchema, MeSchema, OwnPasswordSchema,
                                 PasswordLoginSchema,
                                 PrivacyConsentSchema, WechatLoginSchema)
from server.services.people import accounts, invitations

blp = Blueprint("auth", __name__, url_prefix="", description="登录与个人账号")


@blp.route("/auth/wechat-login", methods=["POST"])
@blp.arguments(WechatLoginSchema)
@blp.response(200, LoginResultSchema)
def wechat_login(body):
    """微信小程序登录（code2Session）."""
    return accounts.wechat_login(body["code"])


@blp.route("/auth/password-login", methods=["POST"])
@blp.arguments(PasswordLoginSchema)
@blp.response(200, LoginResultSchema)
def password_login(body):
    """管理后台用户名密码登录（监管人员、管理员）."""
    return accounts.password_login(body["username"], body["password"])


@blp.route("/auth/logout", methods=["POST"])
@login_required
@blp.response(204)
def logout():
    """退出登录：当前令牌立即失效."""
    accounts.logout()


@blp.route("/auth/redeem-invitation", methods=["POST"])
@login_required
@blp.arguments(CodeSchema)
@blp.response(200, MeSchema)
def redeem_invitation(body):
    """兑换邀请码，获得工作人员或收运人员身份."""
    return accounts.me(invitations.redeem(current_user(), body["code"]))


@blp.route("/me")
@login_required
@blp.response(200, MeSchema)
def get_me():
    """当前用户."""
    return accounts.me(current_user())


@blp.route("/me", methods=["PATCH"])
@login_required
@blp.arguments(MePatchSchema)
@blp.response(200, MeSchema)
def patch_me(body):
    """修改本人姓名、手机号（手机号加密保存）."""
    return accounts.update_me(current_user(), body)


@blp.route("/me/privacy-consent", methods=["POST"])
@login_required
@blp.arguments(PrivacyConsentSchema)
@blp.response(200, MeSchema)
def privacy_consent(body):
    """同意隐私政策（记录版本与时间）."""
    return accounts.accept_privacy(current_user(), body["version"])


@blp.route("/me/password", methods=["POST"])
@login_required
@blp.arguments(OwnPasswordSchema)
@blp.response(204)
def change_password(body):
    """修改本人后台登录密码（管理员设置或重置密码后，须先修改才能继续使用后台）."""
    accounts.change_own_password(current_user(), body["current_password"], body["password"])


@blp.route("/me/deactivate", methods=["POST"])
@login_required
@blp.response(204)
def deactivate():
    """注销账号：删除 openid、姓名、手机号，已提交的记录以化名保留."""
    accounts.deactivate(current_user())
