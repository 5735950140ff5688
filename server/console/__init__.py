"""The regulator console (监管后台): server-rendered pages at ``/console/`` for staff at a desk.

Every page reads and every form writes through the same services, scope checks and audit as the
API; a page is a service call, the API's own Out schema to dump it, and a template.  Sessions are
console tokens (the API's password login) kept in a signed cookie scoped to ``/console``, so the
cookie never reaches ``/api/v1`` and a bearer token never opens a page.  CSRF is Flask-WTF's
CSRFProtect, on the console's forms only.
"""
from server.console import admin, blueprint, pages, people, places, session, shop_actions, work  # noqa: F401  (routes)


def init_app(app):
    blueprint.init_app(app)
