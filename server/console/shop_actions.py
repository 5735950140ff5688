"""What staff do from a shop's page, within their rights: change its business status (停业整顿/恢复, with
a reason), issue its claim code (shown once, with its QR), and print its file (一店一档) on A4."""
import datetime as dt

from flask import flash, redirect, render_template, request, url_for

from server import clock
from server.console import present
from server.console.admin import qr_svg
from server.console.blueprint import bp
from server.console.forms import attempt, load, submit
from server.console.session import page, viewer
from server.labels import label
from server.pagination import page_of
from server.schemas.base import StrictSchema
from server.roles import STAFF_ROLES
from server.schemas.complaints import ComplaintQuerySchema, ComplaintSchema
from server.schemas.inspections import (CaseInSchema, CaseQuerySchema, CaseSchema, InspectionQuerySchema, InspectionSchema,
                                        RectificationQuerySchema, RectificationSchema)
from server.schemas.records import CleaningSchema, HandoverQuerySchema, HandoverSchema, RecordListArgs
from server.schemas.shops import ShopSchema, StatusInSchema
from server.services.enforcement import cases, complaints, inspections, rectifications
from server.services.records import cleanings, handovers
from server.services.roster import listing, members, reference, shops

FILE_ROWS = 100  # a year's records of one kind on the printed file


@bp.route("/shops/<int:shop_id>/status", methods=["POST"])
@page(*STAFF_ROLES)
def shop_status(shop_id):
    return submit(StatusInSchema(), lambda v: shops.set_status(viewer(), shop_id, v),
                  template="console/_status_form.html", context={"shop_id": shop_id, "today": clock.today()},
                  done=lambda r: f"营业状态已改为“{label('shop_status', r.status)}”")


@bp.route("/shops/<int:shop_id>/claim-code", methods=["POST"])
@page(*STAFF_ROLES)
def shop_claim_code(shop_id):
    issued = {}

    def issue(_values):
        issued.update(members.issue_claim_code(viewer(), shop_id))
        return issued

    return submit(_NoFields(), issue, template="console/_claim_code_form.html",
                  context={"shop_id": shop_id}, done="认领码已签发（此前未用的认领码作废）", refresh=False)


class _NoFields(StrictSchema):
    """A form of one button."""


@bp.app_template_global("claim_qr")
def claim_qr(code):
    return qr_svg(code)


@bp.route("/shops/<int:shop_id>/file")
@page(*STAFF_ROLES)
def shop_file(shop_id):
    """一店一档: the shop's profile, its standing with the reasons, and the last year's records with their
    photos, on A4."""
    user = viewer()
    found = listing.get(user, shop_id)  # outside the jurisdiction → 404 first
    since = clock.today() - dt.timedelta(days=365)
    sections = {
        "shop": ShopSchema().dump(found),
        "cleanings": page_of(CleaningSchema)().dump(cleanings.list_for_shop(
            user, shop_id, RecordListArgs().load({"per_page": FILE_ROWS}))),
        "handovers": page_of(HandoverSchema)().dump(handovers.list_handovers(
            user, HandoverQuerySchema().load({"per_page": FILE_ROWS}), shop_id=shop_id)),
        "inspections": page_of(InspectionSchema)().dump(inspections.list_for(
            user, InspectionQuerySchema().load({"per_page": FILE_ROWS}), shop_id=shop_id)),
        "orders": page_of(RectificationSchema)().dump(rectifications.list_for(
            user, RectificationQuerySchema().load({"per_page": FILE_ROWS, "shop_id": shop_id}))),
        "cases": page_of(CaseSchema)().dump(cases.list_for(
            user, CaseQuerySchema().load({"per_page": FILE_ROWS, "shop_id": shop_id}))),
        "complaints": page_of(ComplaintSchema)().dump(complaints.list_for(
            user, ComplaintQuerySchema().load({"per_page": FILE_ROWS, "shop_id": shop_id}))),
    }
    for key, when in (("cleanings", "cleaned_on"), ("handovers", "handed_over_at"), ("inspections", "inspected_at")):
        sections[key]["items"] = [row for row in sections[key]["items"] if row[when][:10] >= since.isoformat()]
    people = {i["inspector_id"] for i in sections["inspections"]["items"]}
    return render_template("console/shop_file.html", **sections, since=since, printed_on=clock.today(),
                           printed_by=user.display_name or user.username, people=present.people_names(people),
                           districts=present.district_names(),
                           companies=present.company_names(h["collector_company_id"]
                                                           for h in sections["handovers"]["items"]))


@bp.route("/hotline", methods=["GET", "POST"])
@page(*STAFF_ROLES)
def hotline_ticket():
    """受理 12345 工单: the hotline's ticket entered at a desk (the API's POST /cases, source hotline)."""
    user = viewer()
    shop_id = request.values.get("shop_id", type=int)
    shop = listing.get(user, shop_id) if shop_id else None  # a shop outside the jurisdiction → 404
    districts = [d for d in reference.districts() if user.covers(d.code)]
    context = {"shop": ShopSchema().dump(shop) if shop else None, "districts": districts,
               "assignees": present.assignees(shop.district_code if shop else None)}
    if request.method == "GET":
        return render_template("console/hotline.html", form={}, errors={}, **context)
    form = request.form.to_dict()
    received = form.get("received_at", "")
    if received and len(received) <= 16:  # a datetime-local field: a wall time in Jining
        form["received_at"] = received + ":00+08:00"
    values, errors = load(CaseInSchema(), {**form, "source": "hotline"})
    result = None
    if not errors:
        result, errors = attempt(lambda: cases.create(user, values))
    if errors:
        return render_template("console/hotline.html", form=request.form, errors=errors, **context), 422
    flash(f"已受理 12345 工单 {result.external_case_no}，办理期限 {result.deadline}")
    return redirect(url_for("console.case", case_id=result.id), 303)
