"""flask-smorest's Api and Blueprint, taught our conventions.

- Errors are documented (and rendered) in the one error shape.
- Query strings are validated like JSON bodies: an unknown parameter is refused (422)
  instead of ignored, so a misspelt filter never silently widens a list or an export.
- ``<int:...>`` in a path is an id, 1 … 2³¹−1 (PostgreSQL's integer): a larger number names
  nothing (404) and never reaches the database (schemathesis found a 500 there).
"""
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.routing import IntegerConverter

from server.errors import ErrorSchema, handle_http_exception
from server.validators import MAX_ID


class IdConverter(IntegerConverter):
    """The ``int`` converter with the bounds of an id (documented as minimum/maximum)."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class Api(_Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return handle_http_exception(error)


class _StrictParser(FlaskParser):
    # None = follow the schema's Meta.unknown (RAISE for StrictSchema).
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None,
                                   "querystring": None}
    # "multipart": form fields and files of one multipart body, read by one schema, so the
    # OpenAPI document shows a single multipart/form-data request body (as wx.uploadFile sends).
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = _StrictParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**_Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}
