"""The pre-aggregates kept on write always equal a recount from the visit and event rows."""
import random
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from portal import metrics
from portal.tracking.integrity import BurstRule, Origin
from portal.tracking.models import ArticleDay, DayTotals, Event, QueryDay, Visit
from portal.tracking.service import rebuild_aggregates
from tests.threads import run_together
from tests.tracking.helpers import D, Journey, signed_cookie

# Tight enough that the random visitors below, sharing four addresses, make bursts.
BURST = BurstRule(((4, timedelta(hours=2)), (2, timedelta(minutes=5))))


def _origin(rng, first):
    """A request's origin: mostly a browser; some scripts, some first requests without the cookie."""
    return Origin(confirmed=not first or rng.random() < 0.7, automated=rng.random() < 0.1,
                  address=rng.choice(("a1", "a2", "a3", "a4", None)))


def random_journeys(session, seed, n_visitors=25, steps=14):
    rng = random.Random(seed)
    for v in range(n_visitors):
        j = Journey(session, f"visitor-{seed}-{v:03d}-random", burst=BURST)
        t = D + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        for n in range(rng.randrange(1, steps)):
            j.origin = _origin(rng, n == 0)
            t += timedelta(minutes=rng.choice((1, 5, 20, 29, 30, 31, 45, 120, 600, 1500)))
            slug, query = rng.choice("abcd"), rng.choice(("reset", "invoice", "sla", None))
            action = rng.randrange(7)
            if action == 0 and query:
                j.search(t, query, results=rng.choice((0, 2, 5)))
            elif action == 1 and query:
                j.click(t, slug, query)
            elif action in (2, 3):
                j.view(t, slug, query=query)
            elif action == 4:
                j.vote(t, slug, helpful=rng.choice((True, False, None)), solved=rng.choice((True, False, None)))
            elif action == 5:
                j.vote(t, slug, helpful=rng.choice((True, False)))
            else:
                j.ticket(t, query=query)


def direct_articles(session):
    answered, failed = Counter(), Counter()
    for v in session.scalars(select(Visit)):
        outcome = metrics.classify(v.views, v.positive, v.negative, v.tickets, v.ticket_after, v.flags)
        if outcome == "self_served" and v.answer_article:
            answered[(v.day, v.answer_article)] += 1
        if outcome == "escalated" and v.ticket_article:
            failed[(v.day, v.ticket_article)] += 1
    return answered, failed


def snapshot(session):
    days = sorted((r.day, r.visits, r.self_served, r.self_served_inferred, r.escalated, r.tickets,
                   r.excluded_automated, r.excluded_burst, r.excluded_vote_without_view, r.excluded_no_cookie)
                  for r in session.scalars(select(DayTotals)) if r.visits or r.excluded_automated
                  or r.excluded_burst or r.excluded_vote_without_view or r.excluded_no_cookie)
    arts = sorted((r.day, r.article, r.answered, r.failed) for r in session.scalars(select(ArticleDay))
                  if r.answered or r.failed)
    # A query whose searches all moved out with their visits leaves a row of zeros.
    queries = sorted((r.day, r.query_norm, r.searches, r.no_result, r.clicked) for r in session.scalars(select(QueryDay))
                     if r.searches or r.no_result or r.clicked)
    return days, arts, queries


def test_pre_aggregates_match_recounts(db_session):
    for seed in range(4):
        random_journeys(db_session, seed)
    start, end = D.date(), D.date() + timedelta(days=6)
    now = D + timedelta(days=3, hours=12)
    assert metrics.daily_counts(db_session, start, end, now) == metrics.recount_daily(db_session, start, end, now)

    answered, failed = direct_articles(db_session)
    for day, article, a, f in snapshot(db_session)[1]:
        assert (a, f) == (answered.pop((day, article), 0), failed.pop((day, article), 0))
    assert not +answered and not +failed

    # The search report counts the searches of the visits that count.
    searches = db_session.execute(select(Event.ts, Event.query_norm, Event.results, Event.clicked)
                                  .join(Visit, Visit.id == Event.visit_id)
                                  .where(Event.kind == "search", Visit.flags == 0)).all()
    assert db_session.scalar(select(func.count()).select_from(Visit).where(Visit.flags != 0))  # some left out
    report = metrics.search_report(db_session, start, end)
    assert report.searches == len(searches)
    assert report.no_result == sum(r == 0 for _, _, r, _ in searches)
    assert report.clicked == sum(bool(c) for *_, c in searches)

    before = snapshot(db_session)
    rebuild_aggregates(db_session)
    assert snapshot(db_session) == before


def test_concurrent_events_of_one_visitor_are_all_counted(app, tmp_path):
    """Parallel requests with one cookie: one visit, every view counted, aggregates exact."""
    from portal.db import get_session
    from portal.importer import import_paths
    from tests.conftest import write_article

    write_article(tmp_path / "kb", "alpha")
    with app.app_context():
        import_paths(get_session(), [str(tmp_path / "kb")], app.config["LOCALES"])
    cookie = signed_cookie(app, "concurrent-visitor-000001")
    errors = []

    def worker(n):
        client = app.test_client()
        client.set_cookie("sportello_visitor", cookie)
        for i in range(8):
            resp = client.get("/api/articles/alpha") if i % 2 else client.post(
                "/api/articles/alpha/feedback", json={"helpful": (n + i) % 3 == 0})
            if resp.status_code not in (200, 201):
                errors.append(resp.status_code)

    run_together(worker, 4)
    assert errors == []
    with app.app_context():
        session = get_session()
        (visit,) = session.scalars(select(Visit)).all()
        assert visit.views == 16
        day = visit.day
        assert metrics.daily_counts(session, day, day, D) == metrics.recount_daily(session, day, day, D)
