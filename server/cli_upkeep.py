"""Flask commands for what cron runs and for the tables derived from the records: reminders,
retention, the shop facts and waste tallies, the overview's graded passes."""
import sys

import click
from flask import current_app

from server.extensions import db
from server.services import compliance, reminders
from server.services.records import tallies
from server.services.reports import overview
from server.services.upkeep import jobs, retention


def register(app):
    for group in (overview_group, reminders_group, facts_group, retention_group):
        app.cli.add_command(group)


@click.group("overview")
def overview_group():
    """The console overview's graded passes (shared by every worker through the database)."""


@overview_group.command("refresh")
def overview_refresh():
    """Grade every jurisdiction in use again (cron, every minute: no visitor then waits for a pass)."""
    if current_app.config["OVERVIEW_CACHE_SECONDS"] <= 0:
        click.echo("OVERVIEW_CACHE_SECONDS=0：每次请求实时评定，无需预先计算")
        return
    count = overview.refresh_all(echo=click.echo)
    click.echo(f"已更新 {count} 个辖区的全市评定")


@click.group("reminders")
def reminders_group():
    """Reminders (notifications and WeChat subscribe messages): run from cron every 10 minutes."""


@reminders_group.command("run")
def reminders_run():
    """Create the due notifications (each once, however many machines run this at once) and send the
    subscribe messages that may be sent now; print how many.  Stops sending after REMINDER_MAX_SECONDS."""
    counts = reminders.run()
    click.echo("提醒：新建 {created} 条；订阅消息：发送 {sent}，等待早上发送 {deferred}，稍后重试 {retried}，"
               "失败 {failed}，无订阅额度 {no_quota}".format(**counts))


@click.group("facts")
def facts_group():
    """The shop_facts table the compliance engine reads today's facts from, and the waste tallies."""


@facts_group.command("refresh")
def facts_refresh():
    """Rewrite every shop's facts from its records (after upgrading to 0014, or a bulk load)."""
    done = compliance.refresh_all(db.session, echo=click.echo)
    rows = tallies.rebuild(db.session)
    db.session.commit()
    click.echo(f"已更新 {done} 家店铺的合规事实，{rows} 行收运量日汇总")


@facts_group.command("check")
def facts_check():
    """Compare every stored row with the records; exit 1 listing the shops that differ."""
    checked, missing, differing = compliance.check_all(db.session)
    tally_rows, tally_differing = tallies.check(db.session)
    db.session.rollback()
    if tally_differing:
        click.echo(f"收运量日汇总与联单不一致：{len(tally_differing)} 行（区县、日期、收运单位、类别、状态）："
                   f"{tally_differing[:10]}", err=True)
    if missing:
        click.echo(f"{len(missing)} 家店铺今日按记录实时计算（尚无合规事实，可运行 facts refresh；或有记录的时间晚于"
                   f"当前时间）：{missing[:20]}")
    if differing:
        click.echo(f"合规事实与记录不一致：{len(differing)} 家店铺：{differing[:20]}", err=True)
    if differing or tally_differing:
        sys.exit(1)
    click.echo(f"合规事实与记录一致：共核对 {checked} 家店铺；收运量日汇总与联单一致：{tally_rows} 行")


@click.group("retention")
def retention_group():
    """Retention rules (SPEC): run daily from cron."""


@retention_group.command("run")
def retention_run():
    """Delete what the retention rules say may go; print what was removed.  Never audit entries.
    Safe to start on every machine at once: one runs, the others say so and stop."""
    with jobs.lease("retention", 6 * 3600) as held:
        if not held:
            click.echo("另一台机器（或进程）正在执行保存期限清理，本次跳过")
            return
        removed = retention.run()
    click.echo("保存期限清理完成：")
    for what, count in removed.items():
        click.echo(f"  {what}: {count}")
