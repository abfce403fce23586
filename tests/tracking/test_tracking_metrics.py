"""The self-service figures on hand-built journeys with fixed timestamps."""
from datetime import date, timedelta

import numpy as np
import pytest

from portal import metrics
from portal.tracking.gaps import cluster, group_queries
from tests.tracking.helpers import D, Journey, at

DAY = D.date()


@pytest.fixture
def journey(db_session):
    counter = iter(range(1000))
    return lambda: Journey(db_session, f"visitor-{next(counter):04d}-xxxxxxxx")


def figures(session, start=DAY, end=DAY, now=None):
    return metrics.self_service(session, start, end, now or at(days=5)).as_dict()


def test_no_visits_gives_zeros_and_null_ratios(db_session):
    out = figures(db_session)
    assert out["visits"] == 0 and out["tickets"] == 0
    assert out["self_service_ratio"] is None
    assert out["self_service_ratio_with_inferred"] is None
    assert out["deflection_rate"] is None


def test_outcomes(journey, db_session):
    served = journey()
    served.search(at(9), "reset password")
    served.view(at(9, 1), "a", query="reset password")
    served.vote(at(9, 2), "a", helpful=True)

    solved = journey()
    solved.view(at(9), "a")
    solved.vote(at(9, 3), "a", solved=True)

    inferred = journey()
    inferred.view(at(10), "b")

    helpful_then_ticket = journey()
    helpful_then_ticket.view(at(11), "a")
    helpful_then_ticket.vote(at(11, 1), "a", helpful=True)
    helpful_then_ticket.ticket(at(11, 5))

    negative = journey()
    negative.view(at(12), "c")
    negative.vote(at(12, 1), "c", helpful=False)

    later_ticket = journey()  # inferred turned off by a ticket 6 hours later, in a new visit
    later_ticket.view(at(13), "c")
    later_ticket.ticket(at(19), ref="SP-2")

    search_only = journey()
    search_only.search(at(14), "nothing", results=0)

    out = figures(db_session)
    assert out == {
        "from": "2026-03-10", "to": "2026-03-10",
        "visits": 8, "self_served": 2, "self_served_inferred": 1, "escalated": 2, "tickets": 2,
        "self_service_ratio": 1.0, "self_service_ratio_with_inferred": 1.5,
        "deflection_rate": 0.5, "self_served_inferred_pending": 0, "excluded_visits": 0,
        "excluded_by_reason": {"automated": 0, "burst": 0, "vote_without_view": 0, "no_cookie": 0},
    }


def test_vote_without_a_view_is_not_self_service(journey, db_session):
    j = journey()
    j.vote(at(10), "a", helpful=True)
    out = figures(db_session)
    assert (out["self_served"], out["visits"], out["excluded_visits"]) == (0, 0, 1)
    assert out["excluded_by_reason"]["vote_without_view"] == 1


def test_a_vote_counts_only_on_an_article_the_visitor_viewed(journey, db_session):
    j = journey()
    j.view(at(10), "a")
    j.vote(at(10, 5), "b", helpful=True)  # never read b: the whole visit is left out
    out = figures(db_session)
    assert (out["self_served"], out["self_served_inferred"], out["visits"], out["excluded_visits"]) == (0, 0, 0, 1)
    later = journey()
    later.view(at(11), "c")
    later.view(at(13), "d")  # a new visit of the same visitor: a vote on c still counts (viewed within 24 h)
    later.vote(at(13, 1), "c", helpful=True)
    assert figures(db_session)["self_served"] == 1


def test_inferred_while_young_until_a_ticket_turns_it_off(journey, db_session):
    j = journey()
    j.view(at(10), "a")
    young = figures(db_session, now=at(12))
    assert young["self_served_inferred"] == 1 and young["self_served_inferred_pending"] == 1
    assert figures(db_session, now=at(34, 1))["self_served_inferred_pending"] == 0
    j.ticket(at(20))
    after = figures(db_session, now=at(21))
    assert after["self_served_inferred"] == 0
    assert after["escalated"] == 1 and after["tickets"] == 1


def test_ticket_more_than_24_hours_later_keeps_the_inference(journey, db_session):
    j = journey()
    j.view(at(10), "a")
    j.ticket(at(34, 0, 1))  # 24 h and one second after the visit ended
    out = figures(db_session, DAY, DAY + timedelta(days=1))
    assert (out["self_served_inferred"], out["escalated"], out["visits"]) == (1, 1, 2)


def test_visit_spanning_midnight_counts_on_its_first_day(journey, db_session):
    j = journey()
    j.view(at(23, 50), "a")
    j.vote(at(24, 10), "a", helpful=True)
    assert figures(db_session)["self_served"] == 1
    assert figures(db_session, DAY + timedelta(days=1), DAY + timedelta(days=1))["visits"] == 0


