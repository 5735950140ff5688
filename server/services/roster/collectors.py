"""Licensed collection companies (收运单位), managed by regulators."""
from sqlalchemy import select

from server.errors import fail
from server.extensions import db
from server.models.collector import CollectorCompany
from server.services import audit, scope


def list_companies():
    return db.session.scalars(select(CollectorCompany).order_by(CollectorCompany.id)).all()


def _check_districts(user, districts):
    scope.check_district_codes(districts, field="districts")
    if not scope.within_jurisdiction(user, districts):
        fail(403, "收运单位的服务区县超出您的辖区")


def create(user, data):
    _check_districts(user, data["districts"])
    if db.session.scalar(select(CollectorCompany.id).where(CollectorCompany.uscc == data["uscc"])):
        fail(409, "该统一社会信用代码的收运单位已存在")
    company = CollectorCompany(**dict(data, districts=sorted(set(data["districts"]))))
    db.session.add(company)
    db.session.flush()
    audit.record("collector.create", "collector_company", company.id, f"登记收运单位 {company.name}")
    db.session.commit()
    return company


def get(user, company_id, *, lock=False):
    """A company serving a district of the caller's, else 404."""
    company = scope.lock(CollectorCompany, company_id) if lock else db.session.get(CollectorCompany, company_id)
    if company is None or not scope.company_in_jurisdiction(user, company):
        fail(404, "收运单位不存在")
    return company


def update(user, company_id, changes):
    company = get(user, company_id, lock=True)
    # A company that also serves districts outside the caller's would change for shops the caller
    # cannot see (an expired licence turns them all "contract expired"): city-wide staff only.
    if not scope.within_jurisdiction(user, company.districts):
        fail(403, "该收运单位同时服务您辖区以外的区县，其信息须由市级监管人员或管理员修改")
    if "districts" in changes:
        _check_districts(user, changes["districts"])
        changes["districts"] = sorted(set(changes["districts"]))
    if "uscc" in changes and changes["uscc"] != company.uscc:
        if db.session.scalar(select(CollectorCompany.id).where(CollectorCompany.uscc == changes["uscc"])):
            fail(409, "该统一社会信用代码的收运单位已存在")
    diff = []
    for key, value in changes.items():
        if getattr(company, key) != value:
            diff.append(f"{key}: {getattr(company, key)} → {value}")
            setattr(company, key, value)
    audit.record("collector.update", "collector_company", company.id, "; ".join(diff) or "无变化")
    db.session.commit()
    return company
