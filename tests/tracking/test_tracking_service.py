"""Recording: visits by time gaps, votes replacing votes, tickets turning inference off."""
import pytest
from sqlalchemy import select

from portal.tracking.models import Event, Vote
from portal.tracking.service import EventData, normalize_query, visit_context
from portal.metrics import visits_by_visitor
from tests.tracking.helpers import Journey, at


@pytest.fixture
def journey(db_session):
    return lambda visitor="v" * 20: Journey(db_session, visitor)


def test_gap_of_exactly_30_minutes_stays_in_the_visit(journey, db_session):
    j = journey()
    first = j.view(at(10), "a")
    assert j.view(at(10, 30), "b") == first
    assert j.view(at(11, 0), "c") == first  # measured from the last activity, not the start
    assert j.view(at(11, 31), "d") != first  # 31 minutes: a new visit
    visits = visits_by_visitor(db_session, j.visitor)
    assert [v.views for v in visits] == [3, 1]
    assert [v.seq for v in visits] == [1, 2]


def test_gap_of_thirty_minutes_and_a_second_opens_a_new_visit(journey):
    j = journey()
    assert j.view(at(10), "a") != j.view(at(10, 30, 1), "a")


def test_visitors_are_apart(journey):
    assert journey("a" * 20).view(at(10), "x") != journey("b" * 20).view(at(10), "x")


def test_a_visit_spanning_midnight_belongs_to_the_day_it_started(journey, db_session):
    j = journey()
    j.view(at(23, 50), "a")
    j.vote(at(24, 10), "a", helpful=True)
    (visit,) = visits_by_visitor(db_session, j.visitor)
    assert visit.day.isoformat() == "2026-03-10"
    assert visit.last_at == at(24, 10)


def test_second_vote_in_the_same_visit_replaces_the_first(journey, db_session):
    j = journey()
    j.view(at(10), "a")
    j.vote(at(10, 1), "a", helpful=True)
    j.vote(at(10, 2), "a", helpful=False, reason="too vague")
    (visit,) = visits_by_visitor(db_session, j.visitor)
    assert (visit.positive, visit.negative) == (0, 1)
    votes = db_session.scalars(select(Vote)).all()
    assert [(v.helpful, v.reason) for v in votes] == [(False, "too vague")]


def test_reason_alone_explains_the_standing_vote(journey, db_session):
    j = journey()
    j.view(at(10), "a")
    j.vote(at(10, 1), "a", helpful=False)
    j.vote(at(10, 2), "a", reason="missing steps")
    (visit,) = visits_by_visitor(db_session, j.visitor)
    assert (visit.positive, visit.negative) == (0, 1)
    assert db_session.scalar(select(Vote.reason)) == "missing steps"


def test_vote_in_a_later_visit_leaves_the_earlier_visit_alone(journey, db_session):
    j = journey()
    j.view(at(10), "a")
    j.vote(at(10, 1), "a", helpful=True)
    j.view(at(14), "a")
    j.vote(at(14, 1), "a", helpful=False)
    first, second = visits_by_visitor(db_session, j.visitor)
    assert (first.positive, first.negative) == (1, 0)
    assert (second.positive, second.negative) == (0, 1)
    assert db_session.scalar(select(Vote.helpful)) is False  # one standing vote per article


def test_solved_and_helpful_merge_within_a_visit(journey, db_session):
    j = journey()
    j.view(at(10), "a", query="reset")
    j.vote(at(10, 1), "a", helpful=False)
    j.vote(at(10, 2), "a", solved=True)
    (visit,) = visits_by_visitor(db_session, j.visitor)
    assert (visit.positive, visit.negative) == (1, 1)


def test_ticket_marks_the_visitors_visits_of_the_last_24_hours(journey, db_session):
    j = journey()
    j.view(at(0), "a")  # ends at 00:00, 24h + 1 min before the ticket: stays inferable
    j.view(at(1), "b")  # ends 23 h before
    j.ticket(at(24, 1))
    old, recent, escalated = visits_by_visitor(db_session, j.visitor)
    assert (old.ticket_after, recent.ticket_after, escalated.ticket_after) == (False, True, False)
    assert escalated.tickets == 1 and escalated.first_ticket_at == at(24, 1)


def test_click_marks_the_searches_of_the_visit(journey, db_session):
    j = journey()
    j.search(at(10), "Reset  Password")
    j.search(at(10, 1), "other")
    j.click(at(10, 2), "a", "reset password")
    rows = dict(db_session.execute(select(Event.query_norm, Event.clicked).where(Event.kind == "search")).all())
    assert rows == {"reset password": True, "other": False}


def test_visit_context_lists_the_visit(journey, db_session):
    j = journey()
    j.search(at(10), "reset password")
    j.view(at(10, 1), "a", query="reset password")
    j.vote(at(10, 2), "a", helpful=False, reason="no")
    context = visit_context(db_session, j.visitor, at(10, 5))
    assert context.queries == ["reset password"]
    assert context.articles == ["a"]
    assert context.votes == [{"article": "a", "helpful": False, "solved": None, "reason": "no"}]
    assert context.locale == "it"
    assert visit_context(db_session, j.visitor, at(10, 33)) is None  # the visit is over


def test_event_data_is_checked():
    with pytest.raises(ValueError):
        EventData(kind="nonsense")
    with pytest.raises(ValueError):
        EventData(kind="view")


def test_normalize_query():
    assert normalize_query("  Come   RESETTARE ") == "come resettare"
    assert normalize_query("   ") is None


def test_answer_and_failed_articles_are_kept_on_the_visit(journey, db_session):
    j = journey()
    j.view(at(10), "a")
    j.view(at(10, 1), "b")
    j.vote(at(10, 2), "a", helpful=True)
    j.vote(at(10, 3), "b", solved=True)
    assert visits_by_visitor(db_session, j.visitor)[0].answer_article == "b"
    j.vote(at(10, 4), "b", solved=False)  # taken back: the answer falls back to "a"
    assert visits_by_visitor(db_session, j.visitor)[0].answer_article == "a"
    j.vote(at(10, 5), "a", helpful=False)
    assert visits_by_visitor(db_session, j.visitor)[0].answer_article is None
    j.view(at(10, 6), "c")
    j.ticket(at(10, 7))
    j.view(at(10, 8), "d")
    j.ticket(at(10, 9), ref="SP-2")
    (visit,) = visits_by_visitor(db_session, j.visitor)
    assert (visit.ticket_article, visit.tickets) == ("c", 2)
