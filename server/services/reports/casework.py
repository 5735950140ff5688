"""Ledgers of casework kept by district rather than by shop: citizens' complaints and 12345 hotline
tickets (either may name no shop).  Their source takes the districts in the caller's scope."""
from sqlalchemy import select

from server.extensions import db
from server.labels import label
from server.models.complaint import Complaint
from server.models.inspection import Case
from server.models.shop import Shop
from server.services.enforcement import cases
from server.services.reports.ledgers import CHUNK, Kind, _period, names


def complaint_source(districts, args):
    statement = _period(select(Complaint, Shop.name).outerjoin(Shop, Shop.id == Complaint.shop_id)
                        .where(Complaint.district_code.in_(districts)), Complaint.created_at, args)
    for complaint, shop_name in db.session.execute(statement.order_by(Complaint.id).execution_options(yield_per=CHUNK)):
        yield complaint, shop_name


COMPLAINTS = Kind("市民投诉台账", complaint_source, (
    ("投诉ID", lambda c, _: c.id),
    ("类别", lambda c, _: label("complaint_category", c.category)),
    ("区县代码", lambda c, _: c.district_code),
    ("区县", lambda c, _: names().district(c.district_code)),
    ("投诉时间", lambda c, _: c.created_at),
    ("来源", lambda c, _: "Open311 合作方" if c.partner_key_id else "小程序"),
    ("内容", lambda c, _: c.description),
    ("地址", lambda c, _: c.address),
    ("店铺ID", lambda c, _: c.shop_id),
    ("店铺名称", lambda c, shop_name: shop_name),
    ("状态", lambda c, _: label("complaint_status", c.status)),
    ("重复于", lambda c, _: c.duplicate_of_id),
    ("案件ID", lambda c, _: c.case_id),
    ("首次处理时间", lambda c, _: c.triaged_at),
    ("答复", lambda c, _: c.reply),
    ("非本部门职责原因", lambda c, _: c.reason),
), scope="districts")


def hotline_source(districts, args):
    statement = _period(select(Case, Shop.name).outerjoin(Shop, Shop.id == Case.shop_id)
                        .where(Case.source == "hotline", Case.district_code.in_(districts)), Case.received_at, args)
    for case, shop_name in db.session.execute(statement.order_by(Case.id).execution_options(yield_per=CHUNK)):
        yield case, (cases.card(case), shop_name)


HOTLINE = Kind("12345 热线工单台账", hotline_source, (
    ("案件ID", lambda c, _: c.id),
    ("工单号", lambda c, _: c.external_case_no),
    ("区县代码", lambda c, _: c.district_code),
    ("区县", lambda c, _: names().district(c.district_code)),
    ("店铺ID", lambda c, _: c.shop_id),
    ("店铺名称", lambda c, extra: extra[1]),
    ("受理时间", lambda c, _: c.received_at),
    ("内容", lambda c, _: c.summary),
    ("办理期限", lambda c, _: c.deadline),
    ("状态", lambda c, _: label("case_status", c.status)),
    ("预警", lambda c, extra: label("card", extra[0]) if extra[0] else ""),
    ("承办人", lambda c, _: names().person(c.assignee_id)),
    ("结案时间", lambda c, _: c.closed_at),
    ("延期(工作日)", lambda c, _: c.extended_days),
    ("重办次数", lambda c, _: c.redo_count),
    ("回访满意", lambda c, _: {None: "", True: "满意", False: "不满意"}[c.satisfied]),
    ("日历说明", lambda c, _: c.calendar_note),
), scope="districts")
