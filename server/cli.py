"""Flask commands (``flask --app wsgi ...``)."""
import getpass
import os
import secrets
import sys

import click

from server import cli_places, cli_upkeep
from server.errors import ApiError
from server.extensions import db
from server.models.workday import WorkdayOverride
from server.services import audit, photos
from server.services.enforcement import open311
from server.services.people import accounts
from server.services.reports import receipts
from server.services.upkeep import demo, storage_copy


def register(app):
    app.cli.add_command(create_admin)
    app.cli.add_command(photos_group)
    app.cli.add_command(seed_demo)
    app.cli.add_command(audit_group)
    app.cli.add_command(exports_group)
    app.cli.add_command(storage_group)
    app.cli.add_command(workdays_group)
    app.cli.add_command(open311_group)
    cli_upkeep.register(app)
    cli_places.register(app)


@click.group("open311")
def open311_group():
    """Open311 GeoReport v2 partners' API keys."""


@open311_group.command("create-key")
@click.option("--name", required=True, help="the partner, e.g. 任城区12345平台")
def open311_create_key(name):
    """Make a partner's key; it is printed once, alone on the last line, and stored only as its hash."""
    try:
        key = open311.create_key(name)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"合作方 {name} 的 Open311 api_key（只显示这一次，请妥善交给对方）：")
    click.echo(key)


@open311_group.command("revoke-key")
@click.option("--name", required=True)
def open311_revoke_key(name):
    """Revoke a partner's key at once."""
    try:
        open311.revoke_key(name)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"已吊销合作方 {name} 的密钥")


@click.group("workdays")
def workdays_group():
    """Working days for 12345 hotline deadlines: days entered here override the holiday calendar."""


@workdays_group.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--working/--holiday", required=True, help="the day is a working day (e.g. 调休) or a holiday")
@click.option("--note", required=True, help="why, e.g. 国务院办公厅 2027 年部分节假日安排")
def workdays_set(day, working, note):
    """Enter (or change) one day; it overrides the calendar package for deadlines counted from now on."""
    row = db.session.get(WorkdayOverride, day.date()) or WorkdayOverride(day=day.date())
    row.working, row.note = working, note
    db.session.add(row)
    audit.record("workday.set", "workday", None, f"{day:%Y-%m-%d} 设为{'工作日' if working else '休息日'}：{note}")
    db.session.commit()
    click.echo(f"{day:%Y-%m-%d} 已设为{'工作日' if working else '休息日'}（已受理工单的办理期限不变）")


@workdays_group.command("list")
def workdays_list():
    """The days entered by hand."""
    for row in db.session.scalars(db.select(WorkdayOverride).order_by(WorkdayOverride.day)):
        click.echo(f"{row.day}  {'工作日' if row.working else '休息日'}  {row.note}")


@click.group("storage")
def storage_group():
    """Where the photos are stored (STORAGE_URL)."""


@storage_group.command("copy")
@click.option("--to", "target", required=True, help="the store to copy to: s3://bucket/prefix or file:///path")
@click.option("--from", "source", help="the store to copy from (default: the current STORAGE_URL)")
@click.option("--verify", is_flag=True, help="also re-read every object already at the target and compare SHA-256")
def storage_copy_command(target, source, verify):
    """Copy every stored photo (original, display copy, thumbnail) to another store, checking each
    object's SHA-256 after writing it.  Resumable: objects already at the target are skipped (or,
    with --verify, compared and re-copied when they differ).  Exit 1 if anything could not be copied."""
    from flask import current_app

    from server.storage import ConfigurationError, StorageError, open_store, storage_for

    try:
        origin = open_store(source, current_app.config) if source else storage_for(current_app)
        destination = open_store(target, current_app.config)
    except ConfigurationError as error:
        raise click.BadParameter(str(error)) from None
    if origin.url == destination.url:
        raise click.BadParameter("源存储与目标存储相同")
    click.echo(f"从 {origin.url} 复制到 {destination.url}" + ("（逐一校验已有对象）" if verify else ""))
    try:
        summary = storage_copy.copy_all(origin, destination, verify=verify, progress=click.progressbar)
    except StorageError as error:
        click.echo(f"存储不可用，已中止（可重新运行，已复制的会跳过）：{error}", err=True)
        sys.exit(1)
    click.echo(storage_copy.describe(summary))
    if summary.problems:
        sys.exit(1)


