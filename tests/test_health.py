"""GET /health answers 200 with a database, 503 without."""
import sqlalchemy as sa




def test_health_ok(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def unreachable(url, tmp_path):
    """A URL of the same kind as ``url`` that points at no database."""
    if url.startswith("postgresql"):
        return sa.make_url(url).set(port=1, query={"connect_timeout": "2"}).render_as_string(
            hide_password=False)
    return "sqlite:///" + str(tmp_path / "no-such-dir" / "gone.db")


def test_health_is_503_when_the_database_is_gone(db_url, tmp_path, make_app):
    app = make_app({"APP_ENV": "testing", "DATABASE_URL": unreachable(db_url, tmp_path)})
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unavailable"}


def test_other_requests_are_503_in_the_error_shape_when_the_database_is_gone(db_url, tmp_path, make_app):
    app = make_app({"APP_ENV": "testing", "DATABASE_URL": unreachable(db_url, tmp_path)})
    response = app.test_client().get("/api/v1/districts")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "service_unavailable"
