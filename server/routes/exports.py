from urllib.parse import quote

from flask import Response, stream_with_context

from server.api import Blueprint
from server.auth import current_user, roles_required
from server.roles import INSPECTOR_ROLES, REGULATOR_ROLES
from server.schemas.exports import ExportQuerySchema, GeoJSONQuerySchema, PublicKeySchema, ReceiptSchema
from server.services.reports import exports, receipts

blp = Blueprint("exports", __name__, url_prefix="", description="导出")

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "geojson": "application/geo+json"}


def stream_file(body, fmt, receipt_id, filename=None, title=None):
    response = Response(stream_with_context(body), mimetype=MIMETYPES[fmt])
    if filename:
        response.headers["Content-Disposition"] = (
            f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(title)}-{filename}")
    response.headers["Cache-Control"] = "no-store"
    # Before the body: the receipt is completed (signed) when the last byte has gone.
    response.headers["X-Export-Receipt"] = str(receipt_id)
    return response


def _export(kind, fmt, args):
    body, filename, title, receipt_id = exports.export(current_user(), kind, fmt, args)
    return stream_file(body, fmt, receipt_id, filename, title)


@blp.route("/exports/compliance.<any(csv, xlsx):fmt>")
@roles_required(*REGULATOR_ROLES, rate_limit="export")
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(200, content_type="text/csv")
def compliance_export(args, fmt):
    """合规清单（CSV/XLSX），一店一行，按辖区限定."""
    return _export("compliance", fmt, args)


@blp.route("/exports/<any(cleanings, handovers, inspections, 'negative-list', complaints, 'hotline-cases'):kind>"
           ".<any(csv, xlsx):fmt>")
@roles_required(*REGULATOR_ROLES, rate_limit="export")
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(200, content_type="text/csv")
def ledger_export(args, kind, fmt):
    """台账导出：清洗记录、联单、检查记录、负面清单、市民投诉、12345 热线工单（CSV/XLSX）."""
    return _export(kind, fmt, args)


@blp.route("/exports/shops.geojson")
@roles_required(*REGULATOR_ROLES, *INSPECTOR_ROLES, rate_limit="export")
@blp.arguments(GeoJSONQuerySchema, location="query")
@blp.response(200, content_type="application/geo+json")
def shops_geojson(args):
    """店铺地图（GeoJSON，RFC 7946，WGS-84 [经度, 纬度]），筛选条件同 /shops."""
    body, receipt_id = exports.geojson(current_user(), args)
    return stream_file(body, "geojson", receipt_id)


@blp.route("/exports/receipts/<int:receipt_id>")
@roles_required()
@blp.response(200, ReceiptSchema)
def receipt(receipt_id):
    """导出回执：文件的 SHA-256、行数、审计链头与 Ed25519 签名（导出人本人或管理员）."""
    return receipts.get_for(current_user(), receipt_id)


@blp.route("/exports/public-key")
@blp.response(200, PublicKeySchema)
def public_key():
    """导出签名公钥（无需登录）：离线核验导出文件与回执."""
    return receipts.public_key()
