"""`reminders run` on a demo city: how long it takes, how many notifications, statements per notification.

    .venv/bin/python bench/reminders.py [--shops 50000] [--database-url URL [--seeded]]

Without --database-url a temporary SQLite file is seeded with `seed-demo`'s generator; a PostgreSQL
URL must name an empty database (or, with --seeded, one `seed-demo` filled: the bench then removes
the members, notifications and subscriptions it added when it is done).  The demo city has one owner
for most shops; this gives every shop a manager of its own (a WeChat user who accepted the
cleaning_due template once) so the run is the city's real shape.  WeChat is the fake from the tests,
over HTTP on 127.0.0.1.

Prints, for a first run (everything due is new, every granted message sent) and a second run at once
(nothing new: the steady state of a 10-minute cron): seconds, notifications created, messages sent,
SQL statements per notification, and the time spent finding what is due vs creating and sending.
"""
import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import delete, event, func, insert, select  # noqa: E402

from server import create_app  # noqa: E402
from server.clock import utcnow  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models import Notification, Shop, ShopMember, Subscription, User  # noqa: E402
from server.models.notification import WeChatToken  # noqa: E402
from server.services import reminders  # noqa: E402
from server.services.reminders import occasions  # noqa: E402
from server.services.upkeep import demo  # noqa: E402
from tests.fake_wechat import FakeWeChat  # noqa: E402

TEMPLATES = {"cleaning_due": {"id": "BENCH-CLEAN", "long_term": False,
                              "fields": {"thing1": "shop_name", "date2": "date", "phrase3": "status"}}}


def add_managers(shops):
    """A manager of its own for every shop (openid bench-<shop>), who accepted one cleaning_due message."""
    now = utcnow()
    first = db.session.scalar(select(func.coalesce(func.max(User.id), 0))) + 1
    for start in range(1, shops + 1, 5000):
        ids = range(start, min(start + 5000, shops + 1))
        db.session.execute(insert(User), [{"id": first + n, "openid": f"bench-{n}", "role": "user",
                                           "display_name": f"店长{n}", "disabled": False, "created_at": now}
                                          for n in ids])
        db.session.execute(insert(ShopMember), [{"shop_id": n, "user_id": first + n, "role": "manager",
                                                 "joined_at": now} for n in ids])
        db.session.execute(insert(Subscription), [{"user_id": first + n, "template_id": "BENCH-CLEAN", "quota": 1,
                                                   "long_term": False, "updated_at": now} for n in ids])
    db.session.commit()
    return first


def remove_managers(first):
    managers = select(User.id).where(User.id >= first, User.openid.like("bench-%"))
    for model, column in ((Notification, Notification.user_id), (Subscription, Subscription.user_id),
                          (ShopMember, ShopMember.user_id)):
        db.session.execute(delete(model).where(column.in_(managers)))
    db.session.execute(delete(User).where(User.id >= first, User.openid.like("bench-%")))
    db.session.execute(delete(WeChatToken))
    db.session.commit()


def measured_run(engine):
    statements = [0]

    def count(*_args):
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        found = sum(len(o.user_ids) for o in occasions.due())
        db.session.rollback()
        finding = time.perf_counter() - started
        finding_statements = statements[0]
        started = time.perf_counter()
        counts = reminders.run()
        seconds = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counts, seconds, statements[0] - finding_statements, found, finding, finding_statements


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shops", type=int, default=50_000)
    parser.add_argument("--database-url")
    parser.add_argument("--seeded", action="store_true")
    args = parser.parse_args()
    fake = FakeWeChat().start()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/city.db"
        app = create_app({"APP_ENV": "testing", "DATABASE_URL": url, "UPLOAD_DIR": f"{tmp}/uploads",
                          "WECHAT_APPID": fake.server.appid, "WECHAT_SECRET": fake.server.secret,
                          "WECHAT_API_BASE": fake.base_url, "WECHAT_TEMPLATES": TEMPLATES,
                          "REMINDER_QUIET_HOURS": None, "REMINDER_MAX_SECONDS": 3600})
        with app.app_context():
            logging.disable(logging.INFO)
            upgrade()
            logging.disable(logging.NOTSET)
            started = time.perf_counter()
            if not args.seeded:
                demo.seed(args.shops, echo=lambda *_: None)
            seeded = time.perf_counter() - started
            shops = db.session.scalar(select(func.count()).select_from(Shop))
            first = add_managers(shops)
            try:
                results = [measured_run(db.engine) for _ in range(2)]
                states = dict(db.session.execute(select(Notification.wechat, func.count())
                                                 .group_by(Notification.wechat)).all())
            finally:
                if args.seeded:
                    remove_managers(first)
    fake.stop()
    kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"{kind}: {shops} shops" + ("" if args.seeded else f" (seeded in {seeded:.0f} s)")
          + ", one manager each with one cleaning_due message granted; WeChat faked on 127.0.0.1")
    print("notifications by WeChat state:", ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    for label, (counts, seconds, statements, found, finding, finding_statements) in zip(
            ("first run", "second run"), results):
        per = statements / counts["created"] if counts["created"] else float("nan")
        print(f"{label:10}: {seconds:6.1f} s; due occasions × recipients {found} (found in {finding:.1f} s, "
              f"{finding_statements} statements); created {counts['created']}, sent {counts['sent']}, "
              f"no quota {counts['no_quota']}, retried {counts['retried']}, failed {counts['failed']}; {statements} statements"
              + (f" = {per:.2f} per notification" if counts["created"] else ""))


if __name__ == "__main__":
    main()
