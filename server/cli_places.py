"""``flask --app wsgi districts ...``: district boundaries (see services.places)."""
from pathlib import Path

import click
from sqlalchemy import func, select

from server.errors import ApiError
from server.extensions import db
from server.models.reference import District
from server.models.shop import Shop
from server.services import audit, places
from server.services.places import boundaries


def register(app):
    app.cli.add_command(districts_group)


@click.group("districts")
def districts_group():
    """District boundaries: load a GeoJSON file, clear a zone's polygon, list what is loaded."""


def _done(action, summary, result):
    audit.record(action, "district", None, summary + f"；{result['relocated']} 家店铺的所在区县随之更新")
    db.session.commit()
    click.echo(f"已更新 {result['districts']} 个区县的边界；{result['relocated']} 家店铺的所在区县随之改变")


@districts_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--crs", type=click.Choice(boundaries.SYSTEMS), default="wgs84", show_default=True,
              help="the file's coordinates: wgs84 (GPS) or gcj02 (高德/腾讯 maps), converted to WGS-84 on load")
def districts_load(path, crs):
    """Load or replace boundaries from a GeoJSON file whose features carry the district code as
    ``id`` or ``properties.code`` (a zone's polygon wins over its county's where both hold a point)."""
    try:
        result = boundaries.load(db.session, path.read_text(encoding="utf-8-sig"), crs, f"{path.name}（{crs}）")
    except ApiError as error:
        raise click.ClickException(error.description) from None
    except UnicodeDecodeError:
        raise click.ClickException("文件须为 UTF-8 编码的 GeoJSON") from None
    _done("district.boundary_load", f"载入区县边界：{path.name}（{crs}）", result)


@districts_group.command("clear")
@click.argument("codes", nargs=-1, required=True)
def districts_clear(codes):
    """Take away the boundaries of CODES (e.g. a functional zone's polygon that was wrong)."""
    unknown = set(codes) - boundaries.known_codes(db.session)
    if unknown:
        raise click.ClickException("未知的区县代码：" + "、".join(sorted(unknown)))
    _done("district.boundary_clear", "清除区县边界：" + "、".join(codes), boundaries.clear(db.session, list(codes)))


@districts_group.command("list")
def districts_list():
    """Each district: whether it has a boundary, from where, and its shops located elsewhere."""
    away = dict(db.session.execute(select(Shop.district_code, func.count()).where(places.mismatched())
                                   .group_by(Shop.district_code)).all())
    for district in db.session.scalars(select(District).order_by(District.position, District.code)):
        where = district.boundary_source or "（无边界）"
        click.echo(f"{district.code}\t{district.name}\t{where}\t坐标在区外的店铺 {away.get(district.code, 0)} 家")
