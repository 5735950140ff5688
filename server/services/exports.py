"""Regulator exports: the compliance list, ledgers and the negative list, as CSV or XLSX.

Rows come from generators over the database in chunks (``yield_per``), so memory stays flat.
CSV streams as it is produced (UTF-8 with BOM, so Excel/WPS open it).  XLSX is written by
XlsxWriter in constant-memory mode to a temporary file and then streamed (a zip cannot be sent
before it is finished).  Text that a spreadsheet would run as a formula is escaped in both.
Times are Asia/Shanghai.  Phone numbers are masked.  Every export is audited.
"""

import csv
import datetime as dt
import io
import os
import tempfile

import xlsxwriter
from sqlalchemy import select

from server.clock import end_of_day, start_of_day, to_shanghai, today
from server.database import read_only
from server.extensions import db
from server.models.inspection import Case, Inspection, InspectionItem, Rectification
from server.models.records import Cleaning, Handover
from server.models.shop import Shop
from server.security import decrypt, mask_phone
from server.services import audit, compliance, scope

CHUNK = 2000
XLSX_MAX_ROWS = 1_000_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STATUS = {"active": "正常营业", "suspended": "停业整顿/装修", "closed": "已关闭"}


def safe_text(value):
    """Neutralise spreadsheet formulas: a leading = + - @ (or tab/CR) gets a quote in front."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _cell(value):
    if isinstance(value, dt.datetime):
        return to_shanghai(value).replace(tzinfo=None)
    return safe_text(value)


# --- the kinds of export ---------------------------------------------------------------------


def _shops(user, args):
    statement = scope.shops_visible_to(user).order_by(Shop.id)
    if "district_code" in args:
        statement = statement.where(Shop.district_code == args["district_code"])
    return statement


def compliance_rows(shops_in_scope, args):
    as_of = args.get("as_of") or today()
    wanted = {k: args[k] for k in compliance.FILTERS if k in args}
    # Plain columns, not Shop objects: the list is all of a city.
    statement = shops_in_scope.with_only_columns(
        *compliance.SHOP_COLUMNS, Shop.name, Shop.uscc, Shop.address, Shop.district_code, Shop.street,
        Shop.contact_name, Shop.contact_phone_encrypted, Shop.status, Shop.claimed_at)
    for row, c in compliance.graded(statement, as_of, wanted=wanted):
        name, uscc, address, district_code, street, contact_name, phone, status, claimed_at = row[5:14]
        purifier, waste, rectification = c["purifier"], c["waste"], c["rectification"]
        yield [
            row[0],
            name,
            uscc,
            address,
            district_code,
            street,
            compliance.SCALE_NAMES[compliance.scale_of(row[2])],
            row[2],
            contact_name,
            mask_phone(decrypt(phone)),
            STATUS[status],
            "否" if claimed_at is None else "是",
            purifier["status"],
            purifier["last_cleaned_on"],
            purifier["due_on"],
            waste["status"],
            waste["last_handover_at"],
            rectification["open"],
            rectification["overdue"],
            c["grade"],
            "；".join(r["message"] for r in c["reasons"]),
            c["priority"],
            as_of,
        ]


COMPLIANCE_HEADERS = [
    "店铺ID",
    "店铺名称",
    "统一社会信用代码",
    "地址",
    "区县代码",
    "街道",
    "规模",
    "基准灶头数",
    "联系人",
    "联系电话",
    "营业状态",
    "是否认领",
    "净化设施状态",
    "最近清洗日期",
    "清洗到期日",
    "餐厨废弃物状态",
    "最近交接时间",
    "未结整改",
    "逾期整改",
    "评级",
    "原因",
    "优先级",
    "评价日期",
]


def _period(statement, column, args, is_date=False):
    if "from_" in args:
        statement = statement.where(column >= (args["from_"] if is_date else start_of_day(args["from_"])))
    if "to" in args:
        statement = statement.where(column <= args["to"] if is_date else column < end_of_day(args["to"]))
    return statement


def _in_scope(model, shops_in_scope):
    return model.shop_id.in_(shops_in_scope.with_only_columns(Shop.id).order_by(None))


def cleaning_rows(shops_in_scope, args):
    statement = _period(
        select(Cleaning, Shop.name).join(Shop, Shop.id == Cleaning.shop_id).where(_in_scope(Cleaning, shops_in_scope)),
        Cleaning.cleaned_on,
        args,
        is_date=True,
    )
    for c, name in db.session.execute(statement.order_by(Cleaning.id).execution_options(yield_per=CHUNK)):
        yield [
            c.id,
            c.shop_id,
            name,
            c.cleaned_on,
            "、".join(c.parts),
            "自行清洗" if c.performed_by == "self" else "清洗公司",
            c.company_name,
            c.note,
            c.received_at,
            "是" if c.late_entry else "否",
            c.supersedes_id,
            c.superseded_by_id,
            c.correction_reason,
        ]


CLEANING_HEADERS = [
    "记录ID",
    "店铺ID",
    "店铺名称",
    "清洗日期",
    "清洗部位",
    "清洗方式",
    "清洗公司",
    "备注",
    "提交时间",
    "补录",
    "更正自",
    "被更正为",
    "更正原因",
]


def handover_rows(shops_in_scope, args):
    statement = _period(
        select(Handover, Shop.name).join(Shop, Shop.id == Handover.shop_id).where(_in_scope(Handover, shops_in_scope)),
        Handover.handed_over_at,
        args,
    )
    for h, name in db.session.execute(statement.order_by(Handover.id).execution_options(yield_per=CHUNK)):
        yield [
            h.serial,
            h.version,
            h.shop_id,
            name,
            h.handed_over_at,
            h.waste_type,
            h.bins,
            h.declared_kg,
            h.weighed_kg,
            h.collector_company_id,
            h.vehicle_plate,
            h.status,
            h.reject_reason,
            h.received_at,
            "是" if h.late_entry else "否",
            "是" if h.superseded_by_id else "否",
        ]


HANDOVER_HEADERS = [
    "联单编号",
    "版本",
    "店铺ID",
    "店铺名称",
    "交接时间",
    "类型",
    "桶数",
    "申报公斤",
    "称重公斤",
    "收运单位ID",
    "车牌",
    "状态",
    "拒绝原因",
    "提交时间",
    "补录",
    "已被更正",
]


def inspection_rows(shops_in_scope, args):
    statement = _period(
        select(Inspection, Shop.name)
        .join(Shop, Shop.id == Inspection.shop_id)
        .where(_in_scope(Inspection, shops_in_scope)),
        Inspection.inspected_at,
        args,
    )
    for i, name in db.session.execute(statement.order_by(Inspection.id).execution_options(yield_per=CHUNK)):
        failed = db.session.scalars(
            select(InspectionItem.code).where(InspectionItem.inspection_id == i.id, InspectionItem.result == "fail")
        ).all()
        yield [
            i.id,
            i.shop_id,
            name,
            i.inspected_at,
            i.inspector_id,
            i.co_inspector_id,
            i.distance_m,
            "是" if i.far_from_shop else "否",
            "、".join(failed),
            i.note,
            "是" if i.voided_at else "否",
            i.void_reason,
            "是" if i.late_entry else "否",
        ]


INSPECTION_HEADERS = [
    "检查ID",
    "店铺ID",
    "店铺名称",
    "检查时间",
    "执法人员ID",
    "协同人员ID",
    "距店铺(米)",
    "距离偏远",
    "不合格项",
    "备注",
    "已作废",
    "作废原因",
    "补录",
]


def negative_rows(shops_in_scope, args):
    """负面清单: shops with an overdue rectification order or an open case."""
    day = today()
    overdue_order = compliance.order_overdue(Rectification.status, Rectification.deadline, day)
    overdue = select(Rectification.shop_id).where(overdue_order)
    cases = select(Case.shop_id).where(Case.status != "closed")
    statement = shops_in_scope.where(Shop.id.in_(overdue.union(cases).subquery().select()))
    for shop in db.session.scalars(statement.execution_options(yield_per=CHUNK)):
        orders = db.session.scalars(
            select(Rectification).where(Rectification.shop_id == shop.id, overdue_order)).all()
        open_cases = db.session.scalars(select(Case).where(Case.shop_id == shop.id, Case.status != "closed")).all()
        yield [
            shop.id,
            shop.name,
            shop.uscc,
            shop.address,
            shop.district_code,
            len(orders),
            min((o.deadline for o in orders), default=None),
            len(open_cases),
            "、".join(c.external_case_no or f"#{c.id}" for c in open_cases),
        ]


NEGATIVE_HEADERS = [
    "店铺ID",
    "店铺名称",
    "统一社会信用代码",
    "地址",
    "区县代码",
    "逾期整改数",
    "最早整改期限",
    "未结案件数",
    "案件编号",
]

KINDS = {
    "compliance": (COMPLIANCE_HEADERS, compliance_rows, "合规清单"),
    "cleanings": (CLEANING_HEADERS, cleaning_rows, "清洗记录台账"),
    "handovers": (HANDOVER_HEADERS, handover_rows, "联单台账"),
    "inspections": (INSPECTION_HEADERS, inspection_rows, "检查记录台账"),
    "negative-list": (NEGATIVE_HEADERS, negative_rows, "负面清单"),
}


# --- writers ---------------------------------------------------------------------------------


def _csv_time(value):
    return to_shanghai(value).isoformat(" ", "seconds")[:19]


# What needs converting before the csv module writes a cell (by exact type: this runs for every
# cell); anything else it writes as str() gives it, None as empty.
_CSV_TEXT = {str: safe_text, dt.datetime: _csv_time, dt.date: dt.date.isoformat}


def _csv_row(row):
    """Text escaped against formulas, times in Asia/Shanghai, dates as ISO dates."""
    text = _CSV_TEXT.get
    return [convert(value) if (convert := text(type(value))) else value for value in row]


def csv_stream(headers, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush():
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return data.encode("utf-8")

    writer.writerow(headers)
    yield b"\xef\xbb\xbf" + flush()
    for count, row in enumerate(rows, start=1):
        writer.writerow(_csv_row(row))
        if count % 500 == 0:
            yield flush()
    yield flush()


def xlsx_file(headers, rows, title):
    """Write the rows to a temporary .xlsx (constant memory) and return its path."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    book = xlsxwriter.Workbook(
        path,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    sheet = book.add_worksheet(title[:31])
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    time_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.freeze_panes(1, 0)
    for col, header in enumerate(headers):
        sheet.set_column(col, col, max(10, min(40, len(header) * 2 + 4)))
        sheet.write_string(0, col, header, bold)
    row_number = 0
    for row_number, row in enumerate(rows, start=1):
        if row_number >= XLSX_MAX_ROWS:
            sheet.write_string(row_number, 0, f"超过 {XLSX_MAX_ROWS} 行，已截断；完整数据请导出 CSV")
            break
        for col, value in enumerate(row):
            value = _cell(value)
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(row_number, col, value, time_format)
            elif isinstance(value, dt.date):
                sheet.write_datetime(row_number, col, dt.datetime.combine(value, dt.time()), date_format)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                sheet.write_number(row_number, col, value)
            else:
                sheet.write_string(row_number, col, str(value))
    book.close()
    return path


def file_stream(path, chunk=64 * 1024):
    try:
        with open(path, "rb") as handle:
            while data := handle.read(chunk):
                yield data
    finally:
        os.unlink(path)


def export(user, kind, fmt, args):
    """Audit the export, then return (generator of bytes, filename)."""
    headers, rows, title = KINDS[kind]
    # Resolved now: the caller's scope is fixed before the stream starts (the user object is not
    # used while streaming).
    shops_in_scope = _shops(user, args)
    filters = {("from" if k == "from_" else k): str(v) for k, v in args.items()}
    audit.record("export", "export", None, f"导出{title}（{fmt.upper()}），条件 {filters or '无'}")
    db.session.commit()
    filename = f"{kind}-{today():%Y%m%d}.{fmt}"

    def generate():
        with read_only():  # a long read must not hold SQLite's write lock
            if fmt == "csv":
                yield from csv_stream(headers, rows(shops_in_scope, args))
            else:
                yield from file_stream(xlsx_file(headers, rows(shops_in_scope, args), title))
        db.session.rollback()

    return generate(), filename, title
