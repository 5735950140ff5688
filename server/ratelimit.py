"""Per-user rate limits on writes and exports, shared by all gunicorn workers.

Counts live in the database (``rate_counts``), one row per user, bucket and fixed window,
bumped by one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` committed on its own,
so a request that fails later still counts and no worker can miss another's requests.
Over the limit → 429 ``rate_limited`` with ``Retry-After`` (seconds to the next window).
"""
import datetime as dt
import math
import zlib

from flask import current_app
from sqlalchemy import bindparam

from server.clock import utcnow
from server.database import bookkeeping, prepared, upsert
from server.errors import fail
from server.extensions import db
from server.models.ratelimit import RateCount

# bucket → (setting holding the allowed count, window length)
BUCKETS = {
    "write": ("RATE_LIMIT_WRITES_PER_MINUTE", dt.timedelta(minutes=1)),
    "export": ("RATE_LIMIT_EXPORTS_PER_HOUR", dt.timedelta(hours=1)),
    "wxlogin": ("RATE_LIMIT_WECHAT_LOGINS_PER_MINUTE", dt.timedelta(minutes=1)),
}
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def hit(user, bucket):
    """Count one request of ``user`` in ``bucket``; 429 when it is over the limit."""
    _hit(user.id, bucket)


def hit_address(address, bucket):
    """Count one anonymous request from a client address (each WeChat login is an outbound call to
    WeChat).  The address is counted under a negative id derived from it, never a user's; two
    addresses sharing one only share a count."""
    _hit(-1 - (zlib.crc32(address.encode("utf-8")) & 0x7FFFFFFF), bucket)


def _hit(counted_id, bucket):
    setting, window = BUCKETS[bucket]
    limit = current_app.config[setting]
    if not limit:
        return
    now = utcnow()
    start = EPOCH + window * ((now - EPOCH) // window)
    with bookkeeping(db.session):
        count = _count_one(db.session, user_id=counted_id, bucket=bucket, window_start=start).scalar_one()
        db.session.commit()
    if count > limit:
        wait = max(1, math.ceil((start + window - now).total_seconds()))
        what = {"export": "导出", "wxlogin": "登录"}.get(bucket, "提交")
        fail(429, f"{what}过于频繁，请 {wait} 秒后再试", headers={"Retry-After": str(wait)})


@prepared
def _count_one(dialect):
    statement = upsert(RateCount, dialect).values(
        user_id=bindparam("user_id", type_=RateCount.user_id.type), bucket=bindparam("bucket", type_=RateCount.bucket.type),
        window_start=bindparam("window_start", type_=RateCount.window_start.type), count=1)
    return statement.on_conflict_do_update(index_elements=["user_id", "bucket", "window_start"],
                                           set_={"count": RateCount.count + 1}).returning(RateCount.count)


def purge(before):
    """Delete windows that ended before ``before`` (retention); returns how many."""
    return db.session.execute(db.delete(RateCount).where(RateCount.window_start < before - dt.timedelta(hours=1))
                              ).rowcount
