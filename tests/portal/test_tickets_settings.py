"""Routing rules and SLA policies read from SPORTELLO_TICKET_RULES (a JSON file)."""
import json

import pytest


@pytest.fixture
def app_config(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({
        "rules": [{"name": "ro-billing", "group": "L2", "priority": "high", "locales": ["ro"],
                   "keywords": ["factura"]}],
        "sla": {"policies": {"high": {"first_reply_h": 2, "resolution_h": 10}},
                "business_hours": {"start": "09:00", "end": "17:00", "weekdays": [0, 1, 2, 3, 4], "tz": "UTC"}},
    }))
    return {"TICKET_RULES": str(path)}


def test_rules_and_sla_from_file(app, client):
    from datetime import datetime, timezone

    from tests.portal.tickets_helpers import ticket

    app.extensions["sportello.clock"] = lambda: datetime(2026, 3, 6, 16, 0, tzinfo=timezone.utc)  # Friday 16:00
    resp = client.post("/api/tickets", json={"email": "a@example.com", "subject": "Factura greșită",
                                             "body": "Factura din martie are o sumă greșită.", "locale": "ro"})
    t = ticket(app, resp.get_json()["id"])
    assert (t.group, t.priority, t.routing, t.locale) == ("L2", "high", ["ro-billing"], "ro")
    # 2 working hours from Friday 16:00: one on Friday, one on Monday from 9:00.
    assert t.first_reply_due == datetime(2026, 3, 9, 10, 0, tzinfo=timezone.utc)
