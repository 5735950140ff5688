"""收运合同: recorded by the collection company's manager or by staff, never declared by the owner."""

from server.clock import today
from server.errors import fail
from server.extensions import db
from server.models.collector import CollectorCompany
from server.models.shop import Contract, Shop
from server.roles import REGULATOR_ROLES
from server.services import audit, photos, scope


def _shop_for_contract(user, shop_id):
    """A collection company's manager signs shops it has no contract with yet: it may reach any
    shop in a district its company serves (and no other).  Everyone else: the usual scope."""
    if user.role != "collector_manager":
        return scope.get_shop_for(user, shop_id)
    company = db.session.get(CollectorCompany, user.collector_company_id)
    shop = db.session.get(Shop, shop_id)
    if shop is None or company is None or shop.district_code not in company.districts:
        fail(404, "店铺不存在")
    return shop


def record(user, shop_id, data):
    shop = _shop_for_contract(user, shop_id)
    company = scope.get_company(data["collector_company_id"])
    if user.role == "collector_manager":
        if user.collector_company_id != company.id:
            fail(403, "只能为本单位登记收运合同")
    elif user.role not in REGULATOR_ROLES or not user.covers(shop.district_code):
        fail(403, "只有收运单位负责人或监管人员可以登记收运合同")
    if not company.licence_valid_on(today()):
        fail(422, f"收运单位“{company.name}”的许可证已于 {company.licence_valid_until} 过期，不能签订合同",
             fields={"collector_company_id": ["收运单位许可证已过期"]})
    if shop.district_code not in company.districts:
        fail(422, f"收运单位“{company.name}”不服务该店铺所在区县",
             fields={"collector_company_id": ["该收运单位不服务店铺所在区县"]})
    contract = Contract(shop_id=shop.id, collector_company_id=company.id, contract_no=data["contract_no"].strip(),
                        valid_from=data["valid_from"], valid_until=data["valid_until"], recorded_by_id=user.id)
    db.session.add(contract)
    db.session.flush()
    photos.attach(data["photo_ids"], "contract", contract.id, "contract", uploaders={user.id})
    audit.record("contract.create", "contract", contract.id,
                 f"登记收运合同 {contract.contract_no}：{company.name}，"
                 f"{contract.valid_from} 至 {contract.valid_until}",
                 shop_id=shop.id)
    db.session.commit()
    return contract
