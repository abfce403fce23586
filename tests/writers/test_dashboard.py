"""The writers' dashboard: drafts, reviews, stale translations, not-helpful votes, content gaps."""
from datetime import datetime, timezone

from tests.writers.conftest import status_step


def test_drafts_and_reviews(client, login, create_draft):
    login("writer", email="anna@example.com")
    mine = create_draft(title="Anna's draft")
    other = create_draft(title="Sent for review")
    status_step(client, other, "submit", 1)
    login("writer", email="bruno@example.com")
    board = client.get("/write/").get_data(as_text=True)
    drafts, rest = board.split("Waiting for review", 1)
    assert "Anna&#39;s draft" not in drafts  # not Bruno's draft
    assert "Sent for review" in rest
    login("writer", email="anna@example.com")
    assert "Anna&#39;s draft" in client.get("/write/").get_data(as_text=True).split("Waiting for review")[0]
    assert mine


def test_not_helpful_votes_and_content_gaps(client, login, create_draft, app):
    from portal.db import get_session
    from portal.tracking.service import EventData, record_events

    login("admin")
    article_id = create_draft(slug="en-bad", title="A confusing article")
    status_step(client, article_id, "publish", 1)
    now = datetime.now(timezone.utc)
    with app.app_context():
        session = get_session()
        for n in range(3):
            record_events(session, f"v{n}", [EventData(kind="view", article="en-bad"),
                                             EventData(kind="feedback", article="en-bad", helpful=False)], now)
        record_events(session, "v9", [EventData(kind="search", query="refund for a late order", results=0)], now)
        record_events(session, "v8", [EventData(kind="search", query="refund for a late order", results=0)], now)
    board = client.get("/write/").get_data(as_text=True)
    votes = board.split("not helpful&#34; votes")[1] if "&#34;" in board else board.split('not helpful" votes')[1]
    assert "A confusing article" in votes and "<td>3</td>" in votes
    gaps = board.split("Content gaps")[1]
    assert "refund for a late order" in gaps and "/write/new?title=refund" in gaps


def test_dashboard_without_reader_signals_says_so(client, login, monkeypatch):
    """If the tracking area fails, the dashboard still renders and says the figures are missing."""
    from portal import metrics

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(metrics, "helpful_by_article", broken)
    login("writer")
    page = client.get("/write/")
    assert page.status_code == 200 and "Reader feedback is not available yet." in page.get_data(as_text=True)
