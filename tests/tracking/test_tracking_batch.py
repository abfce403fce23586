"""Batched recording (views, clicks, searches) gives exactly the rows of one-at-a-time recording,
the write-behind buffer loses nothing (every view is counted once it is flushed or closed), and a
ticket's visit context reads only what the ticket keeps."""
import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from portal.tracking.integrity import TRUSTED, BurstRule, Origin
from portal.tracking.models import ArticleDay, DayTotals, Event, QueryDay, Visit, Vote
from portal.tracking.service import EventData, Step, add_events, record_batch, record_events
from tests.threads import run_together
from tests.tracking.helpers import D, signed_cookie

TABLES = (Event, Vote, Visit, DayTotals, ArticleDay, QueryDay)


def _origin(rng, visitor, seen):
    """How the request layer judged a step: a few scripted ones, first requests without the cookie
    back, addresses shared so that bursts happen (BURST)."""
    first = visitor not in seen
    seen.add(visitor)
    return Origin(confirmed=not first or rng.random() < 0.6, automated=rng.random() < 0.05,
                  address=f"address-{int(visitor[8:12]) % 3}")


BURST = BurstRule(((2, timedelta(hours=1)),))


def _journeys(seed, origins=False):
    """A shuffled day of 6 visitors (more with origins): searches, clicks and views, now and then a
    vote or a ticket, with gaps over 30 minutes and a midnight in between; with origins, the steps
    carry how they were judged, and some are only the beacon confirming a visit."""
    rng, seen = random.Random(seed), set()
    visitors = 12 if origins else 6
    queries = ["reset password", "Reset  Password", "fattura", "sla", "nothing here"]
    steps, at, searched = [], D + timedelta(hours=21), {}
    for _ in range(160):
        at += timedelta(minutes=rng.choice([0, 1, 2, 5, 12, 40]), seconds=rng.randrange(60))
        visitor = f"visitor-{rng.randrange(visitors):04d}-xxxxxxxxxxxx"
        query = searched.get(visitor) if searched.get(visitor) and rng.random() < 0.7 else rng.choice(queries)
        searched[visitor] = query
        roll = rng.random()
        if roll < 0.35:
            events = (EventData(kind="search", query=query, results=rng.choice([0, 2, 5]), mode="hybrid", locale="it"),)
        elif roll < 0.55:
            article = rng.choice(["alpha", "beta"])
            events = (EventData(kind="click", article=article, query=query, position=rng.randrange(1, 4), locale="it"),
                      EventData(kind="view", article=article, query=query, locale="it"))
        elif roll < 0.85:
            events = (EventData(kind="view", article=rng.choice(["alpha", "beta", "gamma"]), locale="ro"),)
        elif roll < 0.95:
            events = (EventData(kind="feedback", article=rng.choice(["alpha", "beta"]),
                                helpful=rng.choice([True, False]), locale="it"),)
        else:
            events = (EventData(kind="ticket_opened", ticket_ref=f"SP-{rng.randrange(10**6)}", locale="it"),)
        if origins and rng.random() < 0.1:
            events = ()  # the beacon
        steps.append(Step(visitor, events, at, _origin(rng, visitor, seen) if origins else TRUSTED))
    return steps


def _snapshot(session):
    """Every tracking row as comparable values (visits named by visitor and sequence, not by id)."""
    visits = {v.id: (v.visitor_id, v.seq) for v in session.scalars(select(Visit))}
    columns = lambda row, skip=("id",): {c.key: getattr(row, c.key) for c in row.__table__.columns  # noqa: E731
                                         if c.key not in skip}
    out = {"visits": sorted((columns(v, ("id",)) for v in session.scalars(select(Visit))), key=repr),
           "events": [{**columns(e, ("id", "visit_id")), "visit": visits[e.visit_id]}
                      for e in session.scalars(select(Event).order_by(Event.id))],
           "votes": sorted(({**columns(v, ("id", "visit_id")), "visit": visits[v.visit_id]}
                            for v in session.scalars(select(Vote))), key=repr)}
    for model in (DayTotals, ArticleDay, QueryDay):
        out[model.__tablename__] = sorted((columns(r, ()) for r in session.scalars(select(model))), key=repr)
    return out


def _clear(session):
    for model in TABLES:
        session.execute(delete(model))
    session.commit()


@pytest.mark.parametrize("seed, origins", [(1, False), (2, False), (3, False), (4, True), (6, True), (7, True)])
@pytest.mark.parametrize("single", ["record_events", "add_events"])
def test_batches_give_the_rows_of_one_event_at_a_time(db_session, seed, origins, single):
    steps = _journeys(seed, origins)
    burst = BURST if origins else None
    for step in steps:
        record_events(db_session, step.visitor_id, list(step.events), step.at, step.origin, burst)
    expected = _snapshot(db_session)
    if origins:  # every rule of portal.tracking.integrity had a say
        assert {v["flags"] for v in expected["visits"]} >= {0, 2, 4}
    assert expected["events"] and any(e["clicked"] for e in expected["events"])
    assert len({(v["visitor_id"]) for v in expected["visits"]}) < len(expected["visits"])  # gaps opened visits
    _clear(db_session)

    rng, pending = random.Random(seed), []
    for step in steps:
        if all(e.kind in ("search", "click", "view") for e in step.events):
            pending.append(step)
            if len(pending) >= rng.randint(1, 12):
                record_batch(db_session, pending, burst)
                pending = []
        else:  # what the portal does: the queue first, then the vote or ticket on its own
            if pending:
                record_batch(db_session, pending, burst)
                pending = []
            if single == "add_events":  # a ticket's event, inside the ticket's transaction
                add_events(db_session, step.visitor_id, list(step.events), step.at, step.origin, burst)
                db_session.commit()
            else:
                record_events(db_session, step.visitor_id, list(step.events), step.at, step.origin, burst)
    if pending:
        record_batch(db_session, pending, burst)
    assert _snapshot(db_session) == expected


