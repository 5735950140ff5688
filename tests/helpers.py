"""Plain helpers the tests share (fixtures live in conftest.py)."""
import contextlib

from sqlalchemy import event

from server.extensions import db


@contextlib.contextmanager
def count_statements():
    """Count the SQL statements the database receives inside the block: ``with ... as seen``,
    then ``len(seen)`` (``seen`` lists them, for a failing assertion to show)."""
    seen = []
    engine = db.engine

    def note(_conn, _cursor, statement, _parameters, _context, _many):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
