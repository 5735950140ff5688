"""Exports: BOM and Chinese headers, XLSX equal to CSV, formula escaping, masking, scoping, disconnects."""
import csv
import dataclasses
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry
from server.services.reports import ledgers
from tests.helpers import error_of


@pytest.fixture
def city(client, frozen_clock, make_shop, login_as):
    mine, _, _ = make_shop(name="=HYPERLINK(\"http://evil\",\"点我\")", contact_phone="13812341234")
    other, _, _ = make_shop(name="+老王烧烤", contact_phone="13900001111")
    far, _, _ = make_shop(name="远方饭店", district_code="370883", lat=35.40, lng=116.97)
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    return {"ids": [mine["id"], other["id"]], "far": far["id"], "regulator": regulator}


def csv_rows(response):
    text = response.data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_compliance_csv_has_bom_chinese_headers_and_scope(client, city):
    response = client.get("/api/v1/exports/compliance.csv", headers=city["regulator"])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = csv_rows(response)
    assert rows[0][:3] == ["店铺ID", "店铺名称", "统一社会信用代码"] and "评级" in rows[0]
    assert sorted(int(r[0]) for r in rows[1:]) == city["ids"]  # 远方饭店 is outside the jurisdiction
    names = {r[1] for r in rows[1:]}
    assert names == {"'=HYPERLINK(\"http://evil\",\"点我\")", "'+老王烧烤"}
    phones = {r[rows[0].index("联系电话")] for r in rows[1:]}
    assert phones == {"138****1234", "139****1111"}


def test_xlsx_reads_back_with_the_same_rows_as_the_csv(client, city):
    csv_body = csv_rows(client.get("/api/v1/exports/compliance.csv", headers=city["regulator"]))
    response = client.get("/api/v1/exports/compliance.xlsx", headers=city["regulator"])
    assert response.status_code == 200 and response.data[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.freeze_panes == "A5"  # the title, filters and time, then the header row
    assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A4:")
    assert sheet["A1"].value.startswith("合规清单") and sheet["A2"].value.startswith("筛选条件")
    assert sheet["A3"].value.startswith("生成时间")
    values = [[("" if v is None else v) for v in row] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert values[0] == csv_body[0]
    assert len(values) == len(csv_body)
    for xlsx_row, csv_row in zip(values[1:], csv_body[1:]):
        assert xlsx_row[0] == int(csv_row[0]) and xlsx_row[1] == csv_row[1]  # a number either way
        assert xlsx_row[csv_body[0].index("评级")] == csv_row[csv_body[0].index("评级")]
    formulas = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_filters_and_grade(client, city):
    rows = csv_rows(client.get("/api/v1/exports/compliance.csv?grade=A", headers=city["regulator"]))
    assert rows[1:] == []
    rows = csv_rows(client.get("/api/v1/exports/compliance.csv?grade=C&district_code=370811",
                               headers=city["regulator"]))
    assert len(rows) == 3
    error_of(client.get("/api/v1/exports/compliance.csv?grade=Z", headers=city["regulator"]), 422)


@pytest.mark.parametrize("kind", ["cleanings", "handovers", "inspections", "negative-list"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_ledger_exports(client, city, kind, fmt):
    response = client.get(f"/api/v1/exports/{kind}.{fmt}?from=2024-01-01&to=2024-03-31", headers=city["regulator"])
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf" if fmt == "csv" else b"PK")


def test_exports_are_audited_and_for_regulators_only(client, city, login_as):
    client.get("/api/v1/exports/compliance.csv?grade=C", headers=city["regulator"])
    summaries = db.session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "export")).all()
    assert summaries and "grade" in summaries[0]
    _, inspector = login_as("inspector", jurisdiction=["370811"])
    error_of(client.get("/api/v1/exports/compliance.csv", headers=inspector), 403)
    error_of(client.get("/api/v1/exports/compliance.pdf", headers=city["regulator"]), 404)


def test_a_client_that_disconnects_stops_the_work(client, city, make_shop, monkeypatch):
    produced = []

    def counting(*args, **kwargs):
        for pair in ledgers.compliance_source(*args, **kwargs):
            produced.append(pair[0].id)
            yield pair

    monkeypatch.setattr(ledgers, "CHUNK", 1)
    monkeypatch.setitem(ledgers.KINDS, "compliance", dataclasses.replace(ledgers.COMPLIANCE, source=counting))
    response = client.get("/api/v1/exports/compliance.csv", headers=city["regulator"], buffered=False)
    stream = response.response
    first = next(iter(stream))
    assert first.startswith(b"\xef\xbb\xbf")
    response.close()  # the client hangs up after the header
    assert produced == []  # the header left at once; no row was computed for a client that is gone