def test_a_batch_refuses_votes_and_tickets(db_session):
    with pytest.raises(ValueError):
        record_batch(db_session, [Step("v" * 20, (EventData(kind="ticket_opened", ticket_ref="SP-1"),), D)])


@pytest.fixture
def app_config():
    """A real write-behind interval, long enough that nothing is written unless flushed."""
    return {"TRACKING_FLUSH_SECONDS": 30}


@pytest.fixture
def article(app, make_article):
    from portal.db import get_session
    from portal.importer import import_paths

    path = make_article("alpha", title="Alpha", locale="en")
    with app.app_context():
        import_paths(get_session(), [str(path.parent)], app.config["LOCALES"])
    return "alpha"


def _figures(app):
    from portal.db import get_session
    from portal.models import Article

    with app.app_context():
        session = get_session()
        visits = session.scalars(select(Visit)).all()
        return (sum(v.views for v in visits), session.scalar(select(Article.views).where(Article.slug == "alpha")),
                len(session.scalars(select(Event).where(Event.kind == "view")).all()))


def test_buffered_views_are_all_counted_after_a_flush(app, article):
    errors = []

    def visitor(n):
        client = app.test_client()
        client.set_cookie("sportello_visitor", signed_cookie(app, f"buffered-visitor-{n:06d}"))
        for _ in range(25):
            if client.get("/articles/alpha").status_code != 200:
                errors.append(n)

    run_together(visitor, 4)
    assert errors == []
    buffer = app.extensions["sportello.tracking"]
    assert buffer.pending() > 0 and _figures(app) == (0, 0, 0)  # queued, not yet written
    buffer.flush()
    assert buffer.pending() == 0 and _figures(app) == (100, 100, 100)


def test_closing_the_buffer_writes_what_is_pending(app, client, article):
    for _ in range(3):
        client.get("/articles/alpha")
    app.extensions["sportello.tracking"].close()  # what gunicorn's worker_exit and atexit call
    assert _figures(app) == (3, 3, 3)
    client.get("/articles/alpha")  # after close, each request writes at once
    assert _figures(app) == (4, 4, 4)


def test_a_ticket_or_vote_writes_the_queue_first(app, client, article):
    client.get("/articles/alpha")
    resp = client.post("/api/articles/alpha/feedback", json={"helpful": True})
    assert resp.status_code == 201
    from portal.db import get_session

    with app.app_context():
        (visit,) = get_session().scalars(select(Visit)).all()
        assert (visit.views, visit.positive) == (1, 1)  # the view came first, as it happened
        (day,) = get_session().scalars(select(DayTotals)).all()
        assert (day.visits, day.self_served) == (1, 1)


def test_a_vote_writes_its_own_visit_first_and_leaves_the_others_queued(app, article):
    mine, other = app.test_client(), app.test_client()
    mine.get("/articles/alpha")
    other.get("/articles/alpha")
    assert mine.post("/api/articles/alpha/feedback", json={"helpful": False}).status_code == 201
    from portal.db import get_session

    with app.app_context():
        (visit,) = get_session().scalars(select(Visit)).all()
        assert (visit.views, visit.negative) == (1, 1)
    assert app.extensions["sportello.tracking"].pending() == 1  # the other visitor's step


def test_a_limited_visit_context_is_the_start_of_the_full_one(db_session):
    from portal.tracking.service import visit_context

    visitor, at = "context-visitor-000001", D + timedelta(hours=9)
    steps = []
    for n in range(30):
        steps.append(Step(visitor, (EventData(kind="search", query=f"query {n % 12}", results=1),), at))
        steps.append(Step(visitor, (EventData(kind="view", article=f"article-{(n * 7) % 25}"),), at))
        at += timedelta(seconds=20)
    record_batch(db_session, steps)
    for n in range(6):
        record_events(db_session, visitor, [EventData(kind="feedback", article=f"article-{n}", helpful=n % 2 == 0)],
                      at + timedelta(seconds=n))
    full = visit_context(db_session, visitor, at + timedelta(minutes=1))
    assert len(full.queries) == 12 and len(full.articles) == 25 and len(full.votes) == 6
    for limit in (1, 5, 20):
        short = visit_context(db_session, visitor, at + timedelta(minutes=1), limit)
        assert (short.queries, short.articles, short.votes) == (
            full.queries[:limit], full.articles[:limit], full.votes[:limit])


def test_a_long_visit_that_repeats_itself_still_lists_its_later_values(db_session):
    from portal.tracking.service import _SCAN, visit_context

    visitor, at = "context-visitor-000002", D + timedelta(hours=9)
    names = [f"query {n % 3}" for n in range(_SCAN + 50)] + [f"late query {n}" for n in range(10)]
    steps = [Step(visitor, (EventData(kind="search", query=q, results=1),), at + timedelta(seconds=n))
             for n, q in enumerate(names)]
    record_batch(db_session, steps)
    context = visit_context(db_session, visitor, at + timedelta(seconds=len(names) + 60), 5)
    assert context.queries == ["query 0", "query 1", "query 2", "late query 0", "late query 1"]


def test_the_metrics_api_includes_pending_events(app, client, article, login):
    login("lead")
    client.get("/articles/alpha")
    body = client.get("/api/metrics/self-service").get_json()
    assert body["visits"] >= 1