@click.group("audit")
def audit_group():
    """The audit trail's hash chain."""


@audit_group.command("verify")
@click.option("--anchor", help="a head hash printed earlier by `audit anchor`: it must still be in the chain")
def audit_verify(anchor):
    """Walk the whole chain; exit 1 naming the first broken entry."""
    checked, problem = audit.verify(db.session, anchor)
    db.session.rollback()
    if problem:
        entry_id, reason = problem
        where = f"第 {entry_id} 条审计记录" if entry_id else "锚点"
        click.echo(f"审计链校验失败：{where}：{reason}（此前 {checked} 条完好）", err=True)
        sys.exit(1)
    click.echo(f"审计链完好：共 {checked} 条" + ("，包含给定锚点" if anchor else ""))


@audit_group.command("anchor")
def audit_anchor():
    """Print the chain's head (keep it outside the system, e.g. daily)."""
    entry = audit.head(db.session)
    db.session.rollback()
    if entry is None:
        click.echo(f"id=0 at=- hash={audit.GENESIS}")
    else:
        click.echo(f"id={entry.id} at={entry.at.isoformat()} hash={entry.hash}")


@click.group("exports")
def exports_group():
    """Signed export receipts."""


@exports_group.command("verify")
@click.argument("file", type=click.File("rb"))
@click.option("--receipt", "receipt_file", type=click.File("rb"),
              help="the receipt (JSON, as GET /exports/receipts/{id} gave it); default: found by the file's SHA-256")
def exports_verify(file, receipt_file):
    """Check an exported file against its receipt: hash, signature, audit head in an intact chain."""
    given = None
    if receipt_file is not None:
        try:
            given = receipts.read(receipt_file.read())
        except ValueError as refused:
            click.echo(f"核验失败：{refused}", err=True)
            sys.exit(2)
    found, problems = receipts.verify(iter(lambda: file.read(1 << 20), b""), given)
    db.session.rollback()
    if problems:
        for problem in problems:
            click.echo(f"核验失败：{problem}", err=True)
        sys.exit(1)
    click.echo(f"核验通过：回执 {found['id']}（{found['kind']}，{found['format']}，{found['rows']} 行，"
               f"{found['bytes']} 字节），签名密钥 {found['key_id']}，审计链头第 {found['audit_head']['id']} 条")


@click.command("seed-demo")
@click.option("--shops", type=click.IntRange(1, 200_000), default=200, show_default=True,
              help="how many shops (50000 for a city-sized benchmark)")
@click.option("--seed", type=int, default=2024, show_default=True)
def seed_demo(shops, seed):
    """Fill an empty database with a demo city and a year of records."""
    try:
        demo.seed(shops, seed, echo=click.echo)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    # A console login for the demo city: DEMO_PASSWORD, or a random one printed once.
    password = os.environ.get("DEMO_PASSWORD") or f"Jn-{secrets.token_hex(6)}-Zq9"
    accounts.create_admin("demo", password)
    click.echo(f"后台登录 /console/login：用户名 demo，密码 {password}" if not os.environ.get("DEMO_PASSWORD")
               else "后台登录 /console/login：用户名 demo，密码为 DEMO_PASSWORD")


@click.group("photos")
def photos_group():
    """Photo housekeeping."""


@photos_group.command("purge-orphans")
def purge_orphans():
    """Delete photos never attached to a record within 7 days (run daily from cron)."""
    click.echo(f"已删除 {photos.purge_orphans()} 张未关联记录的照片")


@click.command("create-admin")
@click.option("--username", required=True, help="console login name (3–64 letters, digits, _ . -)")
def create_admin(username):
    """Create a city-wide admin.  The password comes from ADMIN_PASSWORD or a hidden prompt."""
    password = os.environ.get("ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise click.ClickException("请设置环境变量 ADMIN_PASSWORD，或在终端中运行以输入密码")
        password = getpass.getpass("密码: ")
        if getpass.getpass("再次输入密码: ") != password:
            raise click.ClickException("两次输入的密码不一致")
    try:
        user = accounts.create_admin(username, password)
    except ApiError as error:
        raise click.ClickException(error.description) from None
    click.echo(f"已创建管理员 {user.username}（id {user.id}，全市范围）")
