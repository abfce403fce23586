"""KPIs on a scripted set of tickets with known timestamps: every figure checked exactly."""
from datetime import datetime, timedelta, timezone

import pytest

from ticketing import kpis, service

UTC = timezone.utc
D = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday
ANN, BOB = service.Actor(1, "Ann"), service.Actor(2, "Bob")


def make(session, at, subject="Domanda sul conto", category="general", body="Vorrei sapere una cosa sul conto."):
    return service.create_ticket(session, service.NewTicket("c@example.com", subject, body, category=category),
                                 now=at)


def reply(session, t, actor, at, status=None, articles=()):
    return service.agent_message(session, service.AgentMessage(t.id, actor, "Ecco la risposta.", t.version,
                                                               status=status, articles=articles), now=at)


def script(session):
    """Five tickets on 2-3 March (normal priority: first reply 8 h, resolution 72 h), one on 10 March."""
    # t1: claimed by Ann, one reply after 1 h that solves it; rated 5 / 10.
    t1 = make(session, D)
    t1 = service.claim(session, t1.id, ANN, 1, now=D + timedelta(minutes=10))
    t1 = reply(session, t1, ANN, D + timedelta(hours=1), status="solved", articles=("it-sla",))
    service.rate(session, service.Rating(t1.access_token, csat=5, nps=10), now=D + timedelta(hours=2))
    # t2: Ann, first reply after 3 h (pending), customer answers, second reply solves at 10 h; rated 3 / 6.
    t2 = make(session, D + timedelta(hours=1), category="billing")
    t2 = service.claim(session, t2.id, ANN, 1, now=D + timedelta(hours=1))
    t2 = reply(session, t2, ANN, D + timedelta(hours=4), status="pending")
    t2 = service.customer_reply(session, service.CustomerReply(t2.access_token, "Ancora no"), now=D + timedelta(hours=5))
    t2 = reply(session, t2, ANN, D + timedelta(hours=11), status="solved")
    service.rate(session, service.Rating(t2.access_token, csat=3, nps=6), now=D + timedelta(hours=12))
    # t3: Bob, first reply after 10 h: first-reply SLA breached (8 h); stays open.
    t3 = make(session, D + timedelta(hours=2), category="billing")
    t3 = service.claim(session, t3.id, BOB, 1, now=D + timedelta(hours=3))
    reply(session, t3, BOB, D + timedelta(hours=12))
    # t4: nobody touches it (new).
    make(session, D + timedelta(days=1))
    # t5: Bob solves with one reply after 2 h, then the customer reopens it, and Bob solves again.
    t5 = make(session, D + timedelta(days=1, hours=1))
    t5 = service.claim(session, t5.id, BOB, 1, now=D + timedelta(days=1, hours=1))
    t5 = reply(session, t5, BOB, D + timedelta(days=1, hours=3), status="solved")
    t5 = service.customer_reply(session, service.CustomerReply(t5.access_token, "Di nuovo"), now=D + timedelta(days=1, hours=4))
    t5 = service.change(session, service.TicketChange(t5.id, BOB, t5.version, status="solved"),
                        now=D + timedelta(days=1, hours=5))
    service.rate(session, service.Rating(t5.access_token, nps=8), now=D + timedelta(days=1, hours=6))
    # Outside the range.
    make(session, D + timedelta(days=8))


