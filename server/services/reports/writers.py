"""Writing rows as CSV or XLSX, streamed.

CSV streams as it is produced (UTF-8 with BOM, so Excel/WPS open it).  XLSX is written by
XlsxWriter in constant-memory mode to a temporary file and then streamed (a zip cannot be sent
before it is finished).  Text that a spreadsheet would run as a formula is escaped in both;
times are Asia/Shanghai.
"""
import csv
import datetime as dt
import io
import json
import os
import tempfile

import xlsxwriter

from server.clock import to_shanghai

XLSX_MAX_ROWS = 1_000_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Neutralise spreadsheet formulas: a leading = + - @ (or tab/CR) gets a quote in front."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _cell(value):
    if isinstance(value, dt.datetime):
        return to_shanghai(value).replace(tzinfo=None)
    return safe_text(value)


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
    """Write the rows to a temporary .xlsx (constant memory): ``(path, rows written)``."""
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
    row_number, written = 0, 0
    for row_number, row in enumerate(rows, start=1):
        if row_number >= XLSX_MAX_ROWS:
            sheet.write_string(row_number, 0, f"超过 {XLSX_MAX_ROWS} 行，已截断；完整数据请导出 CSV")
            break
        written = row_number
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
    return path, written


def file_stream(path, chunk=64 * 1024):
    try:
        with open(path, "rb") as handle:
            while data := handle.read(chunk):
                yield data
    finally:
        os.unlink(path)




def _feature(row, compliance):
    """One shop as a GeoJSON Feature: ``[lng, lat]`` WGS-84 (RFC 7946), never GCJ-02."""
    return {"type": "Feature", "id": row.id,
            "geometry": {"type": "Point", "coordinates": [round(row.lng, 7), round(row.lat, 7)]},
            "properties": {"id": row.id, "name": row.name, "district_code": row.district_code,
                           "grade": compliance["grade"], "purifier_status": compliance["purifier"]["status"],
                           "waste_status": compliance["waste"]["status"], "priority": compliance["priority"],
                           "flags": [flag["code"] for flag in compliance["flags"]]}}


def geojson_stream(rows, batch=500):
    """``(shop row, compliance)`` pairs as a FeatureCollection, streamed a few hundred at a time."""
    yield b'{"type":"FeatureCollection","features":['
    parts, first = [], True
    for row, compliance in rows:
        parts.append(json.dumps(_feature(row, compliance), ensure_ascii=False, separators=(",", ":")))
        if len(parts) == batch:
            yield (("" if first else ",") + ",".join(parts)).encode("utf-8")
            parts, first = [], False
    if parts:
        yield (("" if first else ",") + ",".join(parts)).encode("utf-8")
    yield b"]}"
