"""Regulator exports: the compliance list, ledgers and the negative list, as CSV or XLSX.

What each kind holds is in :mod:`ledgers`; how rows become a file in :mod:`writers`.  Memory
stays flat however many rows.  Phone numbers are masked.  Every export is audited.
"""
from server.clock import today
from server.database import read_only
from server.extensions import db
from server.models.shop import Shop
from server.services import audit, scope
from server.services.reports import writers
from server.services.reports.ledgers import KINDS


def _shops(user, args):
    statement = scope.shops_visible_to(user).order_by(Shop.id)
    if "district_code" in args:
        statement = statement.where(Shop.district_code == args["district_code"])
    return statement


def export(user, kind, fmt, args):
    """Audit the export, then return (generator of bytes, filename)."""
    ledger = KINDS[kind]
    title = ledger.title
    # Resolved now: the caller's scope is fixed before the stream starts (the user object is not
    # used while streaming).
    shops_in_scope = _shops(user, args)
    filters = {("from" if k == "from_" else k): str(v) for k, v in args.items()}
    audit.record("export", "export", None, f"导出{title}（{fmt.upper()}），条件 {filters or '无'}")
    db.session.commit()
    filename = f"{kind}-{today():%Y%m%d}.{fmt}"

    def generate():
        with read_only():  # a long read must not hold SQLite's write lock
            rows = ledger.rows(shops_in_scope, args)
            if fmt == "csv":
                yield from writers.csv_stream(ledger.headers, rows)
            else:
                yield from writers.file_stream(writers.xlsx_file(ledger.headers, rows, title))
        db.session.rollback()

    return generate(), filename, title
