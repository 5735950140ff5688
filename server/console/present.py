"""What a console page names beside the codes and ids its records carry: shops by name and district,
people by name — read once per page, for the ids on it, within the caller's scope."""
from sqlalchemy import select

from server.console.session import viewer
from server.extensions import db
from server.labels import label
from server.models.shop import Shop
from server.models.user import User
from server.roles import STAFF_ROLES
from server.services import scope
from server.services.roster import reference


def district_names():
    return {district.code: district.name for district in reference.districts()}


def shop_names(ids):
    """``{shop id: {"name", "district"}}`` of those of ``ids`` the caller sees (one query)."""
    wanted = sorted({ident for ident in ids if ident})
    if not wanted:
        return {}
    districts = district_names()
    rows = db.session.execute(scope.shops_visible_to(viewer()).with_only_columns(
        Shop.id, Shop.name, Shop.district_code).where(Shop.id.in_(wanted)))
    return {ident: {"name": name, "district": districts.get(code, code)} for ident, name, code in rows}


def people_names(ids):
    """``{user id: name}`` for staff and collectors named on a page (assignees, actors)."""
    wanted = sorted({ident for ident in ids if ident})
    if not wanted:
        return {}
    rows = db.session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(wanted)))
    return {ident: display or username or f"用户 {ident}" for ident, display, username in rows}


def assignees(district_code):
    """``[(id, name)]``: the staff who may take a case of ``district_code`` (as the service checks:
    staff, not disabled, whose jurisdiction covers it), for the assignee picker."""
    users = db.session.scalars(select(User).where(User.role.in_(STAFF_ROLES), User.disabled.is_(False),
                                                  User.deactivated_at.is_(None)).order_by(User.id))
    return [(user.id, f"{user.display_name or user.username}（{label('role', user.role)}）")
            for user in users if district_code is None or user.covers(district_code)]


def inspections_of(ids):
    """``{inspection id: dumped inspection}`` (its items with notes and photos) of those of ``ids`` the
    caller sees: the evidence beside an order under review."""
    from server.models.inspection import Inspection
    from server.schemas.inspections import InspectionSchema

    wanted = sorted({ident for ident in ids if ident})
    if not wanted:
        return {}
    found = db.session.scalars(scope.inspections_visible_to(viewer()).where(Inspection.id.in_(wanted))).all()
    return {row["id"]: row for row in InspectionSchema(many=True).dump(found)}


def company_names(ids):
    """``{company id: name}`` of the collection companies named on a page."""
    from server.models.collector import CollectorCompany

    wanted = sorted({ident for ident in ids if ident})
    if not wanted:
        return {}
    return dict(db.session.execute(select(CollectorCompany.id, CollectorCompany.name)
                                   .where(CollectorCompany.id.in_(wanted))).all())


def nearby_for(complaints, radius_m=200):
    """``{complaint id: [(shop id, name, metres)]}``: the shops of each complaint's district near where
    it was made, nearest first — the picker for the shop a complaint is about."""
    from server.services.enforcement.complaints import nearby_shops

    found = {}
    for complaint in complaints:
        if complaint.get("lat") is None or complaint.get("status") not in ("open", "linked"):
            continue
        found[complaint["id"]] = [(shop.id, shop.name, round(distance)) for distance, shop
                                  in nearby_shops(complaint["lat"], complaint["lng"], radius_m)
                                  if shop.district_code == complaint["district_code"]][:10]
    return found
