"""Request ids, security headers, proxies, and the log lines of refused requests."""
import logging
import re

from tests.helpers import error_of


def test_every_response_has_security_headers_and_a_request_id(client):
    for response in (client.get("/api/v1/districts"), client.get("/api/v1/nope"), client.get("/api/v1/health")):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-Id"])
    assert client.get("/api/v1/districts").headers["X-Request-Id"] != client.get(
        "/api/v1/districts").headers["X-Request-Id"]


def test_error_bodies_carry_the_request_id(client):
    response = client.get("/api/v1/nope")
    assert error_of(response, 404)["request_id"] == response.headers["X-Request-Id"]


def test_docs_page_allows_only_its_own_scripts(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp


def test_incoming_request_id_is_ignored_unless_behind_a_trusted_proxy(make_app, app_config):
    def config(**changes):
        return dict(app_config, **changes)

    direct = make_app(config()).test_client().get("/api/v1/districts", headers={"X-Request-Id": "lb-1234567890"})
    assert direct.headers["X-Request-Id"] != "lb-1234567890"
    behind = make_app(config(TRUSTED_PROXIES=1)).test_client()
    assert behind.get("/api/v1/districts", headers={"X-Request-Id": "lb-1234567890"}).headers[
        "X-Request-Id"] == "lb-1234567890"
    forged = behind.get("/api/v1/districts", headers={"X-Request-Id": "a\u2028b c"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-Id"])


def test_proxy_fix_uses_the_forwarded_address_only_when_configured(make_app, app_config):
    def config(**changes):
        return dict(app_config, **changes)

    from server.extensions import db
    from server.models.user import LoginFailure

    for trusted, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = make_app(config(TRUSTED_PROXIES=trusted))
        with app.app_context():
            client = app.test_client()
            client.post("/api/v1/auth/password-login", json={"username": "nobody", "password": "x" * 12},
                        headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
            addresses = db.session.scalars(db.select(LoginFailure.client_addr)).all()
            assert addresses[-1] == expected


def test_refused_requests_are_logged_with_escaped_input(client, login_as, make_shop, caplog):
    shop, _owner, _ = make_shop()
    outsider, headers = login_as()
    caplog.set_level(logging.WARNING, logger="server.access")
    assert client.get(f"/api/v1/shops/{shop['id']}", headers=headers).status_code == 404
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    assert client.get("/api/v1/shops/1%0a2024-03-22 INFO forged line%0d", headers=headers).status_code == 404
    assert client.get("/api/v1/me").status_code == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "server.access"]
    assert any(f"GET /api/v1/shops/{shop['id']} -> 404" in line and f"user {outsider.id}" in line for line in lines)
    assert any("GET /api/v1/users -> 403 forbidden" in line for line in lines)
    assert any("-> 401 unauthorized (user -" in line for line in lines)
    forged = [line for line in lines if "forged line" in line]
    assert forged and all("\n" not in line and "\r" not in line for line in forged)
    assert "\\n2024-03-22 INFO forged line\\r" in forged[0]
