"""Helpers for the writers' tests: index spy, article form data, switching accounts."""
import pytest


@pytest.fixture
def index_calls(monkeypatch):
    """Record every articles_changed call as (upserted slugs, removed slugs)."""
    from portal import indexing

    calls = []
    original = indexing.articles_changed

    def spy(upserted=(), removed=()):
        calls.append(([a.slug for a in upserted], [a.slug for a in removed]))
        return original(upserted=upserted, removed=removed)

    monkeypatch.setattr(indexing, "articles_changed", spy)
    return calls


def form(**fields):
    """Return the editor form's fields with sensible defaults, overridden by fields."""
    data = {"title": "How to reset a password", "slug": "", "locale": "en", "category": "guide",
            "tags": "account, password", "concept": "", "summary": "Reset it in two steps.",
            "body": "# Reset\n\nOpen *Settings* and choose **Reset**.\n", "note": "", "source_slug": "",
            "action": "save"}
    data.update(fields)
    return data


@pytest.fixture
def create_draft(client):
    """Create a draft through the editor as the logged-in user; return its id."""
    import re

    def _create(**fields):
        resp = client.post("/write/new", data=form(**fields))
        assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
        return int(re.search(r"/write/(\d+)", resp.headers["Location"]).group(1))

    return _create


@pytest.fixture
def article_row(app):
    """Fetch an article row by id or slug in a fresh session."""
    from sqlalchemy import select

    from portal.models import Article

    def _get(key):
        with app.app_context():
            from portal.db import get_session

            session = get_session()
            if isinstance(key, int):
                return session.get(Article, key)
            return session.scalar(select(Article).where(Article.slug == key))

    return _get


def status_step(client, article_id, action, version, note=""):
    """Press one workflow button; return the response."""
    return client.post(f"/write/{article_id}/status", data={"action": action, "version": str(version),
                                                              "note": note})
