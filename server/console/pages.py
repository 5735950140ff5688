"""Reading pages: the overview map and today's numbers, the compliance list and its export, a
shop's page, the statistics."""
import json
import re

from flask import current_app, render_template, request

from server import clock, ratelimit
from server.console import present
from server.console.blueprint import bp
from server.console.charts import bars
from server.console.forms import load, own_filters
from server.console.session import page, viewer
from server.errors import fail
from server.pagination import page_of
from server.roles import REGULATOR_ROLES, STAFF_ROLES
from server.routes.exports import stream_file
from server.schemas.complaints import ComplaintQuerySchema, ComplaintSchema
from server.schemas.exports import ExportQuerySchema, ReceiptSchema
from server.schemas.inspections import (CaseQuerySchema, CaseSchema, InspectionQuerySchema, InspectionSchema,
                                        RectificationQuerySchema, RectificationSchema)
from server.schemas.records import CleaningSchema, HandoverQuerySchema, HandoverSchema, RecordListArgs
from server.schemas.shops import ChangeRequestSchema, HistoryEntrySchema, ShopQuerySchema, ShopSchema
from server.schemas.stats import DistrictStatsPageSchema, PeriodSchema
from server.services.enforcement import cases, complaints, inspections, rectifications
from server.services.records import cleanings, handovers
from server.services.reports import exports, overview as overview_service, receipts, stats, trends
from server.services.roster import change_requests, listing, reference

SECTION_SIZE = 10  # the latest rows of each record kind on a shop's page


def districts_in_view():
    user = viewer()
    return [d for d in reference.districts() if user.jurisdiction is None or d.code in user.jurisdiction]


def district_asked():
    """The ``district_code`` of the query string: None when not given, 400 when it is not a district
    code at all, 404 when it is not one of the caller's districts."""
    code = request.args.get("district_code", "")
    if not code:
        return None
    if not re.fullmatch(r"[0-9]{6}(-[A-Z]{1,8})?", code):  # a county's code, or a zone's (370800-JK)
        fail(400, "区县代码格式有误，应为 6 位数字（功能区如 370800-JK）")
    if code not in {d.code for d in districts_in_view()}:
        fail(404, "区县不存在或不在您的辖区内")
    return code


def dumped(schema, value):
    return schema().dump(value)


@bp.route("/")
@page()
def overview():
    district = district_asked()
    data = overview_service.overview(viewer(), district)
    config = current_app.config
    return render_template("console/overview.html", numbers=data["numbers"], made_at=data["made_at"], district=district,
                           districts=districts_in_view(),
                           map_config={"tiles": config["MAP_TILE_URL"], "attribution": config["MAP_TILE_ATTRIBUTION"],
                                       "gcj02": config["MAP_TILE_GCJ02"]})


@bp.route("/map.json")
@page()
def map_data():
    body = overview_service.map_json(viewer(), district_asked())
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Cache-Control"] = "private, max-age=30"
    return response


@bp.route("/shops/<int:shop_id>/card")
@page()
def shop_card(shop_id):
    return render_template("console/_shop_card.html", shop=dumped(ShopSchema, listing.get(viewer(), shop_id)))


@bp.route("/shops")
@page()
def shops():
    args, errors = load(ShopQuerySchema(), request.args)
    result = page_of(ShopSchema)().dump(listing.list_shops(viewer(), args)) if not errors else None
    template = "console/_shop_table.html" if request.headers.get("HX-Request") else "console/shops.html"
    return render_template(template, result=result, errors=errors, args=own_filters(ShopQuerySchema()),
                           export_args=own_filters(ExportQuerySchema()),
                           districts=districts_in_view(),
                           district_names={d.code: d.name for d in reference.districts()}), 422 if errors else 200


@bp.route("/exports/<any(compliance, cleanings, handovers, inspections, 'negative-list', complaints, "
          "'hotline-cases'):kind>.<any(csv, xlsx):fmt>")
@page(*REGULATOR_ROLES)
def export(kind, fmt):
    args, errors = load(ExportQuerySchema(), request.args)
    if errors:
        return render_template("console/error.html", status=422, message="导出条件有误",
                               fields=errors), 422
    ratelimit.hit(viewer(), "export")
    body, filename, title, receipt_id = exports.export(viewer(), kind, fmt, args)
    return stream_file(body, fmt, receipt_id, filename, title)


@bp.route("/exports")
@page(*REGULATOR_ROLES)
def my_exports():
    """The caller's latest exports, each with its signed receipt to download and keep beside the file."""
    return render_template("console/exports.html", receipts=receipts.recent_of(viewer()))


@bp.route("/exports/receipts/<int:receipt_id>.json")
@page(*REGULATOR_ROLES)
def receipt_file(receipt_id):
    """导出回执 as the API gives it (the exporter's own; an admin's: any), saved as a file."""
    body = ReceiptSchema().dump(receipts.get_for(viewer(), receipt_id))
    response = current_app.response_class(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="receipt-{receipt_id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/shops/<int:shop_id>")
