"""油烟净化设施清洗记录: logged by any member of the shop, corrected only by a new version."""
import datetime as dt

from server.clock import today, utcnow
from server.database import commit_last
from server.errors import fail
from server.extensions import db
from server.labels import label
from server.models.records import Cleaning
from server.pagination import paginate
from server.services import audit, photos, records, scope


def _check(shop, data):
    if data["cleaned_on"] > today():
        fail(422, fields={"cleaned_on": ["清洗日期不能晚于今天"]})
    if data["cleaned_on"] < shop.registered_on - dt.timedelta(days=365):
        fail(422, fields={"cleaned_on": ["清洗日期不能早于店铺登记日期前一年"]})


def _write(user, shop, data, supersedes=None):
    _check(shop, data)
    received_at = utcnow()
    cleaning = Cleaning(shop_id=shop.id, logged_by_id=user.id, received_at=received_at,
                        late_entry=records.is_late(data["cleaned_on"], received_at),
                        parts=sorted(set(data["parts"])), performed_by=data["performed_by"],
                        company_name=(data.get("company_name") or "").strip() or None,
                        cleaned_on=data["cleaned_on"], note=data.get("note"),
                        supersedes_id=supersedes.id if supersedes else None,
                        correction_reason=data.get("reason"))
    db.session.add(cleaning)
    db.session.flush()
    members = scope.member_ids(shop.id)
    photos.attach(data["before_photo_ids"], "cleaning", cleaning.id, "before", uploaders=members,
                  field="before_photo_ids", supersedes=supersedes)
    photos.attach(data["after_photo_ids"], "cleaning", cleaning.id, "after", uploaders=members,
                  field="after_photo_ids", supersedes=supersedes)
    if data.get("invoice_photo_id"):
        photos.attach([data["invoice_photo_id"]], "cleaning", cleaning.id, "invoice", uploaders=members,
                      field="invoice_photo_id", supersedes=supersedes)
    return cleaning


def log(user, shop_id, data):
    shop = scope.get_shop_for(user, shop_id)
    if not scope.membership(user, shop.id):
        fail(403, "只有本店成员可以登记清洗记录")
    cleaning = _write(user, shop, data)
    audit.record("cleaning.create", "cleaning", cleaning.id,
                 f"登记清洗记录：{cleaning.cleaned_on}，{'、'.join(label('cleaning_part', p) for p in cleaning.parts)}"
                 + ("（补录）" if cleaning.late_entry else ""), shop_id=shop.id)
    commit_last(db.session)
    return cleaning


def correct(user, cleaning_id, data):
    old = scope.get_cleaning_for(user, cleaning_id, lock=True)
    shop = scope.get_shop_for(user, old.shop_id, lock=True)
    role = scope.membership(user, shop.id)
    if not role:
        fail(404 if not user.is_staff else 403, "只有登记人或店铺负责人可以更正清洗记录")
    if old.logged_by_id != user.id and role != "manager":
        fail(403, "只有登记人或店铺负责人可以更正清洗记录")
    if old.superseded_by_id is not None:
        fail(409, "该记录已被更正，请更正最新版本")
    new = _write(user, shop, data, supersedes=old)
    old.superseded_by_id, old.superseded_at = new.id, new.received_at
    audit.record("cleaning.correct", "cleaning", new.id,
                 f"更正清洗记录 #{old.id} → #{new.id}：{data['reason']}", shop_id=shop.id)
    commit_last(db.session)
    return new


def list_for_shop(user, shop_id, args):
    shop = scope.get_shop_for(user, shop_id)
    statement = records.current_only(scope.cleanings_visible_to(user).where(Cleaning.shop_id == shop.id), Cleaning,
                                     args, user)
    return paginate(statement.order_by(Cleaning.cleaned_on.desc(), Cleaning.id.desc()), args)
