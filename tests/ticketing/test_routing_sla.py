"""Routing rules as data, SLA due times (wall clock and business hours) and breach flags."""
from datetime import datetime, time, timedelta, timezone
from types import SimpleNamespace

import pytest

from ticketing import routing, sla

UTC = timezone.utc


def test_first_matching_rule_sets_each_field():
    rules = routing.rules_from_data([
        {"name": "ro-l2", "group": "L2", "locales": ["ro"]},
        {"name": "invoice", "priority": "high", "keywords": ["fattura", "factură"]},
        {"name": "billing", "group": "L3", "priority": "low", "categories": ["billing"]},
    ])
    r = routing.route("billing", "Problema con la fattura", "", "it", rules)
    assert (r.group, r.priority, r.rules) == ("L3", "high", ("invoice", "billing"))
    r = routing.route("billing", "Factura", "nu primesc FACTURĂ", "ro", rules)
    assert (r.group, r.priority, r.rules) == ("L2", "high", ("ro-l2", "invoice"))
    r = routing.route("general", "Domanda", "ciao", "it", rules)
    assert (r.group, r.priority, r.rules) == ("L1", "normal", ())


def test_keywords_match_whole_words_without_accents():
    rules = (routing.Rule("down", priority="urgent", keywords=("down",)),)
    assert routing.route("general", "Il sito è down", "", "it", rules).priority == "urgent"
    assert routing.route("general", "Download lento", "", "it", rules).priority == "normal"


def test_rules_from_data_validates():
    with pytest.raises(ValueError):
        routing.rules_from_data([{"group": "L9"}])
    with pytest.raises(ValueError):
        routing.rules_from_data([{"priority": "asap"}])


def test_next_tier():
    assert [routing.next_tier(g) for g in ("L1", "L2", "L3")] == ["L2", "L3", None]


def test_wall_clock_due_times():
    created = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    first, resolution = sla.due_times(created, "high")
    assert first == created + timedelta(hours=4) and resolution == created + timedelta(hours=24)


def test_business_hours_skip_nights_and_weekends():
    hours = sla.BusinessHours(start=time(9), end=time(18), weekdays=(0, 1, 2, 3, 4), tz="UTC")
    friday_5pm = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    # 1 h left on Friday, then Monday from 9:00: 4 h of work ends Monday 12:00.
    assert sla.add_business_time(friday_5pm, timedelta(hours=4), hours) == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    saturday = datetime(2026, 3, 7, 11, 0, tzinfo=UTC)
    assert sla.add_business_time(saturday, timedelta(hours=1), hours) == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    # Two working days of 9 h each.
    monday_9 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    assert sla.add_business_time(monday_9, timedelta(hours=18), hours) == datetime(2026, 3, 10, 18, 0, tzinfo=UTC)


def test_business_hours_in_a_time_zone():
    hours = sla.BusinessHours(tz="Europe/Rome")  # 9-18 local, UTC+1 in March before DST
    at = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 8:00 in Rome, before opening
    assert sla.add_business_time(at, timedelta(hours=1), hours) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_config_from_data():
    cfg = sla.config_from_data({"policies": {"urgent": {"first_reply_h": 0.5, "resolution_h": 4}},
                                "business_hours": {"start": "08:00", "end": "17:00", "tz": "UTC"}})
    assert cfg.policy("urgent").first_reply == timedelta(minutes=30)
    assert cfg.policy("normal") == sla.DEFAULT.policy("normal")
    assert cfg.hours.start == time(8)


def _t(**kw):
    base = dict(first_reply_due=None, first_reply_at=None, resolution_due=None, solved_at=None)
    base.update(kw)
    return SimpleNamespace(**base)


def test_flags_and_outcome():
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    due = now + timedelta(minutes=30)
    t = _t(first_reply_due=due, resolution_due=now + timedelta(hours=8))
    assert sla.ticket_flags(t, now)["badge"] == "soon" and sla.outcome(t, now) == "pending"
    t = _t(first_reply_due=now - timedelta(minutes=1), resolution_due=now + timedelta(hours=8))
    assert sla.ticket_flags(t, now)["badge"] == "breached" and sla.outcome(t, now) == "breached"
    t = _t(first_reply_due=due, first_reply_at=now, resolution_due=now + timedelta(hours=8), solved_at=now)
    assert sla.ticket_flags(t, now)["badge"] == "met" and sla.outcome(t, now) == "met"
    t = _t(first_reply_due=due, first_reply_at=now, resolution_due=now + timedelta(hours=8))
    assert sla.ticket_flags(t, now) == {"first_reply": "met", "resolution": "pending",
                                        "next_due": now + timedelta(hours=8), "badge": "ok"}
