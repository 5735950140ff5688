"""Invitations: who may invite whom, one-time codes, redemption."""
import datetime as dt

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Invitation, User
from tests.helpers import error_of


def invite(client, headers, **body):
    body.setdefault("display_name", "张三")
    return client.post("/api/v1/invitations", json=body, headers=headers)


def redeem(client, headers, code):
    return client.post("/api/v1/auth/redeem-invitation", json={"code": code}, headers=headers)


def test_admin_invites_an_inspector_who_redeems_it(client, login_as):
    _, admin = login_as("admin", jurisdiction=None)
    response = invite(client, admin, role="inspector", jurisdiction=["370811", "370812"])
    assert response.status_code == 201
    body = response.get_json()
    assert len(body["code"]) == 16 and body["expires_at"]
    assert body["code"] not in str(db.session.scalars(select(Invitation.code_hash)).all())
    user, headers = login_as()
    me = redeem(client, headers, body["code"].lower()).get_json()
    assert me["role"] == "inspector" and me["jurisdiction"] == ["370811", "370812"]
    assert client.get("/api/v1/me", headers=headers).get_json()["role"] == "inspector"
    # One time only.
    _, other = login_as()
    assert error_of(redeem(client, other, body["code"]), 422)["code"] == "validation_failed"


def test_admin_may_invite_city_wide_staff(client, login_as):
    _, admin = login_as("admin", jurisdiction=None)
    code = invite(client, admin, role="regulator", jurisdiction=None).get_json()["code"]
    _, headers = login_as()
    assert redeem(client, headers, code).get_json()["jurisdiction"] is None


def test_regulator_invites_inspectors_only_within_its_jurisdiction(client, login_as):
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    assert invite(client, regulator, role="inspector", jurisdiction=["370811"]).status_code == 201
    error_of(invite(client, regulator, role="inspector", jurisdiction=["370812"]), 403)
    error_of(invite(client, regulator, role="inspector", jurisdiction=["370811", "370812"]), 403)
    error_of(invite(client, regulator, role="inspector", jurisdiction=None), 403)
    error_of(invite(client, regulator, role="regulator", jurisdiction=["370811"]), 403)
    error_of(invite(client, regulator, role="admin", jurisdiction=["370811"]), 403)


def test_regulator_invites_collectors_of_companies_serving_its_jurisdiction(client, login_as, make_company):
    _, regulator = login_as("regulator", jurisdiction=["370811"])
    near, far = make_company(["370811"]), make_company(["370883"])
    assert invite(client, regulator, role="collector_manager", collector_company_id=near.id).status_code == 201
    error_of(invite(client, regulator, role="collector", collector_company_id=far.id), 403)


def test_collector_manager_invites_drivers_of_its_own_company_only(client, login_as, make_company):
    own, other = make_company(), make_company()
    _, manager = login_as("collector_manager", company=own)
    code = invite(client, manager, role="collector", collector_company_id=own.id).get_json()["code"]
    error_of(invite(client, manager, role="collector", collector_company_id=other.id), 403)
    error_of(invite(client, manager, role="collector_manager", collector_company_id=own.id), 403)
    error_of(invite(client, manager, role="inspector", jurisdiction=["370811"]), 403)
    _, driver = login_as()
    me = redeem(client, driver, code).get_json()
    assert me["role"] == "collector" and me["collector_company_id"] == own.id and me["jurisdiction"] is None


@pytest.mark.parametrize("role", ["user", "inspector", "collector"])
def test_others_cannot_create_invitations(client, login_as, make_company, role):
    _, headers = login_as(role, company=make_company() if role == "collector" else None)
    error_of(invite(client, headers, role="inspector", jurisdiction=["370811"]), 403)


def test_invitation_bodies_are_validated(client, login_as):
    _, admin = login_as("admin", jurisdiction=None)
    fields = error_of(invite(client, admin, role="owner"), 422)["fields"]
    assert "role" in fields
    assert "jurisdiction" in error_of(invite(client, admin, role="inspector", jurisdiction=["999999"]), 422)["fields"]
    assert "jurisdiction" in error_of(invite(client, admin, role="inspector", jurisdiction=[]), 422)["fields"]
    assert "collector_company_id" in error_of(invite(client, admin, role="collector"), 422)["fields"]
    assert "collector_company_id" in error_of(
        invite(client, admin, role="collector", collector_company_id=9999), 422)["fields"]
    assert "display_name" in error_of(invite(client, admin, role="inspector", jurisdiction=["370811"],
                                             display_name="a\nb"), 422)["fields"]


def test_revoked_and_expired_codes_are_422(client, login_as, frozen_clock):
    creator, regulator = login_as("regulator", jurisdiction=["370811"])
    first = invite(client, regulator, role="inspector", jurisdiction=["370811"]).get_json()
    _, other_regulator = login_as("regulator", jurisdiction=["370811"])
    error_of(client.delete(f"/api/v1/invitations/{first['id']}", headers=other_regulator), 404)
    assert client.delete(f"/api/v1/invitations/{first['id']}", headers=regulator).status_code == 204
    _, user = login_as()
    error_of(redeem(client, user, first["code"]), 422)
    second = invite(client, regulator, role="inspector", jurisdiction=["370811"]).get_json()
    frozen_clock.advance(dt.timedelta(days=7, seconds=1))
    _, user = login_as()
    error_of(redeem(client, user, second["code"]), 422)
    error_of(redeem(client, user, "NOSUCHCODE123456"), 422)


def test_staff_cannot_redeem_a_second_role(client, login_as):
    _, admin = login_as("admin", jurisdiction=None)
    code = invite(client, admin, role="regulator", jurisdiction=["370811"]).get_json()["code"]
    _, inspector = login_as("inspector")
    error_of(redeem(client, inspector, code), 409)


def test_console_only_users_cannot_redeem(client, app, login_as):
    _, admin = login_as("admin", jurisdiction=None)
    code = invite(client, admin, role="inspector", jurisdiction=["370811"]).get_json()["code"]
    user, headers = login_as()
    user = db.session.get(User, user.id)
    user.openid = None  # as a console account: no WeChat identity
    from server.services import audit
    audit.record("test", "user", user.id)
    db.session.commit()
    error_of(redeem(client, headers, code), 403)
