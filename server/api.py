"""flask-smorest's Api and Blueprint, taught our conventions.

- Errors are documented (and rendered) in the one error shape.
- Query strings are validated like JSON bodies: an unknown parameter is refused (422)
  instead of ignored, so a misspelt filter never silently widens a list or an export.
- ``<int:...>`` in a path is an id, 1 … 2³¹−1 (PostgreSQL's integer): a larger number names
  nothing (404) and never reaches the database (schemathesis found a 500 there).
- A JSON body nested deeper than :data:`MAX_JSON_DEPTH`, or holding a lone UTF-16 surrogate
  (``"\ud800"``, which no database can store), is a 400 before any view sees it.
"""
import re
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.routing import IntegerConverter

from server.errors import ErrorSchema, fail, handle_http_exception
from server.validators import MAX_ID


class IdConverter(IntegerConverter):
    """The ``int`` converter with the bounds of an id (documented as minimum/maximum)."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class Api(_Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return handle_http_exception(error)


MAX_JSON_DEPTH = 32  # our deepest body (an inspection's items' photo ids) is 3 levels
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_json(value):
    """Refuse what json.loads accepts but nothing after it can handle (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            fail(400, f"JSON 嵌套层数过多（上限 {MAX_JSON_DEPTH} 层）")
        if isinstance(item, str):
            if LONE_SURROGATE.search(item):
                fail(400, "提交的文本含有无效字符（孤立的 UTF-16 代理项 \\ud800–\\udfff）")
        elif isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


class _StrictParser(FlaskParser):
    # None = follow the schema's Meta.unknown (RAISE for StrictSchema).
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None,
                                   "querystring": None}
    # "multipart": form fields and files of one multipart body, read by one schema, so the
    # OpenAPI document shows a single multipart/form-data request body (as wx.uploadFile sends).
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)

    def _raw_load_json(self, req):
        try:
            value = super()._raw_load_json(req)
        except RecursionError:  # json.loads recurses once per level: thousands of [ exhaust the stack
            fail(400, f"JSON 嵌套层数过多（上限 {MAX_JSON_DEPTH} 层）")
        _check_json(value)
        return value


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = _StrictParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**_Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}

    def arguments(self, schema, *args, **kwargs):
        """As flask-smorest's, with a schema class made an instance once: webargs would instantiate
        the class on every request (a deep copy of its fields, 0.15–0.2 ms a request)."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)