def test_exact_figures(session):
    script(session)
    start, end = D.replace(hour=0), D.replace(hour=0) + timedelta(days=2)
    now = D + timedelta(days=5)  # every SLA target is decided by then
    r = kpis.report(session, start, end, now=now, interval="day")
    assert r["volume"] == 5
    # Waiting at the end of 3 March: t3 (open) and t4 (new).
    assert r["backlog"] == 2
    # First replies: t1 1 h, t2 3 h, t3 10 h, t5 2 h  -> median 2.5 h, mean 4 h.
    assert r["first_reply_median_s"] == 2.5 * 3600
    assert r["first_reply_mean_s"] == 4 * 3600
    # Solved: t1 (1 h), t2 (10 h), t5 (4 h, the final solve) -> median 4 h.
    assert r["resolution_median_s"] == 4 * 3600
    assert r["resolution_rate"] == 0.6
    # FCR: t1 only (t2 had two replies, t5 was reopened) -> 1/3.
    assert r["fcr_rate"] == round(1 / 3, 4)
    assert r["replies_per_ticket"] == round((1 + 2 + 1) / 3, 2)
    # CSAT: 5 and 3 -> one of two is 4-5.
    assert r["csat"] == 0.5
    # NPS: 10 (promoter), 6 (detractor), 8 (passive) -> 0.
    assert r["nps"] == 0.0
    # SLA: t1, t2, t5 met both; t3 missed the first reply; t4 missed it too (no reply in 8 h).
    assert r["sla_compliance"] == 0.6
    assert r["sla_first_reply_compliance"] == 0.6
    # Resolution targets (72 h): t1, t2, t5 met; t3 and t4 breached at now = +5 days.
    assert r["sla_resolution_compliance"] == 0.6
    assert r["answered_with_article_rate"] == 0.25
    assert r["escalation_rate"] == 0.0
    by_agent = {row["key"]: row for row in r["by_agent"]}
    assert by_agent[1]["volume"] == 2 and by_agent[1]["csat"] == 0.5 and by_agent[1]["backlog"] == 0
    assert by_agent[2]["volume"] == 2 and by_agent[2]["backlog"] == 1 and by_agent[2]["fcr_rate"] == 0.0
    assert by_agent[None]["volume"] == 1 and by_agent[None]["backlog"] == 1
    by_cat = {row["key"]: row["volume"] for row in r["by_category"]}
    assert by_cat == {"billing": 2, "general": 3}
    days = {row["start"]: row for row in r["over_time"]}
    assert days["2026-03-02"]["volume"] == 3 and days["2026-03-03"]["volume"] == 2
    # At the end of 2 March only t3 waits (t1 and t2 solved); at the end of 3 March t3 and t4.
    assert days["2026-03-02"]["backlog"] == 1 and days["2026-03-03"]["backlog"] == 2


def test_backlog_follows_status_history(session):
    script(session)
    r = kpis.report(session, D.replace(hour=0), D.replace(hour=0) + timedelta(days=1), now=D + timedelta(hours=4, minutes=30))
    # At 13:30 on 2 March, the range end is in the future: t2 is pending, t3 open -> both wait; t1 solved.
    assert r["backlog"] == 2


def test_empty_period_gives_nulls_not_errors(session):
    r = kpis.report(session, D, D + timedelta(days=1), now=D)
    assert r["volume"] == 0 and r["backlog"] == 0
    for name in ("first_reply_median_s", "resolution_median_s", "resolution_rate", "fcr_rate", "csat", "nps",
                 "sla_compliance", "replies_per_ticket"):
        assert r[name] is None, name


def test_nps_range():
    facts = [kpis.Facts(i, D, "solved", "normal", "general", "L1", None, None, D, None, None, 1, 0, 0, 0, None, n)
             for i, n in enumerate([0, 3, 6])]
    assert kpis.figures(facts, D)["nps"] == -100.0
    facts = [f.__class__(**{**f.__dict__, "nps": 9}) for f in facts]
    assert kpis.figures(facts, D)["nps"] == 100.0


def test_buckets():
    start = datetime(2026, 1, 28, tzinfo=UTC)
    end = datetime(2026, 3, 3, tzinfo=UTC)
    months = kpis.buckets(start, end, "month")
    assert [(a.date().isoformat(), b.date().isoformat()) for a, b in months] == [
        ("2026-01-28", "2026-02-01"), ("2026-02-01", "2026-03-01"), ("2026-03-01", "2026-03-03")]
    weeks = kpis.buckets(start, end, "week")
    assert weeks[0][1].weekday() == 0 and weeks[-1][1] == end
    with pytest.raises(ValueError):
        kpis.buckets(start, end, "year")
