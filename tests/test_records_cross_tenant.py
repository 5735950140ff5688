"""Every records endpoint, tried by someone who must not reach it: 404 or 403, nothing changed."""
import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEntry, Cleaning, Handover
from tests.helpers import upload_photo

NOW = "2024-03-22T09:00:00+08:00"


@pytest.fixture
def records(client, frozen_clock, contracted):
    c = contracted
    cleaning = client.post(f"/api/v1/shops/{c.shop_id}/cleanings", headers=c.owner, json={
        "cleaned_on": "2024-03-20", "parts": ["purifier"], "performed_by": "self",
        "before_photo_ids": [upload_photo(client, c.owner, 1)],
        "after_photo_ids": [upload_photo(client, c.owner, 2)]}).get_json()
    handover = client.post(f"/api/v1/shops/{c.shop_id}/handovers", headers=c.owner, json={
        "handed_over_at": NOW, "waste_type": "kitchen_waste", "declared_kg": 30,
        "collector_company_id": c.company_id}).get_json()
    return c, cleaning, handover


@pytest.fixture
def intruders(client, login_as, make_shop, make_company):
    return {"another shop's manager": make_shop()[2],
            "inspector of another district": login_as("inspector", jurisdiction=["370883"])[1],
            "collector of another company": login_as("collector", company=make_company(["370811"]))[1],
            "collector manager of another company": login_as("collector_manager",
                                                             company=make_company(["370811"]))[1]}


def calls(c, cleaning, handover, photo):
    body = {"handed_over_at": NOW, "waste_type": "kitchen_waste", "declared_kg": 5,
            "collector_company_id": c.company_id}
    cleaning_body = {"cleaned_on": "2024-03-21", "parts": ["hood"], "performed_by": "self",
                     "before_photo_ids": [photo], "after_photo_ids": [photo]}
    return [
        ("POST", f"/api/v1/shops/{c.shop_id}/cleanings", cleaning_body),
        ("GET", f"/api/v1/shops/{c.shop_id}/cleanings", None),
        ("POST", f"/api/v1/cleanings/{cleaning['id']}/corrections", dict(cleaning_body, reason="x")),
        ("POST", f"/api/v1/shops/{c.shop_id}/handovers", body),
        ("GET", f"/api/v1/shops/{c.shop_id}/handovers", None),
        ("POST", f"/api/v1/handovers/{handover['id']}/confirm", {"weighed_kg": 30}),
        ("POST", f"/api/v1/handovers/{handover['id']}/reject", {"reason": "x"}),
        ("POST", f"/api/v1/handovers/{handover['id']}/corrections", dict(body, reason="x")),
        ("GET", f"/api/v1/photos/{cleaning['after_photos'][0]['id']}", None),
    ]


def state():
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Cleaning)),
            [(h.status, h.weighed_kg, h.superseded_by_id) for h in db.session.scalars(select(Handover))],
            db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.shop_id.is_not(None))))


@pytest.mark.parametrize("who", ["another shop's manager", "inspector of another district",
                                 "collector of another company", "collector manager of another company"])
def test_nobody_reaches_across(client, records, intruders, who):
    c, cleaning, handover = records
    headers = intruders[who]
    photo = upload_photo(client, headers, 99)
    before = state()
    for method, url, body in calls(c, cleaning, handover, photo):
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code in (403, 404), (who, method, url, response.status_code)
    listed = client.get("/api/v1/handovers", headers=headers).get_json()["items"]
    assert handover["id"] not in [h["id"] for h in listed]
    assert state() == before
