"""Importing the roster from CSV (UTF-8, BOM, GBK) and XLSX."""
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from server.extensions import db
from server.models import Shop
from tests.helpers import credit_code, error_of

HEADER = ["名称", "统一社会信用代码", "地址", "区县代码", "纬度", "经度", "基准灶头数", "街道", "联系人", "联系电话",
          "净化设施", "净化效率"]


def row(n, **changes):
    values = {"名称": f"导入饭店{n}", "统一社会信用代码": credit_code(5000 + n), "地址": f"济宁市任城区导入路{n}号",
              "区县代码": "370811", "纬度": "35.41", "经度": "116.58", "基准灶头数": "2", "街道": "",
              "联系人": "李四", "联系电话": "13900001111", "净化设施": "有", "净化效率": "70"}
    values.update(changes)
    return [values[h] for h in HEADER]


def csv_bytes(rows, header=HEADER, encoding="utf-8"):
    text = "\r\n".join(",".join(cells) for cells in [header, *rows]) + "\r\n"
    return text.encode(encoding)


def post(client, headers, data, filename="shops.csv"):
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename=filename)})
    return client.post("/api/v1/shops/import", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def regulator(login_as):
    return login_as("regulator", jurisdiction=["370811"])[1]


def shops_count():
    return db.session.scalar(select(func.count()).select_from(Shop))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_encoding_excel_produces(client, regulator, encoding):
    result = post(client, regulator, csv_bytes([row(1), row(2)], encoding=encoding)).get_json()
    assert result == {"created": 2, "skipped": 0, "existing": 0, "invalid": 0, "errors": [], "warnings": []}
    names = sorted(db.session.scalars(select(Shop.name)))
    assert names == ["导入饭店1", "导入饭店2"]
    shop = db.session.scalar(select(Shop).where(Shop.name == "导入饭店1"))
    assert shop.claimed_at is None and shop.source == "import" and shop.purifier_rated_efficiency == 70


def test_bad_rows_are_reported_with_line_numbers_and_good_rows_created(client, regulator):
    rows = [row(1), row(2, 统一社会信用代码="91350100M000100Y44"), row(3, 纬度="116.58", 经度="35.41"),
            row(4, 区县代码="370883"), row(5, 名称="=HYPERLINK(\"http://evil\")"), row(1), row(6, 净化设施="也许")]
    result = post(client, regulator, csv_bytes(rows)).get_json()
    assert result["created"] == 1 and result["skipped"] == 6
    assert result["existing"] == 1 and result["invalid"] == 5  # counted apart
    by_row = {e["row"]: e["message"] for e in result["errors"]}
    assert set(by_row) == {3, 4, 5, 6, 7, 8}
    assert "校验位" in by_row[3] and "填反" in by_row[4] and "辖区" in by_row[5]
    assert "公式" in by_row[6] and "已在名录中" in by_row[7] and "有" in by_row[8]
    assert "“统一社会信用代码”列" in by_row[3] and "uscc" not in by_row[3]  # the file's own header
    assert {e["row"]: e["kind"] for e in result["errors"]}[7] == "existing"


def test_xlsx_import_with_numbers_and_a_formula_cell(client, regulator):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["XLSX饭店", credit_code(7001), "济宁市任城区表格路1号", 370811, 35.41, 116.58, 6, None, "赵六",
                  13900002222, "有", 90])
    sheet.append(["公式饭店", credit_code(7002), "济宁市任城区表格路2号", "370811", 35.41, 116.58, "=1+1", None,
                  None, None, "无", None])
    buffer = io.BytesIO()
    book.save(buffer)
    result = post(client, regulator, buffer.getvalue(), "shops.xlsx").get_json()
    assert result["created"] == 1 and [e["row"] for e in result["errors"]] == [3]
    shop = db.session.scalar(select(Shop))
    assert (shop.name, shop.cooking_heads, shop.district_code) == ("XLSX饭店", 6, "370811")


def test_english_headers_are_accepted(client, regulator):
    header = ["name", "uscc", "address", "district_code", "lat", "lng", "cooking_heads"]
    data = csv_bytes([["英文表头饭店", credit_code(8001), "济宁市任城区英文路1号", "370811", "35.41", "116.58", "4"]],
                     header=header)
    assert post(client, regulator, data).get_json()["created"] == 1


@pytest.mark.parametrize("data,status", [
    (b"", 422),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 415),
    (b"PK\x03\x04not really a zip", 415),
    ("名称,地址\r\n饭店,路\r\n".encode(), 422),
    (csv_bytes([row(1)], header=HEADER[:-1] + ["神秘列"]), 422),
], ids=["empty", "png", "fake-xlsx", "missing-columns", "unknown-column"])
def test_files_that_are_not_a_roster_are_refused_and_nothing_written(client, regulator, data, status):
    error_of(post(client, regulator, data), status)
    assert shops_count() == 0


def test_50_mb_is_413(client, regulator):
    error_of(post(client, regulator, csv_bytes([row(1)]) + b"x" * (50 * 1024 * 1024)), 413)
    assert shops_count() == 0


def test_only_regulators_import(client, login_as):
    for role in ("user", "inspector"):
        _, headers = login_as(role)
        error_of(post(client, headers, csv_bytes([row(1)])), 403)
    assert shops_count() == 0


def test_ten_thousand_rows(client, regulator):
    result = post(client, regulator, csv_bytes([row(n) for n in range(10_000)])).get_json()
    assert result["created"] == 10_000 and result["errors"] == []
    assert shops_count() == 10_000


def test_a_crash_mid_import_leaves_nothing_half_imported(client, regulator, monkeypatch):
    from server.services.roster import shops
    real, calls = shops.new_shop, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(shops, "new_shop", failing)
    error_of(post(client, regulator, csv_bytes([row(n) for n in range(5)])), 500)
    assert shops_count() == 0