@page()
def shop(shop_id):
    user = viewer()
    found = listing.get(user, shop_id)  # outside the jurisdiction → 404 before anything else is read
    recent = {"page": 1, "per_page": SECTION_SIZE}
    sections = {
        "shop": dumped(ShopSchema, found),
        "cleanings": dumped(page_of(CleaningSchema), cleanings.list_for_shop(
            user, shop_id, RecordListArgs().load({"per_page": SECTION_SIZE}))),
        "handovers": dumped(page_of(HandoverSchema), handovers.list_handovers(
            user, HandoverQuerySchema().load({"per_page": SECTION_SIZE}), shop_id=shop_id)),
        "inspections": dumped(page_of(InspectionSchema), inspections.list_for(
            user, InspectionQuerySchema().load({"per_page": SECTION_SIZE}), shop_id=shop_id)),
        "orders": dumped(page_of(RectificationSchema), rectifications.list_for(
            user, RectificationQuerySchema().load({**recent, "shop_id": shop_id}))),
        "cases": dumped(page_of(CaseSchema), cases.list_for(
            user, CaseQuerySchema().load({**recent, "shop_id": shop_id}))),
        "complaints": dumped(page_of(ComplaintSchema), complaints.list_for(
            user, ComplaintQuerySchema().load({**recent, "shop_id": shop_id}))),
        "change_requests": ChangeRequestSchema(many=True).dump(change_requests.for_shop(user, shop_id)),
    }
    if user.role in STAFF_ROLES:
        sections["history"] = dumped(page_of(HistoryEntrySchema), listing.history(user, shop_id, recent))
    people = {i["inspector_id"] for i in sections["inspections"]["items"]}
    return render_template("console/shop.html", **sections, people=present.people_names(people),
                           districts=present.district_names(), today=clock.today())


def _total(rows):
    """The city (or the caller's districts) as one row: the district rows added up."""
    total = {"name": "合计", "shops": {"active": 0, "unclaimed": 0}, "grades": {"A": 0, "B": 0, "C": 0},
             "overdue": {"purifier": 0, "waste": 0}, "inspections": 0, "issued": 0, "closed": 0,
             "waste_kg": {"kitchen_waste": 0.0, "waste_oil": 0.0}, "hotline": 0, "complaints": 0}
    for r in rows:
        for group in ("shops", "grades", "waste_kg"):
            for key in total[group]:
                total[group][key] += r[group][key]
        for key in ("purifier", "waste"):
            total["overdue"][key] += r["overdue"][key]
        total["inspections"] += r["inspections"]
        total["issued"] += r["rectifications"]["issued"]
        total["closed"] += r["rectifications"]["closed"]
        total["hotline"] += r["hotline"]["received"]
        total["complaints"] += r["complaints"]["received"]
    total["closure_rate"] = total["closed"] / total["issued"] if total["issued"] else None
    total["waste_kg"] = {k: round(v, 2) for k, v in total["waste_kg"].items()}
    return total


def _share(row, grade):
    graded = sum(row["grades"].values())
    return row["grades"][grade] / graded if graded else 0.0


@bp.route("/stats")
@page(*REGULATOR_ROLES)
def statistics():
    args, errors = load(PeriodSchema(), request.args)
    result = None if errors else DistrictStatsPageSchema().dump(stats.districts(viewer(), args))
    charts, total, months, streets, district = None, None, None, None, district_asked()
    if result:
        rows = result["items"]
        # Ranked: the larger share of A-grade shops first, then the smaller share of C.
        rows.sort(key=lambda r: (-_share(r, "A"), _share(r, "C"), r["district_code"]))
        for rank, row in enumerate(rows, start=1):
            row["rank"], row["a_share"], row["c_share"] = rank, _share(row, "A"), _share(row, "C")
        total = _total(rows)
        months = trends.monthly(viewer(), {**args, **({"district_code": district} if district else {})})["items"]
        if district:
            streets = trends.streets(viewer(), district)
        charts = {
            "grades": bars([r["name"] for r in rows], {g: [r["grades"][g] for r in rows] for g in "ABC"},
                           stacked=True, colours={"A": "#2e9d5b", "B": "#e0a020", "C": "#d64541"}),
            "closure": bars([r["name"] for r in rows],
                            {"整改销号率 %": [round(100 * (r["rectifications"]["closure_rate"] or 0), 1) for r in rows]},
                            colours={"整改销号率 %": "#3b7dd8"}, unit="%"),
            "waste": bars([r["name"] for r in rows],
                          {"餐厨垃圾 kg": [r["waste_kg"]["kitchen_waste"] for r in rows],
                           "废弃油脂 kg": [r["waste_kg"]["waste_oil"] for r in rows]},
                          colours={"餐厨垃圾 kg": "#6b8e23", "废弃油脂 kg": "#b8860b"}, unit="kg"),
            "trend": bars([m["month"] for m in months],
                          {"检查次数": [m["inspections"] for m in months],
                           "整改下达": [m["orders_issued"] for m in months],
                           "市民投诉": [m["complaints"] for m in months]},
                          colours={"检查次数": "#3b7dd8", "整改下达": "#e0a020", "市民投诉": "#d64541"}),
            "trend_waste": bars([m["month"] for m in months],
                                {"餐厨垃圾 kg": [m["kitchen_waste_kg"] for m in months]},
                                colours={"餐厨垃圾 kg": "#6b8e23"}, unit="kg")}
    return render_template("console/stats.html", result=result, errors=errors, args=own_filters(PeriodSchema()),
                           charts=charts, total=total, months=months, streets=streets, district=district,
                           district_names={d.code: d.name for d in reference.districts()}), 422 if errors else 200
