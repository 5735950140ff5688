"""People (人员): staff and their invitations, collection companies and their licences. Every form
goes through the API's schemas and services (staff.update_user, invitations.create,
collectors.create/update), so the same scope, refusals and audit apply."""
from flask import render_template, request
from sqlalchemy import func, select

from server.console.blueprint import bp
from server.console.forms import load, own_filters, submit
from server.console.pages import districts_in_view
from server.console.session import page, viewer
from server.extensions import db
from server.labels import label
from server.models.invitation import Invitation
from server.pagination import page_of
from server.roles import REGULATOR_ROLES, STAFF_ROLES
from server.schemas.auth import InvitationCreateSchema
from server.schemas.collectors import CollectorCompanyInSchema, CollectorCompanyPatchSchema, CollectorCompanySchema
from server.schemas.users import PasswordSetSchema, UserPatchSchema, UserQuerySchema, UserSchema
from server.services import scope
from server.services.people import accounts, invitations, staff
from server.services.roster import collectors, reference

ROLE_NAMES = {**{role: label("role", role) for role in ("inspector", "regulator", "admin", "collector",
                                                      "collector_manager")},
              "user": label("role", "user") + "（撤销工作人员身份）"}


def _open_invitations(user):
    statement = select(Invitation).where(Invitation.used_at.is_(None), Invitation.revoked_at.is_(None),
                                         Invitation.expires_at > func.now())
    if user.role != "admin":
        statement = statement.where(Invitation.created_by_id == user.id)
    return db.session.scalars(statement.order_by(Invitation.id.desc()).limit(50)).all()


def _companies():
    """The companies the caller may edit or hire from: those serving its jurisdiction."""
    return [c for c in collectors.list_companies() if scope.company_in_jurisdiction(viewer(), c)]


@bp.route("/people")
@page(*REGULATOR_ROLES)
def people():
    args = load(UserQuerySchema(), request.args)[0] or UserQuerySchema().load({})
    users = page_of(UserSchema)().dump(staff.list_users(viewer(), args))
    companies = _companies()
    return render_template("console/people.html", users=users, args=own_filters(UserQuerySchema()),
                           invitations=_open_invitations(viewer()), districts=districts_in_view(),
                           companies=CollectorCompanySchema(many=True).dump(companies),
                           district_names={d.code: d.name for d in reference.districts()},
                           form={}, errors={}, staff_roles=STAFF_ROLES)


@bp.route("/invitations", methods=["POST"])
@page(*REGULATOR_ROLES)
def invite():
    return submit(InvitationCreateSchema(), lambda v: invitations.create(viewer(), v),
                  template="console/_invitation_form.html",
                  context={"districts": districts_in_view(), "companies": _companies()},
                  done=lambda r: f"邀请码已生成（只显示这一次，请立即转交）：{r['code']}", refresh=False)


def _user_form_context(account):
    return {"account": UserSchema().dump(account), "districts": districts_in_view(), "companies": _companies(),
            "staff_roles": STAFF_ROLES,
            "roles": ROLE_NAMES if viewer().role == "admin" else
            {k: v for k, v in ROLE_NAMES.items() if k in staff.REGULATOR_MAY_ASSIGN}}


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@page(*REGULATOR_ROLES)
def person(user_id):
    """One staff account: role, jurisdiction (or city-wide), company, name, enabled or disabled."""
    account = scope.get_user_for(viewer(), user_id)  # outside the caller's scope → 404
    context = _user_form_context(account)
    if request.method == "GET":
        return render_template("console/person.html", form=context["account"], errors={}, **context)

    def change(values):
        if request.form.get("citywide"):  # an empty choice of districts means "unchanged"; city-wide is said
            values = dict(values, jurisdiction=None)
        return staff.update_user(viewer(), user_id, values)

    return submit(UserPatchSchema(), change, template="console/_user_form.html", context=context,
                  done=lambda r: f"已保存 {r.display_name or r.username or r.id} 的账号设置")


@bp.route("/people/<int:user_id>/password", methods=["POST"])
@page("admin")
def set_password(user_id):
    account = scope.get_user_for(viewer(), user_id)
    return submit(PasswordSetSchema(), lambda v: accounts.set_password_for(viewer(), user_id, v["password"],
                                                                             v.get("username")),
                  template="console/_password_form.html", context={"account": UserSchema().dump(account)},
                  done="密码已设置：请当面转交，该用户下次登录时须修改为自己的密码")


@bp.route("/collectors", methods=["POST"])
@page(*REGULATOR_ROLES)
def add_company():
    return submit(CollectorCompanyInSchema(), lambda v: collectors.create(viewer(), v),
                  template="console/_company_form.html", context={"districts": districts_in_view(), "company": None},
                  done=lambda r: f"已登记收运单位 {r.name}")


@bp.route("/collectors/<int:company_id>", methods=["GET", "POST"])
@page(*REGULATOR_ROLES)
def company(company_id):
    """A collection company's name, credit code, licence and districts (the licence's expiry decides
    whether its shops' waste contracts count)."""
    dumped = CollectorCompanySchema().dump(collectors.get(viewer(), company_id))
    context = {"districts": districts_in_view(), "company": dumped}
    if request.method == "GET":
        return render_template("console/company.html", form=dumped, errors={}, **context)
    return submit(CollectorCompanyPatchSchema(partial=True), lambda v: collectors.update(viewer(), company_id, v),
                  template="console/_company_form.html", context=context,
                  done=lambda r: f"已保存收运单位 {r.name}")
