"""The roster and people: importing the roster with a readable report, the printable claim-code
sheet, staff with their invitations, collection companies with their licences."""
import segno
from flask import render_template, request
from sqlalchemy import func, select

from server.console.blueprint import bp
from server.console.forms import attempt, load, submit
from server.console.pages import districts_in_view
from server.console.session import page, viewer
from server.extensions import db
from server.models.invitation import Invitation
from server.pagination import page_of
from server.roles import REGULATOR_ROLES, STAFF_ROLES
from server.schemas.auth import InvitationCreateSchema
from server.schemas.collectors import CollectorCompanySchema
from server.schemas.users import UserQuerySchema, UserSchema
from server.services.people import invitations, staff
from server.services.roster import collectors, importing, members


@bp.route("/import", methods=["GET", "POST"])
@page(*REGULATOR_ROLES)
def roster_import():
    report, errors = None, {}
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors = {"file": ["请选择要导入的 CSV 或 XLSX 文件"]}
        else:
            report, errors = attempt(lambda: importing.import_file(viewer(), upload))
            errors = errors or {}
    return render_template("console/import.html", report=report, errors=errors,
                           headers=list(importing.HEADERS)), 422 if errors else 200


def qr_svg(code):
    """The claim code as an inline SVG QR code (segno), sized for a 3 cm square on paper."""
    return segno.make(code, error="m").svg_inline(scale=4, border=2, omitsize=True)


@bp.route("/claim-codes", methods=["GET", "POST"])
@page()
def claim_codes():
    district = request.values.get("district_code", "")
    offset = request.values.get("offset", "0")
    offset = int(offset) if offset.isdigit() else 0
    sheet, waiting, errors = None, None, {}
    if district:
        waiting, errors = attempt(lambda: db.session.scalar(
            members.unclaimed_in(viewer(), district).with_only_columns(func.count()).order_by(None)))
        errors = errors or {}
    if request.method == "POST" and district and not errors:
        sheet = [dict(entry, qr=qr_svg(entry["code"])) for entry in members.issue_claim_codes(viewer(), district, offset)]
    template = "console/claim_sheet.html" if sheet is not None else "console/claim_codes.html"
    return render_template(template, district=district, districts=districts_in_view(), waiting=waiting,
                           sheet=sheet, offset=offset, per_sheet=members.SHEET_MAX, errors=errors), \
        422 if errors else 200


def _open_invitations(user):
    statement = select(Invitation).where(Invitation.used_at.is_(None), Invitation.revoked_at.is_(None),
                                         Invitation.expires_at > func.now())
    if user.role != "admin":
        statement = statement.where(Invitation.created_by_id == user.id)
    return db.session.scalars(statement.order_by(Invitation.id.desc()).limit(50)).all()


@bp.route("/people")
@page(*REGULATOR_ROLES)
def people():
    args = load(UserQuerySchema(), request.args)[0] or UserQuerySchema().load({})
    users = page_of(UserSchema)().dump(staff.list_users(viewer(), args))
    return render_template("console/people.html", users=users, args=request.args,
                           invitations=_open_invitations(viewer()), districts=districts_in_view(),
                           companies=CollectorCompanySchema(many=True).dump(collectors.list_companies()),
                           form={}, errors={}, staff_roles=STAFF_ROLES)


@bp.route("/invitations", methods=["POST"])
@page(*REGULATOR_ROLES)
def invite():
    return submit(InvitationCreateSchema(), lambda v: invitations.create(viewer(), v),
                  template="console/_invitation_form.html",
                  context={"districts": districts_in_view(), "companies": collectors.list_companies()},
                  done=lambda r: f"邀请码已生成（只显示这一次，请立即转交）：{r['code']}")
