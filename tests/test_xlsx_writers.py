"""Both XLSX writers (rustpy-xlsxwriter, and XlsxWriter where its wheel is missing) give the same
cells, read back by openpyxl: text, numbers, dates with a date format, times, formulas as text."""
import datetime as dt

import pytest
from openpyxl import load_workbook

from server.clock import UTC
from server.services.reports import writers

HEADERS = ["店铺ID", "名称", "清洗日期", "交接时间", "公斤", "说明"]
ROWS = [
    [1, "面馆", dt.date(2024, 3, 20), dt.datetime(2024, 3, 22, 1, 30, tzinfo=UTC), 12.5, "=HYPERLINK(\"x\")"],
    [2, "烧烤店", None, None, float("nan"), "+1"],
    [3, "x" * 40_000, dt.date(2099, 12, 31), dt.datetime(2000, 1, 1, tzinfo=UTC), 0, "@SUM(A1)"],
    [4, "-负数开头", dt.date(2024, 1, 1), None, float("inf"), None],
]


def read_back(path):
    book = load_workbook(path, read_only=True)
    sheet = book.worksheets[0]
    cells = [[(cell.value, cell.number_format if isinstance(cell.value, dt.datetime) else None) for cell in row]
             for row in sheet.iter_rows(min_row=writers.HEADER_ROW + 1)]  # below the title lines
    assert sheet.cell(1, 1).value == "清单"  # the title line above the header
    book.close()
    return cells


@pytest.mark.skipif(writers.rustpy_xlsxwriter is None, reason="rustpy-xlsxwriter has no wheel here: "
                    "pip install rustpy-xlsxwriter (Linux x86_64)")
def test_both_writers_give_the_same_cells(monkeypatch):
    rust_path, rust_rows = writers.xlsx_file(HEADERS, iter(ROWS), "清单")
    monkeypatch.setattr(writers, "rustpy_xlsxwriter", None)
    plain_path, plain_rows = writers.xlsx_file(HEADERS, iter(ROWS), "清单")
    rust, plain = read_back(rust_path), read_back(plain_path)
    assert rust_rows == plain_rows == 4
    assert rust == plain
    header, first, second, third, fourth = rust
    assert [value for value, _ in header] == HEADERS
    assert first[2] == (dt.datetime(2024, 3, 20), "yyyy-mm-dd")  # a date shows no time
    assert first[3] == (dt.datetime(2024, 3, 22, 9, 30), "yyyy-mm-dd hh:mm")  # Asia/Shanghai
    assert first[5][0] == "'=HYPERLINK(\"x\")" and second[5][0] == "'+1" and third[5][0] == "'@SUM(A1)"
    assert second[4][0] is None and fourth[4][0] is None  # NaN and infinity: empty
    assert len(third[1][0]) == writers.CELL_MAX_CHARS and third[1][0].endswith(writers.CUT_NOTE)
    assert fourth[1][0] == "'-负数开头"


def test_the_row_limit_leaves_a_note(monkeypatch):
    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 3)
    for engine in (writers.rustpy_xlsxwriter, None):
        monkeypatch.setattr(writers, "rustpy_xlsxwriter", engine)
        path, written = writers.xlsx_file(HEADERS, iter(ROWS), "清单")
        cells = read_back(path)
        assert written == 2 and len(cells) == 4 and "已截断" in cells[3][0][0]


def test_an_empty_list_still_has_its_header():
    path, written = writers.xlsx_file(HEADERS, iter(()), "清单")
    assert written == 0 and [value for value, _ in read_back(path)[0]] == HEADERS
