"""What each export holds: for every kind, the rows it reads and one list of (header, value) columns.

A kind's ``source(shops_in_scope, args)`` yields pairs read from the database in chunks
(``yield_per``), so memory stays flat; each column's getter turns a pair into one cell.  The
header and the value of a column stand side by side, so they cannot drift apart.
"""
import contextvars
import functools
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select

from server.clock import end_of_day, start_of_day, today
from server.extensions import db
from server.labels import label
from server.models.collector import CollectorCompany
from server.models.user import User
from server.models.inspection import Case, Inspection, InspectionItem, Rectification
from server.models.records import Cleaning, Handover
from server.models.shop import Shop
from server.security import decrypt, mask_phone
from server.services import compliance
from server.services.roster import reference

CHUNK = 2000
YES_NO = {True: "是", False: "否"}


class Names:
    """The names a human file prints beside codes and ids — districts, companies, staff, checklist
    items — each read once per export (small tables), when a column first asks."""

    @functools.cached_property
    def _districts(self):
        return {d.code: d.name for d in reference.districts()}

    @functools.cached_property
    def _companies(self):
        return dict(db.session.execute(select(CollectorCompany.id, CollectorCompany.name)).all())

    @functools.cached_property
    def _people(self):
        return {ident: display or username for ident, display, username in db.session.execute(
            select(User.id, User.display_name, User.username).where(User.role != "user"))}

    @functools.cached_property
    def _items(self):
        return reference.checklist_texts()

    def district(self, code):
        return self._districts.get(code, code) if code else None

    def company(self, ident):
        return self._companies.get(ident) if ident else None

    def person(self, ident):
        return self._people.get(ident) if ident else None

    def items(self, codes):
        return "；".join(f"{self._items.get(code, code)}（{code}）" for code in codes)


_names = contextvars.ContextVar("ledger_names")


def names():
    """The current export's :class:`Names`."""
    return _names.get()


@dataclass(frozen=True)
class Kind:
    title: str
    source: Callable  # (shops_in_scope, args) → iterator of (object, extra) pairs
    columns: tuple  # ((header, getter(object, extra)), ...)
    scope: str = "shops"  # what the source is given: a select of the shops in scope, or "districts" (codes)

    @property
    def headers(self):
        return [header for header, _ in self.columns]

    def rows(self, shops_in_scope, args):
        getters = [getter for _, getter in self.columns]
        token = _names.set(Names())
        try:
            for obj, extra in self.source(shops_in_scope, args):
                yield [getter(obj, extra) for getter in getters]
        finally:
            _names.reset(token)


def _period(statement, column, args, is_date=False):
    if "from_" in args:
        statement = statement.where(column >= (args["from_"] if is_date else start_of_day(args["from_"])))
    if "to" in args:
        statement = statement.where(column <= args["to"] if is_date else column < end_of_day(args["to"]))
    return statement


def _in_scope(model, shops_in_scope):
    return model.shop_id.in_(shops_in_scope.with_only_columns(Shop.id).order_by(None))


def _records(model, when, shops_in_scope, args, is_date=False):
    """``(record, shop name)`` of the shops in scope, in the period, oldest first."""
    statement = _period(select(model, Shop.name).join(Shop, Shop.id == model.shop_id)
                        .where(_in_scope(model, shops_in_scope)), when, args, is_date)
    return db.session.execute(statement.order_by(model.id).execution_options(yield_per=CHUNK))


# --- 合规清单 -----------------------------------------------------------------------------------

def compliance_source(shops_in_scope, args):
    """``(shop row, compliance)``: plain columns, not Shop objects — the list is all of a city."""
    as_of = args.get("as_of") or today()
    wanted = {k: args[k] for k in compliance.FILTERS if k in args}
    statement = shops_in_scope.with_only_columns(
        *compliance.SHOP_COLUMNS, Shop.name, Shop.uscc, Shop.address, Shop.street,
        Shop.contact_name, Shop.contact_phone_encrypted, Shop.status, Shop.claimed_at)
    return compliance.graded(statement, as_of, wanted=wanted)


