"""Import the roster from CSV (UTF-8 with or without BOM, or GBK/GB18030 as Excel in China
saves it) or XLSX.  Every row is checked with the registration rules; good rows become
unclaimed shops in one transaction (all or nothing on a crash); bad rows come back with their
line number (the header is row 1) and the reasons."""
import csv
import io
import zipfile

import marshmallow as ma
from sqlalchemy import select, tuple_

from server.errors import ApiError, fail
from server.extensions import db
from server.messages import flatten_messages
from server.models.shop import Shop
from server.schemas.shops import ShopInSchema
from server.services import audit, places
from server.services.roster import shops

MAX_ROWS = 50_000
# An XLSX is a zip: what it may inflate to, and the columns read (a sheet may declare A1:XFD1048576,
# which would pad every row to 16,384 cells).
MAX_INFLATED_BYTES = 64 * 1024 * 1024
MAX_COLUMNS = 40
HEADERS = {  # column header → field of POST /shops
    "名称": "name", "统一社会信用代码": "uscc", "地址": "address", "区县代码": "district_code",
    "纬度": "lat", "经度": "lng", "基准灶头数": "cooking_heads", "街道": "street", "联系人": "contact_name",
    "联系电话": "contact_phone", "净化设施": "purifier_installed", "净化效率": "purifier_rated_efficiency",
}
ENGLISH = {field: field for field in HEADERS.values()} | {"purifier_installed": "purifier_installed",
                                                          "rated_efficiency": "purifier_rated_efficiency",
                                                          "open_air_bbq": "open_air_bbq"}
REQUIRED = ("name", "uscc", "address", "district_code", "lat", "lng", "cooking_heads")
YES, NO = {"有", "是", "yes", "true", "1", "y"}, {"无", "否", "no", "false", "0", "n", ""}
_schema = ShopInSchema()


def _inflated_size(data):
    """What the zip's members declare they inflate to (zipfile never reads past a member's
    declared size, so this bounds the work)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        fail(415, "无法读取该 Excel 文件，请另存为 .xlsx 或 CSV（UTF-8）后再导入")


def _rows_from_xlsx(data):
    if _inflated_size(data) > MAX_INFLATED_BYTES:
        fail(413, f"Excel 文件解压后超过 {MAX_INFLATED_BYTES // 1024 // 1024} MB，请删除多余的工作表或另存为 CSV 后分批导入")
    from openpyxl import load_workbook  # on an upload only: 5 MB of every worker otherwise

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:
        fail(415, "无法读取该 Excel 文件，请另存为 .xlsx 或 CSV（UTF-8）后再导入")
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the declared dimension is the file's word, not a fact
        for row in sheet.iter_rows(max_col=MAX_COLUMNS, max_row=MAX_ROWS + 2):
            yield [("=FORMULA" if getattr(cell, "data_type", None) == "f" else cell.value) for cell in row]
    finally:
        workbook.close()


def _rows_from_csv(data):
    if b"\x00" in data[:4096]:
        fail(415, "文件不是 CSV 或 XLSX 表格")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        fail(415, "无法识别文件编码，请保存为 UTF-8 或 GBK 编码的 CSV")
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            why = f"有字段超过 {csv.field_size_limit()} 个字符" if "larger than field limit" in str(error) else "格式错误"
            fail(422, f"第 {reader.line_num} 行无法读取：{why}", fields={"file": [f"第 {reader.line_num} 行{why}"]})
        yield row


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


CHINESE = {field: header for header, field in HEADERS.items()} | {"purifier": "净化设施", "open_air_bbq": "露天烧烤",
                                                                  "rated_efficiency": "净化效率"}


def _columns(header):
    """The field of each column, and ``{field: the header as the file wrote it}`` (what a message names:
    a person fixes the column they see; an English header is named in Chinese too)."""
    columns, unknown, named = [], [], {}
    for name in header:
        name = _text(name)
        field = HEADERS.get(name) or ENGLISH.get(name)
        if name and field is None:
            unknown.append(name)
        columns.append(field)
        if field:
            named[field] = name if name in HEADERS else f"{CHINESE.get(field, name)}（{name}）"
    missing = [h for h, f in HEADERS.items() if f in REQUIRED and f not in columns]
    if unknown or missing:
        problems = (["缺少必需的列：" + "、".join(missing)] if missing else []) + (
            ["无法识别的列：" + "、".join(unknown)] if unknown else [])
        fail(422, "表头不正确：" + "；".join(problems), fields={"file": problems})
    return columns, named


def _row_to_body(columns, values):
    raw = {field: _text(value) for field, value in zip(columns, values) if field}
    if any(v.startswith(("=", "+", "@")) and k not in ("lat", "lng") for k, v in raw.items() if v):
        raise ValueError("单元格含公式或以 = + @ 开头，请粘贴为数值后再导入")
    body = {k: v for k, v in raw.items() if v and not k.startswith("purifier_")}
    installed = raw.get("purifier_installed", "").lower()
    if installed not in YES | NO:
        raise ValueError("净化设施应填“有”或“无”")
    body["purifier"] = {"installed": installed in YES}
    if raw.get("purifier_rated_efficiency"):
        body["purifier"]["rated_efficiency"] = raw["purifier_rated_efficiency"].rstrip("%")
    if "open_air_bbq" in body:
        body["open_air_bbq"] = body["open_air_bbq"].lower() in YES
    return body


def _reason(messages, named):
    """Each problem named by the file's own column header."""
    def column(field):
        top = field.split(".")[0]
        return named.get(field) or named.get(top) or named.get(f"purifier_{field.split('.')[-1]}") \
            or CHINESE.get(top, field)
    return "；".join(f"“{column(field)}”列：{'、'.join(reasons)}" for field, reasons in flatten_messages(messages).items())


