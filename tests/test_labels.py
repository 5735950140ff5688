"""One label table: GET /labels answers every kind of coded value, and every code the system stores or
answers has its word — found by reading the models' enumerations and the code that writes codes."""
import re
from pathlib import Path

import pytest

from server.labels import LABELS, Unlabelled, label
from server.models.complaint import CATEGORIES, COMPLAINT_STATUSES
from server.models.inspection import CASE_STATUSES, RESULTS
from server.models.notification import WECHAT_STATES
from server.models.records import CLEANING_PARTS, HANDOVER_STATUSES, WASTE_TYPES
from server.models.shop import SCALES, STATUSES
from server.roles import ROLES
from tests.helpers import error_of

SERVER = Path(__file__).resolve().parent.parent / "server"


def source(*parts):
    return (SERVER.joinpath(*parts)).read_text(encoding="utf-8")


@pytest.mark.parametrize("kind, codes", [
    ("handover_status", HANDOVER_STATUSES), ("waste_type", WASTE_TYPES), ("cleaning_part", CLEANING_PARTS),
    ("complaint_status", COMPLAINT_STATUSES), ("complaint_category", CATEGORIES), ("case_status", CASE_STATUSES),
    ("inspection_result", RESULTS), ("shop_status", STATUSES), ("scale", SCALES), ("role", ROLES),
    ("wechat_state", WECHAT_STATES), ("grade", "ABC"),
    ("case_source", ("rectification", "handover", "hotline", "complaint")),  # models/inspection.py: Case.source
    ("reason", set(re.findall(r'"code": "(\w+)"', source("services", "compliance", "rules.py")))),
    ("rectification_action", set(re.findall(r'_event\(order, user, "(\w+)"', source("services", "enforcement",
                                                                                       "rectifications.py")))),
])
def test_every_code_of_a_kind_has_its_word(kind, codes):
    assert codes, kind
    missing = sorted(code for code in codes if code not in LABELS[kind])
    assert not missing, f"{kind}: no label for {missing}"


def test_every_audit_action_written_anywhere_has_its_word():
    written = set()
    for path in SERVER.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r'audit\.record\(\s*"([\w.]+)"', text))
        for template in re.findall(r'audit\.record\(\s*f"([\w.{}]+)"', text):  # f"shop.{kind}_code"
            written |= {template.replace("{kind}", kind) for kind in ("claim", "join")}
    assert len(written) > 40
    missing = sorted(action for action in written if action not in LABELS["audit_action"])
    assert not missing, missing


def test_an_unknown_code_is_an_error_not_a_raw_word():
    assert label("handover_status", "disputed") == "有争议" and label("grade", None) == "—"
    with pytest.raises(Unlabelled):
        label("handover_status", "lost")


def test_get_labels_answers_every_kind_with_checklist_items_and_districts(client, login_as):
    error_of(client.get("/api/v1/labels"), 401)
    _, owner = login_as()
    body = client.get("/api/v1/labels", headers=owner).get_json()
    assert set(LABELS) | {"checklist_item", "district"} == set(body)
    assert body["handover_status"]["disputed"] == "有争议" and body["district"]["370811"] == "任城区"
    checklist = client.get("/api/v1/checklist", headers=owner).get_json()["items"]
    assert {item["code"]: item["text"] for item in checklist}.items() <= body["checklist_item"].items()