# Who the shop is: the first columns of every list with a row per shop (the row's first part is a
# shop or a row with these columns).
SHOP_IDENTITY = (
    ("店铺ID", lambda s, _: s.id),
    ("店铺名称", lambda s, _: s.name),
    ("统一社会信用代码", lambda s, _: s.uscc),
    ("地址", lambda s, _: s.address),
    ("区县代码", lambda s, _: s.district_code),
    ("区县", lambda s, _: names().district(s.district_code)),
)

COMPLIANCE = Kind("合规清单", compliance_source, SHOP_IDENTITY + (
    ("街道", lambda s, c: s.street),
    ("规模", lambda s, c: compliance.SCALE_NAMES[compliance.scale_of(s.cooking_heads)]),
    ("基准灶头数", lambda s, c: s.cooking_heads),
    ("联系人", lambda s, c: s.contact_name),
    ("联系电话", lambda s, c: mask_phone(decrypt(s.contact_phone_encrypted))),
    ("营业状态", lambda s, c: label("shop_status", s.status)),
    ("是否认领", lambda s, c: YES_NO[s.claimed_at is not None]),
    ("净化设施状态", lambda s, c: label("purifier_status", c["purifier"]["status"])),
    ("最近清洗日期", lambda s, c: c["purifier"]["last_cleaned_on"]),
    ("清洗到期日", lambda s, c: c["purifier"]["due_on"]),
    ("餐厨废弃物状态", lambda s, c: label("waste_status", c["waste"]["status"])),
    ("最近交接时间", lambda s, c: c["waste"]["last_handover_at"]),
    ("未结整改", lambda s, c: c["rectification"]["open"]),
    ("逾期整改", lambda s, c: c["rectification"]["overdue"]),
    ("评级", lambda s, c: c["grade"]),
    ("原因", lambda s, c: "；".join(r["message"] + (f"：{names().items(r['checklist_items'])}"
                                                  if r.get("checklist_items") else "") for r in c["reasons"])),
    ("优先级", lambda s, c: c["priority"]),
    ("评价日期", lambda s, c: c["as_of"]),
    ("异常线索", lambda s, c: "；".join(f["message"] for f in c["flags"])),
))


# --- 台账 --------------------------------------------------------------------------------------

CLEANINGS = Kind("清洗记录台账", lambda shops, args: _records(Cleaning, Cleaning.cleaned_on, shops, args, True), (
    ("记录ID", lambda c, name: c.id),
    ("店铺ID", lambda c, name: c.shop_id),
    ("店铺名称", lambda c, name: name),
    ("清洗日期", lambda c, name: c.cleaned_on),
    ("清洗部位", lambda c, name: "、".join(label("cleaning_part", p) for p in c.parts)),
    ("清洗方式", lambda c, name: label("performed_by", c.performed_by)),
    ("清洗公司", lambda c, name: c.company_name),
    ("备注", lambda c, name: c.note),
    ("提交时间", lambda c, name: c.received_at),
    ("补录", lambda c, name: YES_NO[c.late_entry]),
    ("更正自", lambda c, name: c.supersedes_id),
    ("被更正为", lambda c, name: c.superseded_by_id),
    ("更正原因", lambda c, name: c.correction_reason),
))

HANDOVERS = Kind("联单台账", lambda shops, args: _records(Handover, Handover.handed_over_at, shops, args), (
    ("联单编号", lambda h, name: h.serial),
    ("版本", lambda h, name: h.version),
    ("店铺ID", lambda h, name: h.shop_id),
    ("店铺名称", lambda h, name: name),
    ("交接时间", lambda h, name: h.handed_over_at),
    ("类型", lambda h, name: label("waste_type", h.waste_type)),
    ("桶数", lambda h, name: h.bins),
    ("申报公斤", lambda h, name: h.declared_kg),
    ("称重公斤", lambda h, name: h.weighed_kg),
    ("裁定计入公斤", lambda h, name: h.settled_kg),
    ("裁定理由", lambda h, name: h.settle_reason),
    ("收运单位ID", lambda h, name: h.collector_company_id),
    ("收运单位", lambda h, name: names().company(h.collector_company_id)),
    ("车牌", lambda h, name: h.vehicle_plate),
    ("状态", lambda h, name: label("handover_status", h.status)),
    ("发起方", lambda h, name: label("party", h.started_by_party)),
    ("拒绝原因", lambda h, name: h.reject_reason),
    ("提交时间", lambda h, name: h.received_at),
    ("补录", lambda h, name: YES_NO[h.late_entry]),
    ("已被更正", lambda h, name: YES_NO[h.superseded_by_id is not None]),
))


