"""The roster: importing it with a readable report, and the printable claim-code sheet."""
from urllib.parse import urlencode

import segno
from flask import current_app, render_template, request
from sqlalchemy import func

from server import clock
from server.console import present
from server.console.blueprint import bp
from server.console.forms import attempt
from server.console.pages import districts_in_view
from server.console.session import page, viewer
from server.extensions import db
from server.roles import REGULATOR_ROLES
from server.services.roster import importing, members


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
    return render_template("console/import.html", report=report, errors=errors, districts=present.district_names(),
                           headers=list(importing.HEADERS)), 422 if errors else 200


def claim_qr_content(code):
    """What a claim sheet's QR holds: ``CLAIM_QR_URL_PREFIX?code=<code>`` — WeChat's own scanner then
    opens the mini-program at its claim page (扫普通链接二维码打开小程序) — or, unset, the code itself."""
    prefix = current_app.config["CLAIM_QR_URL_PREFIX"]
    if not prefix:
        return code
    return f"{prefix}{'&' if '?' in prefix else '?'}{urlencode({'code': code})}"


def qr_svg(code):
    """The claim QR as an inline SVG, sized for a 3 cm square on paper.  Always a standard QR code:
    segno picks Micro QR for short content unless told not to, and WeChat does not read Micro QR."""
    return segno.make(claim_qr_content(code), error="m", micro=False).svg_inline(scale=4, border=4, omitsize=True)


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
    names = {d.code: d.name for d in districts_in_view()}
    return render_template(template, district=district, districts=districts_in_view(), waiting=waiting,
                           district_name=names.get(district, district), issuer=viewer().display_name,
                           issued_on=clock.today(), sheet=sheet, offset=offset, per_sheet=members.SHEET_MAX,
                           errors=errors), \
        422 if errors else 200
