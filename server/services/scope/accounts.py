"""What a caller may see of the accounts and reference data (the account scope of :mod:`server.services.scope`)."""
from sqlalchemy import select

from server.errors import fail
from server.extensions import db
from server.models.collector import CollectorCompany
from server.models.reference import District
from server.models.user import User
from server.roles import COLLECTOR_ROLES


def known_district_codes():
    return set(db.session.scalars(select(District.code)))


def check_district_codes(codes, field="jurisdiction"):
    """422 when ``codes`` names a district that does not exist."""
    unknown = sorted(set(codes) - known_district_codes())
    if unknown:
        fail(422, fields={field: ["未知的区县代码：" + "、".join(unknown)]})


def within_jurisdiction(user, codes):
    """Whether every district in ``codes`` lies in the staff member's jurisdiction."""
    return user.jurisdiction is None or set(codes) <= set(user.jurisdiction)


def company_in_jurisdiction(user, company):
    return user.jurisdiction is None or bool(set(company.districts) & set(user.jurisdiction))


def user_visible_to(user, account):
    """Staff lifecycle scope: admins see every account with a role; a regulator sees the
    inspectors inside its jurisdiction and the collectors of companies serving it —
    never admins or other regulators."""
    if account.role == "user" and account.id != user.id and user.role != "admin":
        return False
    if user.role == "admin":
        return True
    if user.role != "regulator":
        return False
    if account.role == "inspector":
        return account.jurisdiction is not None and within_jurisdiction(user, account.jurisdiction)
    if account.role in COLLECTOR_ROLES and account.collector_company_id:
        company = db.session.get(CollectorCompany, account.collector_company_id)
        return company is not None and company_in_jurisdiction(user, company)
    return False


def get_user_for(user, user_id):
    account = db.session.get(User, user_id)
    if account is None or not user_visible_to(user, account):
        fail(404, "用户不存在")
    return account


def get_company(company_id, field="collector_company_id"):
    """A collection company named in a request body; unknown → 422 on that field."""
    company = db.session.get(CollectorCompany, company_id) if company_id else None
    if company is None:
        fail(422, fields={field: ["收运单位不存在"]})
    return company
