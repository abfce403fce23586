"""GET /api/metrics/tickets on a scripted set of tickets with known timestamps (injected clock)."""
from datetime import timedelta

import pytest

from tests.portal.tickets_helpers import T0, Clock, bearer, staff_client, version_in

H = timedelta(hours=1)


def script(app, client):
    """Four tickets on 2 March (normal priority: first reply 8 h, resolution 72 h), one on 5 March."""
    clock = Clock(T0)
    app.extensions["sportello.clock"] = clock
    ann = staff_client(app, "agent", email="ann@example.com", name="Ann")
    bob = staff_client(app, "agent", email="bob@example.com", name="Bob")

    def create(at, **extra):
        clock.set(at)
        body = {"email": "c@example.com", "subject": "Domanda sul conto", "body": "Vorrei sapere una cosa.", **extra}
        resp = client.post("/api/tickets", json=body)
        assert resp.status_code == 201
        return resp.get_json()

    def act(agent, at, path, **data):
        clock.set(at)
        ticket_id = path.split("/")[3]
        data["version"] = version_in(agent.get(f"/agent/tickets/{ticket_id}").text)
        resp = agent.post(path, data=data)
        assert resp.status_code == 302, resp.text[:500]

    def reply(agent, at, ticket_id, status="", body="Ecco la risposta."):
        act(agent, at, f"/agent/tickets/{ticket_id}/reply", body=body, internal="0", status=status)

    t1 = create(T0)
    act(ann, T0 + 0.1 * H, f"/agent/tickets/{t1['id']}/claim")
    reply(ann, T0 + 2 * H, t1["id"], status="solved")                      # FRT 2 h, solved at 2 h
    t2 = create(T0 + 1 * H, category="billing")
    act(bob, T0 + 1 * H, f"/agent/tickets/{t2['id']}/claim")
    reply(bob, T0 + 10 * H, t2["id"], status="pending")                    # FRT 9 h: breached (8 h)
    reply(bob, T0 + 12 * H, t2["id"], status="solved")                     # solved at 11 h, 2 replies
    t3 = create(T0 + 2 * H)
    reply(ann, T0 + 6 * H, t3["id"])                                       # FRT 4 h, stays open
    create(T0 + 3 * H)                                                     # untouched
    create(T0 + 3 * 24 * H)                                                # outside 2 March

    clock.set(T0 + 3 * H)
    rate = lambda t, **v: client.post(t["url"][t["url"].index("/tickets/s/"):] + "/rate", data=v)
    clock.set(T0 + 13 * H)
    assert rate(t1, csat="5", nps="10").status_code == 302
    assert rate(t2, csat="2", nps="3").status_code == 302
    clock.set(T0 + 5 * 24 * H)
    return clock


def test_exact_figures(app, client):
    script(app, client)
    resp = client.get("/api/metrics/tickets", query_string={"from": "2026-03-02", "to": "2026-03-02"},
                      headers=bearer(app, "lead"))
    assert resp.status_code == 200
    m = resp.get_json()
    assert m["from"] == m["to"] == "2026-03-02"
    expected = {
        "volume": 4,
        "backlog": 2,                           # t3 open, t4 new at the end of 2 March
        "first_reply_median_s": 4 * 3600.0,     # 2 h, 9 h, 4 h
        "first_reply_mean_s": 5 * 3600.0,
        "resolution_median_s": 6.5 * 3600,      # 2 h and 11 h
        "resolution_rate": 0.5,
        "fcr_rate": 0.5,                        # t1 one reply; t2 two
        "replies_per_ticket": 1.5,
        "csat": 0.5,                            # 5 and 2
        "nps": 0.0,                             # one promoter, one detractor
        "sla_compliance": 0.25,                 # t1 met; t2, t3 (72 h passed), t4 breached
        "sla_first_reply_compliance": 0.5,      # t1, t3 on time; t2 late, t4 never
        "sla_resolution_compliance": 0.5,       # t1, t2 solved in 72 h; t3, t4 not
    }
    for key, value in expected.items():
        assert m[key] == pytest.approx(value), key
    assert set(m["definitions"]) >= set(expected)
    agents = {row["name"]: row for row in m["by_agent"]}
    assert agents["Ann"]["volume"] == 1 and agents["Bob"]["volume"] == 1 and agents["unassigned"]["volume"] == 2
    assert {row["key"]: row["volume"] for row in m["by_category"]} == {"billing": 1, "general": 3}


def test_whole_range_and_over_time(app, client):
    script(app, client)
    m = client.get("/api/metrics/tickets", query_string={"from": "2026-03-01", "to": "2026-03-07", "interval": "day"},
                   headers=bearer(app, "admin")).get_json()
    assert m["volume"] == 5 and m["backlog"] == 3
    days = {row["start"]: row["volume"] for row in m["over_time"]}
    assert days["2026-03-02"] == 4 and days["2026-03-05"] == 1 and len(days) == 7


def test_empty_range_is_nulls(app, client):
    m = client.get("/api/metrics/tickets", query_string={"from": "2020-01-01", "to": "2020-01-31"},
                   headers=bearer(app, "lead")).get_json()
    assert m["volume"] == 0 and m["csat"] is None and m["nps"] is None and m["resolution_rate"] is None


def test_auth_and_validation(app, client):
    assert client.get("/api/metrics/tickets").status_code == 401
    assert client.get("/api/metrics/tickets", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/metrics/tickets", headers=bearer(app, "agent")).status_code == 403
    lead = bearer(app, "lead")
    resp = client.get("/api/metrics/tickets", query_string={"from": "2026-13-01"}, headers=lead)
    assert resp.status_code == 400 and resp.get_json()["fields"] == {"from": "use YYYY-MM-DD"}
    resp = client.get("/api/metrics/tickets", query_string={"from": "2026-03-05", "to": "2026-03-01"}, headers=lead)
    assert resp.status_code == 400 and "from" in resp.get_json()["fields"]
    assert client.get("/api/metrics/tickets", query_string={"interval": "year"}, headers=lead).status_code == 400
    assert client.get("/api/metrics/tickets", headers=lead).status_code == 200  # default: last 30 days


def test_kpi_page_and_csv(app, client):
    script(app, client)
    lead = staff_client(app, "lead")
    page = lead.get("/agent/kpis/", query_string={"start": "2026-03-02", "end": "2026-03-02", "interval": "day"})
    assert page.status_code == 200
    html = page.text
    assert "First contact resolution" in html and "Promoters" not in html
    assert "percent of promoters (9-10) minus percent of detractors (0-6)" in html  # definitions shown
    assert "4 h 00 min" in html and "50.0%" in html
    csv = lead.get("/agent/kpis/export.csv", query_string={"table": "summary", "start": "2026-03-02",
                                                           "end": "2026-03-02"})
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.text.splitlines()
    assert lines[0] == "figure,value,definition" and any(line.startswith("volume,4,") for line in lines)
    agents = lead.get("/agent/kpis/export.csv", query_string={"table": "agent", "start": "2026-03-02",
                                                              "end": "2026-03-02"}).text.splitlines()
    assert agents[0].startswith("agent,label,volume,backlog") and len(agents) == 4
    assert lead.get("/agent/kpis/export.csv", query_string={"table": "nope"}).status_code == 400
    resp = lead.get("/agent/kpis/", query_string={"start": "garbage"})  # the last 30 days, and the field named
    assert resp.status_code == 400 and "YYYY-MM-DD" in resp.get_data(as_text=True)
