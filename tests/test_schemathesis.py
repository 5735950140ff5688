"""Property-based fuzzing of the API against its own OpenAPI document (schemathesis), as a shop
member and as a regulator: no request may cause a 5xx, and every answer must match its schema."""
import os
import warnings

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import DataGenerationMethod
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from tests.helpers import upload_photo

# Bounded for CI; a deeper run: SCHEMATHESIS_EXAMPLES=200 pytest tests/test_schemathesis.py
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", 12))
# schemathesis 3.x uses jsonschema's deprecated RefResolver.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def app_config(app_config):
    # Fuzzing writes quickly as one user: the rate limit is tested elsewhere.
    return dict(app_config, RATE_LIMIT_WRITES_PER_MINUTE=0, RATE_LIMIT_EXPORTS_PER_HOUR=0)


@pytest.fixture
def api_schema(app):
    # Valid requests (must succeed or be refused cleanly) and invalid ones (must be refused cleanly).
    return schemathesis.from_wsgi("/api/v1/openapi.json", app, data_generation_methods=[
        DataGenerationMethod.positive, DataGenerationMethod.negative])


with warnings.catch_warnings():  # schemathesis 3.39 warns about arguments it passes itself
    warnings.simplefilter("ignore", DeprecationWarning)
    schema = schemathesis.from_pytest_fixture("api_schema")


@pytest.fixture
def world(client, make_shop, login_as, make_company):
    """A realistic city in miniature: a shop with its manager and a photo, a collector, a regulator."""
    _shop, _owner, owner_headers = make_shop()
    make_company(["370811"])
    upload_photo(client, owner_headers, 1)
    _regulator, regulator_headers = login_as("regulator", jurisdiction=["370811"])
    return {"member": owner_headers, "regulator": regulator_headers}


SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much, HealthCheck.data_too_large])


def call(case, headers):
    if case.media_type == "multipart/form-data" and not isinstance(case.body, dict):
        return  # a negative example werkzeug's test client cannot even encode (e.g. a bare number)
    case.headers = {**(case.headers or {}), **headers}
    response = case.call_wsgi()
    case.validate_response(response, checks=(not_a_server_error, response_schema_conformance,
                                             content_type_conformance))


@schema.parametrize()
@SETTINGS
def test_api_as_a_shop_member(case, world):
    call(case, world["member"])


@schema.parametrize()
@SETTINGS
def test_api_as_a_regulator(case, world):
    call(case, world["regulator"])