def inspection_source(shops_in_scope, args):
    """``(inspection, (shop name, failed codes))``; the failed items read once per chunk."""
    rows = _records(Inspection, Inspection.inspected_at, shops_in_scope, args)
    for chunk in rows.partitions():
        failed = {}
        for inspection_id, code in db.session.execute(
                select(InspectionItem.inspection_id, InspectionItem.code)
                .where(InspectionItem.inspection_id.in_([i.id for i, _ in chunk]), InspectionItem.result == "fail")
                .order_by(InspectionItem.id)):
            failed.setdefault(inspection_id, []).append(code)
        for inspection, name in chunk:
            yield inspection, (name, failed.get(inspection.id, []))


INSPECTIONS = Kind("检查记录台账", inspection_source, (
    ("检查ID", lambda i, extra: i.id),
    ("店铺ID", lambda i, extra: i.shop_id),
    ("店铺名称", lambda i, extra: extra[0]),
    ("检查时间", lambda i, extra: i.inspected_at),
    ("执法人员ID", lambda i, extra: i.inspector_id),
    ("执法人员", lambda i, extra: names().person(i.inspector_id)),
    ("协同人员ID", lambda i, extra: i.co_inspector_id),
    ("协同人员", lambda i, extra: names().person(i.co_inspector_id)),
    ("距店铺(米)", lambda i, extra: i.distance_m),
    ("距离偏远", lambda i, extra: YES_NO[i.far_from_shop]),
    ("不合格项", lambda i, extra: names().items(extra[1])),
    ("备注", lambda i, extra: i.note),
    ("已作废", lambda i, extra: YES_NO[i.voided_at is not None]),
    ("作废原因", lambda i, extra: i.void_reason),
    ("补录", lambda i, extra: YES_NO[i.late_entry]),
))


# --- 负面清单 -----------------------------------------------------------------------------------

def negative_source(shops_in_scope, args):
    """``(shop, (overdue orders, open cases))``: shops with an overdue order or an open case."""
    overdue_order = compliance.order_overdue(Rectification.status, Rectification.deadline, today())
    open_case = Case.status.not_in(("closed", "sent_back"))  # 回退 ends a hotline ticket
    listed = select(Rectification.shop_id).where(overdue_order).union(select(Case.shop_id).where(open_case))
    statement = shops_in_scope.where(Shop.id.in_(listed.subquery().select()))
    for chunk in db.session.scalars(statement.execution_options(yield_per=CHUNK)).partitions():
        ids = [shop.id for shop in chunk]
        orders, cases = {}, {}
        for order in db.session.scalars(select(Rectification).where(Rectification.shop_id.in_(ids), overdue_order)
                                        .order_by(Rectification.id)):
            orders.setdefault(order.shop_id, []).append(order)
        for case in db.session.scalars(select(Case).where(Case.shop_id.in_(ids), open_case).order_by(Case.id)):
            cases.setdefault(case.shop_id, []).append(case)
        for shop in chunk:
            yield shop, (orders.get(shop.id, []), cases.get(shop.id, []))


NEGATIVE = Kind("负面清单", negative_source, SHOP_IDENTITY + (
    ("逾期整改数", lambda s, oc: len(oc[0])),
    ("最早整改期限", lambda s, oc: min((o.deadline for o in oc[0]), default=None)),
    ("未结案件数", lambda s, oc: len(oc[1])),
    ("案件编号", lambda s, oc: "、".join(c.external_case_no or f"案件 {c.id}" for c in oc[1])),
))

KINDS = {"compliance": COMPLIANCE, "cleanings": CLEANINGS, "handovers": HANDOVERS, "inspections": INSPECTIONS,
         "negative-list": NEGATIVE}