def import_file(user, file):
    data = file.read()
    if not data:
        fail(422, "文件是空的", fields={"file": ["文件为空"]})
    rows = _rows_from_xlsx(data) if data[:4] == b"PK\x03\x04" else _rows_from_csv(data)
    try:
        header = next(rows)
    except StopIteration:
        fail(422, "文件是空的", fields={"file": ["文件为空"]})
    columns, named = _columns(header)
    good, errors = [], []
    for number, values in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            fail(422, f"单次最多导入 {MAX_ROWS} 行，请分批导入")
        if not any(_text(v) for v in values):
            continue
        try:
            body = _schema.load(_row_to_body(columns, values))
            shops.validate_profile(body)
            if not user.covers(body["district_code"]):
                raise ValueError(f"区县 {body['district_code']} 不在您的辖区内")
        except ma.ValidationError as exc:
            errors.append({"row": number, "message": _reason(exc.messages, named), "kind": "invalid"})
            continue
        except ApiError as exc:
            errors.append({"row": number, "message": _reason(exc.fields or {}, named) or exc.description,
                           "kind": "invalid"})
            continue
        except ValueError as exc:
            errors.append({"row": number, "message": str(exc), "kind": "invalid"})
            continue
        good.append((number, body))
    created, warnings = _create(user, good, errors)
    # skipped = every row not created: invalid ones and those already on the roster (both listed in errors,
    # each with its kind, and counted apart)
    existing = sum(error["kind"] == "existing" for error in errors)
    return {"created": created, "skipped": len(errors), "existing": existing, "invalid": len(errors) - existing,
            "errors": sorted(errors, key=lambda e: e["row"]), "warnings": warnings}


def _create(user, good, errors):
    keys = {(b["uscc"], shops.address_key(b["address"])) for _, b in good}
    existing = set()
    key_list = list(keys)
    for start in range(0, len(key_list), 500):
        chunk = key_list[start:start + 500]
        existing |= set(db.session.execute(select(Shop.uscc, Shop.address_key).where(
            tuple_(Shop.uscc, Shop.address_key).in_(chunk))).all())
    seen, new, rows = set(), [], []
    for number, body in good:
        key = (body["uscc"], shops.address_key(body["address"]))
        if key in existing or key in seen:
            errors.append({"row": number, "message": "该店铺已在名录中（统一社会信用代码与地址相同），已跳过",
                           "kind": "existing"})
            continue
        seen.add(key)
        new.append(shops.new_shop(body, source="import", created_by=user))
        rows.append(number)
    db.session.add_all(new)
    db.session.flush()
    # Imported all the same: the district's staff correct the district or the point (console 区县边界).
    warnings = [{"row": number, **warning} for number, shop in zip(rows, new) for warning in places.shop_warnings(shop)]
    for shop in new:
        audit.record("shop.import", "shop", shop.id, f"导入店铺 {shop.name}（待认领）", shop_id=shop.id)
    audit.record("shop.import_file", "shop", None, f"导入名录：新增 {len(new)} 家，跳过或有误 {len(errors)} 行")
    db.session.commit()
    return len(new), warnings
