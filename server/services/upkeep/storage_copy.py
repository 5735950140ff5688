"""``flask storage copy``: every stored photo's three objects (original, display copy, thumbnail)
copied to another store, each checked by SHA-256 — moving from the folder to S3, or between buckets.

The photo rows say what exists, so nothing is listed: rows are read in id order, a thousand at a
time.  An original must match its row's SHA-256 before it is copied (a damaged source is reported,
never spread); every written object is read back and compared.  Objects already at the target are
skipped, so an interrupted copy is simply run again; ``verify`` compares those too and re-copies
any that differ.
"""
import contextlib
import dataclasses
import hashlib

from sqlalchemy import func, select

from server.extensions import db
from server.models.photo import Photo

BATCH = 1000


@dataclasses.dataclass
class Summary:
    objects: int = 0
    copied: int = 0
    present: int = 0  # already at the target: skipped, or (verify) compared equal
    recopied: int = 0  # (verify) different at the target, copied again
    missing: list = dataclasses.field(default_factory=list)  # not in the source store
    corrupt: list = dataclasses.field(default_factory=list)  # an original not matching its row's SHA-256
    failed: list = dataclasses.field(default_factory=list)  # read back different after writing

    @property
    def problems(self):
        return self.missing + self.corrupt + self.failed


def _digest(data):
    return hashlib.sha256(data).hexdigest()


def _copy_one(origin, destination, name, expected, verify, summary):
    summary.objects += 1
    if not verify and destination.exists(name):
        summary.present += 1
        return
    try:
        data = origin.read(name)
    except FileNotFoundError:
        summary.missing.append(name)
        return
    digest = _digest(data)
    if expected and digest != expected:
        summary.corrupt.append(name)
        return
    again = False
    if verify:
        try:
            there = destination.read(name)
        except FileNotFoundError:
            there = None
        if there is not None and _digest(there) == digest:
            summary.present += 1
            return
        again = there is not None
    destination.save(name, data)
    try:
        back = _digest(destination.read(name))
    except FileNotFoundError:
        back = None
    if back != digest:
        summary.failed.append(name)
    elif again:
        summary.recopied += 1
    else:
        summary.copied += 1


def copy_all(origin, destination, *, verify=False, progress=None):
    """Copy every photo's objects from ``origin`` to ``destination``; ``progress``: a
    ``click.progressbar``-like factory.  Returns a :class:`Summary`."""
    summary = Summary()
    total = 3 * db.session.scalar(select(func.count()).select_from(Photo))
    db.session.rollback()
    bar = progress(length=total, label="复制照片对象", show_pos=True) if progress else contextlib.nullcontext()
    last_id = 0
    with bar as bar:
        while True:
            rows = db.session.execute(
                select(Photo.id, Photo.sha256, Photo.original_name, Photo.display_name, Photo.thumb_name)
                .where(Photo.id > last_id).order_by(Photo.id).limit(BATCH)).all()
            db.session.rollback()  # no transaction held open while the objects travel
            if not rows:
                break
            for photo_id, sha256, original, display, thumb in rows:
                for name, expected in ((original, sha256), (display, None), (thumb, None)):
                    _copy_one(origin, destination, name, expected, verify, summary)
                    if bar is not None:
                        bar.update(1)
                last_id = photo_id
    return summary


def describe(summary):
    lines = [f"共 {summary.objects} 个对象：新复制 {summary.copied}，目标已有 {summary.present}"
             + (f"，不一致已重新复制 {summary.recopied}" if summary.recopied else "")]
    for label, names in (("源存储中缺失", summary.missing), ("源文件与记录的 SHA-256 不符（未复制）", summary.corrupt),
                         ("写入后读回不一致", summary.failed)):
        if names:
            lines.append(f"{label}：{len(names)} 个，例如 " + "、".join(names[:10]))
    lines.append("全部复制完成并已校验" if not summary.problems else "有对象未能复制，请处理后重新运行")
    return "\n".join(lines)
