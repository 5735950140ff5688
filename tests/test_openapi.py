"""The OpenAPI document is valid OpenAPI 3 and agrees with API.md."""
from openapi_spec_validator import validate


def test_openapi_document_is_valid_openapi_3(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    validate(document)


def test_openapi_documents_the_error_shape_and_paths(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/health", "/api/v1/districts", "/api/v1/checklist"):
        assert "get" in document["paths"][path], path
    error = document["components"]["schemas"]["Error"]
    assert "error" in error["properties"]
    assert document["paths"]["/api/v1/districts"]["get"]["summary"]


def test_docs_page_is_served_locally(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200 and b"swagger-ui" in page.data
    assert b"/api/v1/openapi.json" in page.data
    with client.get("/api/v1/docs/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200
