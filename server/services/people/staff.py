"""Staff lifecycle: list, re-scope, disable and re-enable accounts (admin; regulator in jurisdiction)."""
from sqlalchemy import select

from server.errors import fail
from server.extensions import db
from server.models.user import User
from server.pagination import paginate
from server.roles import COLLECTOR_ROLES, STAFF_ROLES
from server.services import audit, scope
from server.services.people import accounts

REGULATOR_MAY_ASSIGN = ("user", "inspector") + COLLECTOR_ROLES


def list_users(user, args):
    statement = select(User).where(User.role != "user").order_by(User.id)
    if "role" in args:
        statement = statement.where(User.role == args["role"])
    if user.role == "regulator":
        statement = statement.where(User.role.in_(("inspector",) + COLLECTOR_ROLES))
        # Jurisdictions are small JSON lists: the final cut is made here, not in SQL.
        visible = [u for u in db.session.scalars(statement) if scope.user_visible_to(user, u)]
        return paginate(visible, args)
    return paginate(statement, args)


def update_user(user, user_id, changes):
    account = scope.get_user_for(user, user_id)
    if account.id == user.id and ({"role", "disabled", "jurisdiction"} & set(changes)):
        fail(409, "不能修改自己的角色、辖区或停用自己")
    before = {k: getattr(account, k) for k in ("role", "jurisdiction", "collector_company_id", "disabled")}
    role = changes.get("role", account.role)
    if user.role == "regulator" and role not in REGULATOR_MAY_ASSIGN:
        fail(403, "监管人员只能授予执法人员或收运单位角色")
    if role in STAFF_ROLES:
        jurisdiction = changes.get("jurisdiction", account.jurisdiction if account.role in STAFF_ROLES else [])
        if jurisdiction is None:
            if user.role != "admin":
                fail(403, "只有管理员可以设置全市范围")
        else:
            if not jurisdiction:
                fail(422, fields={"jurisdiction": ["请至少选择一个辖区"]})
            scope.check_district_codes(jurisdiction)
            if not scope.within_jurisdiction(user, jurisdiction):
                fail(403, "不能设置超出您辖区的范围")
            jurisdiction = sorted(set(jurisdiction))
        account.jurisdiction, account.collector_company_id = jurisdiction, None
    elif role in COLLECTOR_ROLES:
        company = scope.get_company(changes.get("collector_company_id", account.collector_company_id))
        if user.role == "regulator" and not scope.company_in_jurisdiction(user, company):
            fail(403, "该收运单位不在您的辖区内")
        account.jurisdiction, account.collector_company_id = None, company.id
    else:
        account.jurisdiction, account.collector_company_id = None, None
    account.role = role
    if "display_name" in changes:
        account.display_name = changes["display_name"].strip()
    if "disabled" in changes:
        account.disabled = changes["disabled"]
    if account.disabled:
        accounts.revoke_tokens(account)
    after = {k: getattr(account, k) for k in before}
    diff = "; ".join(f"{k}: {before[k]} → {after[k]}" for k in before if before[k] != after[k])
    audit.record("user.update", "user", account.id, diff or "无变化")
    db.session.commit()
    return account
