"""Invitations (邀请码): the only way to a staff or collector role.

Who may invite whom (API.md "Auth"): an admin any role; a regulator inspectors and
collector roles within its jurisdiction; a collector manager drivers of its own company.
"""
import datetime as dt

from sqlalchemy import select

from server.clock import utcnow
from server.errors import fail
from server.extensions import db
from server.models.invitation import Invitation
from server.models.user import User
from server.roles import COLLECTOR_ROLES
from server.security import code_digest, new_code
from server.services import audit, scope

LIFETIME = dt.timedelta(days=7)
REGULATOR_MAY_INVITE = ("inspector",) + COLLECTOR_ROLES
INVALID_CODE = "邀请码无效、已使用或已过期"


def _check_allowed(user, data):
    role = data["role"]
    if user.role == "collector_manager" and role != "collector":
        fail(403, "收运单位负责人只能邀请本单位的收运人员")
    if user.role == "regulator" and role not in REGULATOR_MAY_INVITE:
        fail(403, "监管人员只能邀请执法人员和收运单位人员")
    if role in COLLECTOR_ROLES:
        company = scope.get_company(data.get("collector_company_id"))
        if user.role == "collector_manager" and company.id != user.collector_company_id:
            fail(403, "只能邀请本单位的收运人员")
        if user.role == "regulator" and not scope.company_in_jurisdiction(user, company):
            fail(403, "该收运单位不在您的辖区内")
        return None, company.id
    jurisdiction = data.get("jurisdiction", [])
    if jurisdiction is None:
        if user.role != "admin":
            fail(403, "只有管理员可以邀请全市范围的工作人员")
        return None, None
    if not jurisdiction:
        fail(422, fields={"jurisdiction": ["请至少选择一个辖区，或由管理员设为全市（null）"]})
    scope.check_district_codes(jurisdiction)
    if user.role != "admin" and not scope.within_jurisdiction(user, jurisdiction):
        fail(403, "不能邀请超出您辖区的工作人员")
    return sorted(set(jurisdiction)), None


def create(user, data):
    jurisdiction, company_id = _check_allowed(user, data)
    code = new_code()
    invitation = Invitation(code_hash=code_digest(code), role=data["role"], jurisdiction=jurisdiction,
                            collector_company_id=company_id, display_name=data["display_name"].strip(),
                            created_by_id=user.id, expires_at=utcnow() + LIFETIME)
    db.session.add(invitation)
    db.session.flush()
    audit.record("invitation.create", "invitation", invitation.id,
                 f"邀请 {invitation.display_name} 担任 {invitation.role}，辖区 {jurisdiction or '全市/不适用'}")
    db.session.commit()
    return {"id": invitation.id, "code": code, "expires_at": invitation.expires_at}


def revoke(user, invitation_id):
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or (user.role != "admin" and invitation.created_by_id != user.id):
        fail(404, "邀请不存在")
    if invitation.used_at is not None:
        fail(409, "邀请码已被使用，无法撤销；如需收回权限请停用该账号")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        audit.record("invitation.revoke", "invitation", invitation.id, "撤销邀请码")
        db.session.commit()


def redeem(user, code):
    """Grant the invitation's role to ``user`` (a WeChat user without a role yet)."""
    if not user.openid:
        fail(403, "请使用微信小程序登录后兑换邀请码")
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.code_hash == code_digest(code)).with_for_update())
    now = utcnow()
    if (invitation is None or invitation.used_at is not None or invitation.revoked_at is not None
            or invitation.expires_at <= now):
        fail(422, INVALID_CODE, fields={"code": [INVALID_CODE]})
    # The account locked and re-read: two invitations redeemed at once must not both be consumed.
    user = scope.lock(User, user.id)
    if user.role != "user":
        fail(409, "您已有工作人员身份，如需变更请联系管理员")
    user.role = invitation.role
    user.jurisdiction = invitation.jurisdiction
    user.collector_company_id = invitation.collector_company_id
    user.display_name = user.display_name or invitation.display_name
    invitation.used_at, invitation.used_by_id = now, user.id
    audit.record("invitation.redeem", "user", user.id, f"兑换邀请码 #{invitation.id}，获得角色 {user.role}")
    db.session.commit()
    return user
