"""区县边界: the districts' polygons on the map (with each one's figures), the shops whose point lies
in another district than the one declared (for their district's staff to correct), and an admin's
upload of boundaries (a functional zone's polygon over its county's)."""
import json

from flask import current_app, flash, redirect, render_template, request, url_for

from server.console.blueprint import bp
from server.console.forms import attempt, load, own_filters
from server.console.pages import district_asked, districts_in_view
from server.console.session import page, viewer
from server.errors import fail
from server.extensions import db
from server.labels import label
from server.pagination import AreaArgs, PageArgs, page_of
from server.roles import REGULATOR_ROLES
from server.schemas.shops import ShopSchema
from server.services import audit, places
from server.services.places import boundaries
from server.services.reports import overview as overview_service
from server.services.roster import reference


class MisplacedArgs(PageArgs, AreaArgs):
    pass


@bp.route("/areas.json")
@page()
def areas_json():
    """The districts in view that have a boundary, as GeoJSON, each with its figures from the overview's
    pass (what the map shows on hover); one district's when ``district_code`` is asked."""
    user, asked = viewer(), district_asked()
    features, labels = [], places.label_points()
    for district in reference.districts(with_boundary=True):
        if not district.boundary or not user.covers(district.code) or asked not in (None, district.code):
            continue
        numbers = overview_service.overview(user, district.code)["numbers"]
        figures = {"active": numbers["active"], "unclaimed": numbers["unclaimed"], **numbers["grades"],
                   "label": labels.get(district.code)}
        features.append(f'{{"type":"Feature","id":{json.dumps(district.code)},"geometry":{district.boundary},'
                        f'"properties":{json.dumps({"code": district.code, "name": district.name, **figures}, ensure_ascii=False)}}}')
    response = current_app.response_class('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}",
                                          mimetype="application/geo+json")
    response.headers["Cache-Control"] = "private, max-age=30"
    return response


@bp.route("/boundaries", endpoint="boundaries")
@page(*REGULATOR_ROLES)
def boundaries_page():
    return _page({})


def _page(errors, status=200):
    """The page: the districts in view with their boundaries' sources, the misplaced shops (a page of
    them), and for an admin the upload form (with ``errors`` of the last upload)."""
    user = viewer()
    args, filter_errors = load(MisplacedArgs(), request.args)
    if filter_errors:
        args = MisplacedArgs().load({})
    if args.get("district_code") and args["district_code"] not in {d.code for d in districts_in_view()}:
        fail(404, "区县不存在或不在您的辖区内")
    shops = page_of(ShopSchema)().dump(places.misplaced(user, args))
    listed = [d for d in reference.districts(with_boundary=True) if user.covers(d.code)]
    return render_template("console/boundaries.html", districts=listed, shops=shops, errors=errors,
                           filter_errors=filter_errors, filters=own_filters(MisplacedArgs()),
                           names={d.code: d.name for d in reference.districts()},
                           systems={code: label("crs", code) for code in boundaries.SYSTEMS}), status


@bp.route("/boundaries", methods=["POST"])
@page("admin")
def load_boundaries():
    upload, crs = request.files.get("file"), request.form.get("crs", "wgs84")
    if upload is None or not upload.filename:
        return _page({"file": ["请选择 GeoJSON 文件"], "_": "请选择 GeoJSON 文件"}, 422)
    text = upload.read(boundaries.MAX_BYTES + 1)
    try:
        text = text.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _page({"file": ["文件须为 UTF-8 编码的 GeoJSON"], "_": "文件须为 UTF-8 编码的 GeoJSON"}, 422)
    name = upload.filename[:80]
    result, errors = attempt(lambda: boundaries.load(db.session, text, crs, f"{name}（{crs}）"))
    if errors:
        return _page(errors, 422)
    audit.record("district.boundary_load", "district", None,
                 f"载入区县边界：{name}（{label('crs', crs)}）；{result['relocated']} 家店铺的所在区县随之更新")
    db.session.commit()
    flash(f"已载入 {result['districts']} 个区县的边界；{result['relocated']} 家店铺的所在区县随之改变")
    return redirect(url_for("console.boundaries"), 303)


@bp.route("/boundaries/<code>/clear", methods=["POST"])
@page("admin")
def clear_boundary(code):
    district = next((d for d in reference.districts() if d.code == code), None)
    if district is None or district.kind != "zone":
        fail(404, "只能清除功能区的边界")
    result = boundaries.clear(db.session, [code])
    audit.record("district.boundary_clear", "district", None,
                 f"清除{district.name}的边界；{result['relocated']} 家店铺的所在区县随之更新")
    db.session.commit()
    flash(f"已清除{district.name}的边界；{result['relocated']} 家店铺的所在区县随之改变")
    return redirect(url_for("console.boundaries"), 303)
