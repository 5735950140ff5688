"""Regulator exports: the compliance list, ledgers and the negative list as CSV or XLSX, and the
shops as GeoJSON.

What each kind holds is in :mod:`ledgers`; how rows become a file in :mod:`writers`.  Memory
stays flat however many rows.  Phone numbers are masked.  Every export is audited and carries a
signed receipt (:mod:`receipts`) of exactly the bytes served.
"""
from server.clock import to_shanghai, today, utcnow
from server.database import read_only, writing
from server.extensions import db
from server.geo import haversine_m
from server.labels import LABELS, label
from server.models.shop import Shop
from server.services import audit, compliance, scope
from server.services.reports import receipts, writers
from server.services.reports.casework import COMPLAINTS, HOTLINE
from server.services.reports.ledgers import KINDS
from server.services.roster import reference
from server.services.roster.listing import filtered


def _shops(user, args):
    """The shops in scope that pass the roster filters (district, status, claimed, q)."""
    return filtered(user, args)[0]


def _districts(user, args):
    """The district codes in the caller's scope (narrowed by ``district_code``)."""
    codes = user.jurisdiction if user.jurisdiction is not None else scope.known_district_codes()
    return [code for code in codes if args.get("district_code") in (None, code)]


ALL_KINDS = {**KINDS, "complaints": COMPLAINTS, "hotline-cases": HOTLINE}


# Filters whose values are codes, and the kind of label each takes.
CODED_FILTERS = {"purifier_status": "purifier_status", "waste_status": "waste_status", "flag": "flag",
                 "status": "shop_status", "grade": "grade", "district_code": "district"}


def preamble(user, title, args):
    """The lines above a human file's header: its title, the filters in words, who made it and when."""
    districts = {d.code: d.name for d in reference.districts()}
    words = []
    for key, value in args.items():
        name = "from" if key == "from_" else key
        kind = CODED_FILTERS.get(name)
        if kind == "district":
            value = f"{districts.get(value, value)}（{value}）"
        elif kind and value in LABELS[kind]:
            value = label(kind, value)
        elif isinstance(value, bool):
            value = "是" if value else "否"
        words.append(f"{LABELS['filter_field'].get(name, name)}：{value}")
    scope_text = "全市" if user.jurisdiction is None else "、".join(districts.get(c, c) for c in user.jurisdiction)
    return [f"{title}（{scope_text}）", "筛选条件：" + ("；".join(words) if words else "无（全部）"),
            f"生成时间：{to_shanghai(utcnow()):%Y-%m-%d %H:%M}（北京时间） · 导出人：{user.display_name or user.username}"]


def _filters(args):
    return {("from" if k == "from_" else k): str(v) for k, v in args.items()}


def _open(user, kind, fmt, title, args):
    """Audit the export and open its receipt, committed before the first byte."""
    filters = _filters(args)
    with writing(db.session):  # a GET that writes: the audit chain's head is read under the write lock
        audit.record("export", "export", None, f"导出{title}（{receipts.FORMATS[fmt]}），条件 {filters or '无'}")
        receipt = receipts.start(user, kind, fmt, filters)
        db.session.commit()
        return receipt.id


def _streamed(user, receipt_id, write):
    """The file's bytes as a signed stream: ``write(tally)`` yields them, counting its rows with
    ``tally``, inside a read that never holds SQLite's write lock."""
    tally = receipts.Tally()

    def generate():
        with read_only():
            yield from write(tally)
        db.session.rollback()

    return receipts.signed(user, receipt_id, generate(), tally)


def export(user, kind, fmt, args):
    """Return (generator of bytes, filename, title, receipt id)."""
    ledger = ALL_KINDS[kind]
    title = ledger.title
    # Resolved now: the caller's scope is fixed before the stream starts (the user object is not
    # used while streaming).
    shops_in_scope = _districts(user, args) if ledger.scope == "districts" else _shops(user, args)
    receipt_id = _open(user, kind, fmt, title, args)
    lines = preamble(user, title, args)

    def write(tally):
        rows = tally.count(ledger.rows(shops_in_scope, args))
        if fmt == "csv":
            yield from writers.csv_stream(ledger.headers, rows)
        else:
            path, tally.rows = writers.xlsx_file(ledger.headers, rows, title, lines)
            yield from writers.file_stream(path)

    return _streamed(user, receipt_id, write), f"{kind}-{today():%Y%m%d}.{fmt}", title, receipt_id


def geojson(user, args):
    """The shops (the ``/shops`` filters) as an RFC 7946 FeatureCollection: (generator, receipt id)."""
    statement, near = filtered(user, args)
    wanted = {key: args[key] for key in compliance.FILTERS if key in args}
    statement = statement.with_only_columns(*compliance.SHOP_COLUMNS, Shop.name, Shop.lat, Shop.lng)
    asked = {key: value for key, value in args.items() if (key != "radius_m" or near) and (key != "districts" or value)}
    receipt_id = _open(user, "shops", "geojson", "店铺地图", asked)
    areas = _areas(user, args.get("district_code")) if args.get("districts") else []

    def features():
        for row, graded in compliance.graded(statement, wanted=wanted):
            if near and haversine_m(near[0], near[1], row.lat, row.lng) > near[2]:
                continue
            yield row, graded

    return _streamed(user, receipt_id, lambda tally: writers.geojson_stream(tally.count(features()), areas)), receipt_id


def _areas(user, district_code):
    """The boundaries of the districts ``user`` sees (one, when the export is of one)."""
    return [district for district in reference.districts(with_boundary=True)
            if district.boundary and user.covers(district.code) and district_code in (None, district.code)]
