"""Exports a person reads: every coded column of every CSV/XLSX ledger in Chinese words, names beside
codes and ids, and an XLSX that opens with its title, its filters in words, when and by whom it was made,
a frozen header and a filter over it — read back with openpyxl."""
import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from server.services.reports import ledgers


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


# The columns of each human file whose values are codes in the database: each must read in Chinese.
CODED = {"compliance": ["区县", "营业状态", "净化设施状态", "餐厨废弃物状态", "原因"],
         "cleanings": ["清洗部位", "清洗方式"], "handovers": ["类型", "状态", "发起方", "收运单位"],
         "inspections": ["执法人员", "不合格项"], "negative-list": ["区县"],
         "complaints": ["类别", "区县", "状态"], "hotline-cases": ["区县", "状态", "预警"]}
CODE_WORD = re.compile(r"^[a-z][a-z_]*$")


@pytest.fixture
def ledger_city(app, city, client, login_as):
    """Every kind of record in 任城区, made as the records are stored (the API's paths are tested elsewhere)."""
    from server.clock import utcnow
    shops = [city.shop(n + 1) for n in range(3)]
    hour = dt.timedelta(hours=1)
    city.cleaning(shops[0], utcnow().date())
    city.slip(shops[0], utcnow() - hour, kg=40, received=utcnow())
    city.slip(shops[1], utcnow() - 2 * hour, status="disputed", kg=95, declared=40, received=utcnow())
    city.inspection(shops[2], utcnow() - hour, fails=["P1", "W2"], deadline=utcnow().date() - dt.timedelta(days=3))
    city.save()
    _, regulator = login_as("regulator", jurisdiction=["370811"], name="李监管")
    _, citizen = login_as()
    assert client.post("/api/v1/complaints", headers=citizen, json={
        "category": "waste_dumping", "description": "后巷乱倒泔水", "lat": 35.4152, "lng": 116.5872}).status_code == 201
    assert client.post("/api/v1/cases", headers=regulator, json={
        "source": "hotline", "external_case_no": "12345-1", "district_code": "370811",
        "received_at": (utcnow() - dt.timedelta(days=20)).isoformat(), "summary": "油烟扰民", "note": "派单"}).status_code == 201
    return regulator


@pytest.mark.parametrize("kind", sorted(CODED))
def test_every_coded_column_of_every_ledger_reads_in_chinese(client, ledger_city, kind):
    from server.clock import today
    query = "" if kind == "compliance" else f"?from={today() - dt.timedelta(days=30)}&to={today()}"
    rows = csv_rows(client.get(f"/api/v1/exports/{kind}.csv{query}", headers=ledger_city))
    assert len(rows) > 1, (kind, rows)
    header, body = rows[0], rows[1:]
    for column in CODED[kind]:
        values = [row[header.index(column)] for row in body]
        assert any(values), (kind, column)  # the city fills it somewhere
        for value in values:
            parts = re.split(r"[、；：，（）]", value)
            assert not [p for p in parts if CODE_WORD.match(p.strip())], (kind, column, value)
    response = client.get(f"/api/v1/exports/{kind}.xlsx{query}", headers=ledger_city)
    sheet = load_workbook(io.BytesIO(response.data)).active
    lines = [sheet.cell(row, 1).value for row in (1, 2, 3)]
    assert lines[0].startswith(ledgers.KINDS[kind].title if kind in ledgers.KINDS else "") and "任城区" in lines[0]
    assert lines[1].startswith("筛选条件：") and ("开始日期" in lines[1] or kind == "compliance")
    assert "生成时间" in lines[2] and "李监管" in lines[2]
    xlsx = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert xlsx[0] == header and len(xlsx) == len(rows)


def test_the_filters_line_names_the_filters_in_chinese(client, ledger_city):
    response = client.get("/api/v1/exports/compliance.xlsx?grade=C&district_code=370811&purifier_status=ok",
                          headers=ledger_city)
    line = load_workbook(io.BytesIO(response.data)).active["A2"].value
    assert "等级：C 级" in line and "区县：任城区（370811）" in line and "净化设施：正常" in line, line
