"""flask-smorest's Api, taught our one error shape for the OpenAPI document."""
from flask_smorest import Api as _Api

from server.errors import ErrorSchema, handle_http_exception


class Api(_Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return handle_http_exception(error)


api = Api()
