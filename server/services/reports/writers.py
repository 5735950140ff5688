"""Writing rows as CSV or XLSX, streamed.

CSV streams as it is produced (UTF-8 with BOM, so Excel/WPS open it).  XLSX is written to a
temporary file and then streamed (a zip cannot be sent before it is finished): by
rustpy-xlsxwriter (the Rust engine by XlsxWriter's author, rows from a generator in constant
memory, 8× faster on the 50,000-shop list) where its wheel is installed, else by XlsxWriter in
constant-memory mode; both give the same cells.  Text that a spreadsheet would run as a formula is
escaped in both formats; times are Asia/Shanghai; a text longer than a cell holds is cut with a
note, a NaN or infinite number is left empty.
"""
import csv
import datetime as dt
import io
import itertools
import json
import math
import os
import tempfile

import xlsxwriter

from server.clock import to_shanghai

try:
    import rustpy_xlsxwriter
except ImportError:  # no wheel for this platform: XlsxWriter writes the same cells, slower
    rustpy_xlsxwriter = None

XLSX_MAX_ROWS = 1_000_000
CELL_MAX_CHARS = 32_767  # Excel's limit; rustpy-xlsxwriter aborts past it
CUT_NOTE = "…（超出单元格上限，已截断）"
TRUNCATED = f"超过 {XLSX_MAX_ROWS} 行，已截断；完整数据请导出 CSV"
DATE_FORMAT, TIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Neutralise spreadsheet formulas: a leading = + - @ (or tab/CR) gets a quote in front."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _cell(value):
    """One value as an XLSX cell: Shanghai wall time, formulas escaped, within a cell's limits."""
    if isinstance(value, dt.datetime):
        return to_shanghai(value).replace(tzinfo=None)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str) and len(value) > CELL_MAX_CHARS:
        value = value[:CELL_MAX_CHARS - len(CUT_NOTE)] + CUT_NOTE
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


# The human file opens with its title, what was asked for and when it was made; the header row follows
# them, frozen, with Excel's filter over it.
PREAMBLE_ROWS = 3
HEADER_ROW = PREAMBLE_ROWS


def xlsx_file(headers, rows, title, preamble=()):
    """Write the rows to a temporary .xlsx (constant memory): ``(path, rows written)``.  ``preamble``:
    the lines above the header (the title, the filters, the generation time), each on its own row."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    write = _rust_xlsx if rustpy_xlsxwriter is not None else _xlsxwriter_xlsx
    lines = (list(preamble) + [""] * PREAMBLE_ROWS)[:PREAMBLE_ROWS] if preamble else [title, "", ""]
    return path, write(path, headers, rows, title, lines)


def _limited(rows, counted):
    """The rows up to the XLSX limit (``counted[0]``: how many), then the note saying so."""
    for number, row in enumerate(rows, start=1):
        if number >= XLSX_MAX_ROWS:
            yield None
            return
        counted[0] = number
        yield row


def _width(header):
    return max(10, min(40, len(header) * 2 + 4))


def _rust_xlsx(path, headers, rows, title, lines):
    counted = [0]
    first = []  # the first rows, read ahead to learn which columns hold dates (they need a format)
    source = _limited(rows, counted)
    for row in source:
        first.append(row)
        if len(first) >= 2000 or row is None:
            break
    if not first:  # no records, so no header either: the plain writer writes the header row alone
        return _xlsxwriter_xlsx(path, headers, iter(()), title, lines)
    dates = {i for row in first if row is not None for i, v in enumerate(row)
             if isinstance(v, dt.date) and not isinstance(v, dt.datetime)}

    def records():
        for row in itertools.chain(first, source):
            if row is None:
                yield {headers[0]: TRUNCATED}
                return
            record = {}
            for header, value in zip(headers, row):
                value = _cell(value)
                if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                    value = dt.datetime.combine(value, dt.time())
                record[header] = value
            yield record

    formats = [rustpy_xlsxwriter.Format().set_num_format(DATE_FORMAT) if i in dates else None
               for i in range(len(headers))]
    header_format = rustpy_xlsxwriter.Format().set_bold().set_background_color("#DDEBF7")
    title_format = rustpy_xlsxwriter.Format().set_bold().set_font_size(14)
    last = max(len(headers) - 1, 1)
    banners = [(row, 0, row, last, safe_text(text), title_format if row == 0 else None)
               for row, text in enumerate(lines)]
    banners = [banner if banner[5] is not None else banner[:5] for banner in banners]
    (rustpy_xlsxwriter.FastExcel(path).format(datetime_format=TIME_FORMAT).freeze(row=HEADER_ROW + 1)
     .sheet(title[:31], records(), column_formats=formats, header_format=header_format,
            column_widths=[_width(h) for h in headers], header_row=HEADER_ROW, merge_ranges=banners,
            autofilter=True)
     .save())
    return counted[0]


def _xlsxwriter_xlsx(path, headers, rows, title, lines):
    book = xlsxwriter.Workbook(
        path,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    sheet = book.add_worksheet(title[:31])
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    date_format = book.add_format({"num_format": DATE_FORMAT})
    time_format = book.add_format({"num_format": TIME_FORMAT})
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    title_format = book.add_format({"bold": True, "font_size": 14})
    last = max(len(headers) - 1, 1)
    for row, text in enumerate(lines):
        sheet.merge_range(row, 0, row, last, safe_text(text), title_format if row == 0 else None)
    for col, header in enumerate(headers):
        sheet.set_column(col, col, _width(header))
        sheet.write_string(HEADER_ROW, col, header, bold)
    counted = [0]
    row_number = HEADER_ROW
    for row_number, row in enumerate(_limited(rows, counted), start=HEADER_ROW + 1):
        if row is None:
            sheet.write_string(row_number, 0, TRUNCATED)
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
    sheet.autofilter(HEADER_ROW, 0, max(row_number, HEADER_ROW), len(headers) - 1)
    book.close()
    return counted[0]


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


def geojson_stream(rows, areas=(), batch=500):
    """``(shop row, compliance)`` pairs as a FeatureCollection, streamed a few hundred at a time; the
    ``areas`` (districts with a boundary) first."""
    yield b'{"type":"FeatureCollection","features":['
    parts = [f'{{"type":"Feature","id":{json.dumps("district:" + area.code)},"geometry":{area.boundary},'
             f'"properties":{json.dumps({"layer": "district", "code": area.code, "name": area.name}, ensure_ascii=False)}}}'
             for area in areas]
    first = True
    for row, compliance in rows:
        parts.append(json.dumps(_feature(row, compliance), ensure_ascii=False, separators=(",", ":")))
        if len(parts) == batch:
            yield (("" if first else ",") + ",".join(parts)).encode("utf-8")
            parts, first = [], False
    if parts:
        yield (("" if first else ",") + ",".join(parts)).encode("utf-8")
    yield b"]}"
