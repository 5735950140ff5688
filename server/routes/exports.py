from urllib.parse import quote

from flask import Response, stream_with_context

from server.api import Blueprint
from server.auth import current_user, roles_required
from server.roles import REGULATOR_ROLES
from server.schemas.exports import ExportQuerySchema
from server.services.reports import exports

blp = Blueprint("exports", __name__, url_prefix="", description="导出")

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _export(kind, fmt, args):
    body, filename, title = exports.export(current_user(), kind, fmt, args)
    response = Response(stream_with_context(body), mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(title)}-{filename}")
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/exports/compliance.<any(csv, xlsx):fmt>")
@roles_required(*REGULATOR_ROLES, rate_limit="export")
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(200, content_type="text/csv")
def compliance_export(args, fmt):
    """合规清单（CSV/XLSX），一店一行，按辖区限定."""
    return _export("compliance", fmt, args)


@blp.route("/exports/<any(cleanings, handovers, inspections, 'negative-list'):kind>.<any(csv, xlsx):fmt>")
@roles_required(*REGULATOR_ROLES, rate_limit="export")
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(200, content_type="text/csv")
def ledger_export(args, kind, fmt):
    """台账导出：清洗记录、联单、检查记录、负面清单（CSV/XLSX）."""
    return _export(kind, fmt, args)