def test_range_is_inclusive_and_series_add_up(journey, db_session):
    for day in range(0, 20, 3):
        j = journey()
        j.view(at(10, days=day), "a")
        j.vote(at(10, 1, days=day), "a", helpful=True)
    k = journey()
    k.ticket(at(12, days=6))
    start, end = DAY, DAY + timedelta(days=18)
    total = metrics.self_service(db_session, start, end, at(days=30))
    assert total.counts.self_served == 7 and total.counts.tickets == 1
    for grain in metrics.GRAINS:
        buckets = metrics.series(db_session, start, end, grain, at(days=30))
        assert buckets[0].start == start and buckets[-1].end == end
        assert sum(b.counts.self_served for b in buckets) == 7
        assert sum(b.counts.visits for b in buckets) == 8
    weeks = metrics.series(db_session, start, end, "week", at(days=30))
    assert weeks[0].start == DAY and weeks[0].end == date(2026, 3, 15)  # clipped to the range
    assert weeks[1].start == date(2026, 3, 16)  # ISO weeks start on Monday
    days = metrics.series(db_session, start, end, "day", at(days=30))
    assert len(days) == 19 and days[1].counts.visits == 0 and days[1].self_service_ratio is None


def test_previous_period_and_change():
    assert metrics.previous_period(date(2026, 3, 10), date(2026, 3, 16)) == (date(2026, 3, 3), date(2026, 3, 9))
    assert metrics.change(0.5, 0.25) == 0.25
    assert metrics.change(None, 0.25) is None


def test_search_report(journey, db_session):
    a = journey()
    a.search(at(9), "Reset password")
    a.click(at(9, 1), "a", "reset password")
    a.search(at(9, 2), "reset password")  # searched again after the click, and no click followed
    b = journey()
    b.search(at(10), "reset password")  # results, no click
    b.search(at(10, 1), "fattura", results=0)
    b.search(at(10, 2), "fattura", results=0)
    report = metrics.search_report(db_session, DAY, DAY)
    assert report.as_dict() == {"searches": 5, "no_result": 2, "no_click": 2, "clicked": 1, "ctr": 0.2}
    assert [(q.query, q.searches, q.clicked) for q in report.top] == [("reset password", 3, 1), ("fattura", 2, 0)]
    assert [q.query for q in report.no_result_queries] == ["fattura"]
    assert [(q.query, q.no_click) for q in report.no_click_queries] == [("reset password", 2)]
    assert metrics.search_report(db_session, DAY + timedelta(days=1), DAY + timedelta(days=1)).ctr is None


def test_article_tables(journey, db_session):
    for _ in range(2):
        j = journey()
        j.view(at(9), "good")
        j.vote(at(9, 1), "good", helpful=True)
    j = journey()
    j.view(at(10), "good")
    j.view(at(10, 1), "bad")
    j.vote(at(10, 2), "bad", helpful=False)
    j.ticket(at(10, 3))
    j.view(at(10, 4), "after")  # read after the ticket: not the article that failed
    k = journey()
    k.view(at(11), "bad")
    k.ticket(at(11, 3))
    assert metrics.top_self_served_articles(db_session, DAY, DAY) == [("good", 2)]
    assert metrics.articles_before_ticket(db_session, DAY, DAY) == [("bad", 2)]
    votes = metrics.helpful_by_article(db_session, DAY, DAY)
    assert votes["good"].helpful_pct == 1.0 and votes["bad"].helpful_pct == 0.0
    (failing,) = metrics.failing_articles(db_session, DAY, DAY)
    assert (failing.article, failing.before_ticket, failing.votes.no) == ("bad", 2, 1)


def test_gap_queries(journey, db_session):
    a = journey()
    a.search(at(9), "fattura elettronica", results=0)
    a.search(at(9, 1), "ticket status")
    b = journey()
    b.search(at(10), "cambiare password")
    b.ticket(at(10, 5), query="cambiare password")
    found = {g.query: (g.count, g.sources) for g in metrics.gap_queries(db_session, DAY, DAY)}
    assert found == {
        "fattura elettronica": (1, {"no_result"}),
        "ticket status": (1, {"no_click"}),
        "cambiare password": (3, {"no_click", "escalated"}),
    }


def test_clustering_groups_by_similarity():
    v = np.array([[1, 0], [0.95, 0.31], [0, 1], [0.1, 0.99]], dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    groups = sorted(sorted(g) for g in cluster(v, threshold=0.8))
    assert groups == [[0, 1], [2, 3]]
    assert len(cluster(v, threshold=-1)) == 1
    assert cluster(np.zeros((0, 2)), 0.5) == []


def test_group_queries_with_the_fake_encoder():
    from search.encoders import get_encoder

    items = [metrics.GapQuery("reset password", 5, {"no_result"}),
             metrics.GapQuery("reset my password", 2, {"escalated"}),
             metrics.GapQuery("fattura elettronica", 3, {"no_click"})]
    gaps = group_queries(items, get_encoder("fake"), threshold=0.5)
    assert [(g.label, g.size, g.sources) for g in gaps] == [
        ("reset password", 7, {"no_result", "escalated"}), ("fattura elettronica", 3, {"no_click"})]


@pytest.mark.parametrize("raw_from, raw_to, field", [
    ("2026-13-01", "2026-03-10", "from"), ("2026-03-01", "yesterday", "to"),
    ("2026-03-10", "2026-03-01", "to"), ("2026-3-1", None, "from"), ("2000-01-01", "2026-01-01", "from")])
def test_parse_range_errors(raw_from, raw_to, field):
    with pytest.raises(metrics.RangeError) as err:
        metrics.parse_range(raw_from, raw_to, DAY)
    assert err.value.field == field


def test_parse_range_defaults():
    assert metrics.parse_range(None, None, DAY) == (DAY - timedelta(days=29), DAY)
    assert metrics.parse_range("2026-03-01", "2026-03-01", DAY) == (date(2026, 3, 1), date(2026, 3, 1))
