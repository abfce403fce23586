"""Cached public pages and search answers: the same bytes as a fresh render, never outdated by a
publish, wherever the publish was made (another app instance on the same database and indexes)."""
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from portal import kb, pagecache
from portal.db import get_session
from portal.importer import import_paths
from portal.indexing import articles_changed
from portal.models import Article, Category
from tests.conftest import make_app

TOKEN = re.compile(r'name="csrf_token" value="[^"]+"')


@pytest.fixture
def kb_app(app, make_article):
    make_article("en-reset", title="Reset your password", locale="en", concept="reset",
                 body="## Steps\n\nOpen the login page and choose *Forgot password*.")
    make_article("it-reset", title="Reimpostare la password", locale="en", concept="reset-it", body="Passi.")
    make_article("en-invoice", title="Find an invoice", locale="en", body="Invoices live under Billing.")
    path = make_article("en-refund", title="Refund not showing up", locale="en", body="Refunds take 5 days.")
    with app.app_context():
        report, changed = import_paths(get_session(), [str(path.parent)], app.config["LOCALES"])
        assert not report.failed
        articles_changed(upserted=changed)
    return app


def _other(tmp_path, **config):
    """A second app instance on the same home (database and indexes), as another worker would be."""
    return make_app(tmp_path, fresh=False, **config)


def _save(app, slug, **changes):
    """Change an article through the same service the editor and the importer use, and index it."""
    with app.app_context():
        session = get_session()
        article = session.scalar(select(Article).where(Article.slug == slug))
        data = kb.to_data(article)
        article, _status = kb.save_article(session, replace(data, **changes))
        session.commit()
        articles_changed(upserted=[article])


def _page(client, path, **kw):
    resp = client.get(path, **kw)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def test_a_cached_article_page_is_the_page_a_fresh_render_gives(kb_app, client, tmp_path):
    uncached = _other(tmp_path, PAGE_CACHE_SECONDS=0).test_client()
    for path in ("/articles/en-reset", "/articles/en-reset?lang=it", "/", "/?lang=ro", "/search?q=password"):
        first, second = _page(client, path), _page(client, path)  # a miss, then a hit
        fresh = _page(uncached, path)
        assert TOKEN.sub("", first) == TOKEN.sub("", second) == TOKEN.sub("", fresh)
    assert kb_app.extensions["sportello.token_placeholder"] not in _page(client, "/articles/en-reset")


def test_a_page_one_instance_rendered_serves_the_others(kb_app, client, tmp_path, monkeypatch):
    import portal.views.kb as views

    renders = []
    render = views._article_page
    monkeypatch.setattr(views, "_article_page", lambda *a, **kw: renders.append(a) or render(*a, **kw))
    mine = _page(client, "/articles/en-invoice")
    other = _other(tmp_path)
    theirs = _page(other.test_client(), "/articles/en-invoice")
    assert len(renders) == 1 and TOKEN.sub("", mine) == TOKEN.sub("", theirs)
    assert "csrf-placeholder" not in theirs  # the other instance filled in a token of its own


def test_an_edit_in_another_instance_shows_at_once(kb_app, client, tmp_path):
    assert "Forgot password" in _page(client, "/articles/en-reset")
    assert "Find an invoice" in _page(client, "/articles/en-refund")  # related article, cached
    other = _other(tmp_path)
    _save(other, "en-reset", body="## Steps\n\nAsk the help desk for a new link.")
    _save(other, "en-invoice", title="Where are my invoices")
    page = _page(client, "/articles/en-reset")
    assert "help desk" in page and "Forgot password" not in page
    related = _page(client, "/articles/en-refund")
    assert "Where are my invoices" in related and "Find an invoice" not in related


def test_an_article_unpublished_elsewhere_is_gone_at_once(kb_app, client, tmp_path):
    _page(client, "/articles/en-refund")
    assert "Refund not showing up" in _page(client, "/")
    _save(_other(tmp_path), "en-refund", status="draft")
    assert client.get("/articles/en-refund").status_code == 404
    assert "Refund not showing up" not in _page(client, "/")


def test_search_finds_an_article_published_in_another_instance(kb_app, client, tmp_path, make_article):
    assert client.get("/api/search?q=zanzibar+courier").get_json()["total"] == 0
    assert "zanzibar-delivery" not in _page(client, "/search?q=zanzibar+courier")
    other = _other(tmp_path)
    path = make_article("zanzibar-delivery", title="Zanzibar courier delivery", locale="en",
                        body="Orders to Zanzibar go by courier.")
    with other.app_context():
        report, changed = import_paths(get_session(), [str(path)], other.config["LOCALES"])
        # Between the commit and the indexing a search still finds nothing, and that is cached...
        assert client.get("/api/search?q=zanzibar+courier").get_json()["total"] == 0
        articles_changed(upserted=changed)
    # ...until the index write, which outdates it too.
    assert client.get("/api/search?q=zanzibar+courier").get_json()["results"][0]["slug"] == "zanzibar-delivery"
    assert "zanzibar-delivery" in _page(client, "/search?q=zanzibar+courier")


def test_every_search_is_recorded_even_when_its_page_is_cached(kb_app, client):
    from portal.tracking.models import Event

    for _ in range(3):
        _page(client, "/search?q=password")
    client.get("/api/search?q=password")
    with kb_app.app_context():
        searches = get_session().scalars(select(Event).where(Event.kind == "search")).all()
    assert len(searches) == 4 and {e.results for e in searches} == {searches[0].results}


def test_the_views_of_a_cached_page_are_all_counted(kb_app, client):
    for _ in range(5):
        _page(client, "/articles/en-invoice")
    with kb_app.app_context():
        assert get_session().scalar(select(Article.views).where(Article.slug == "en-invoice")) == 5


def test_a_visitor_who_voted_sees_the_vote_not_the_shared_page(kb_app, client, app):
    other = app.test_client()
    _page(other, "/articles/en-reset")  # the shared page is cached now
    _page(client, "/articles/en-reset")  # a vote counts from a reader
    client.post("/articles/en-reset/feedback", data={"helpful": "no"})
    mine = _page(client, "/articles/en-reset")
    assert re.search(r'value="no"[^>]*aria-pressed="true"', mine) and "data-fb-no >" in mine
    theirs = _page(other, "/articles/en-reset")
    assert 'aria-pressed="true"' not in theirs and "data-fb-no hidden" in theirs


def test_the_query_of_a_search_click_is_echoed(kb_app, client):
    _page(client, "/articles/en-reset")
    page = _page(client, "/articles/en-reset?q=forgot+password&pos=1")
    assert "Did this answer your question?" in page and "forgot password" in page


def test_staff_get_their_own_page(kb_app, client, login):
    anonymous = kb_app.test_client()
    assert "Edit this article" not in _page(anonymous, "/articles/en-reset")
    login("writer")
    assert "Edit this article" in _page(client, "/articles/en-reset")


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_each_visitor_gets_a_working_token_of_their_own(kb_app, app):
    tokens = []
    for _ in range(2):
        client = app.test_client()
        page = _page(client, "/articles/en-reset")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = client.post("/articles/en-reset/feedback", data={"helpful": "yes", "csrf_token": token})
        assert resp.status_code == 302
        tokens.append(token)
    assert tokens[0] != tokens[1]
    assert app.test_client().post("/articles/en-reset/feedback", data={"helpful": "yes",
                                                                       "csrf_token": tokens[0]}).status_code == 400


def test_the_generation_moves_with_content_not_with_views(kb_app):
    with kb_app.app_context():
        session = get_session()
        start = pagecache.generation(session)
        session.rollback()
        article = session.scalar(select(Article).where(Article.slug == "en-refund"))
        kb.add_views(session, {article.slug: 3})
        session.commit()
        assert pagecache.generation(session) == start
        session.rollback()
        session.scalar(select(Category)).name = "Renamed"
        session.commit()
        assert pagecache.generation(session) == start + 1
        session.rollback()
        article.status = "archived"
        session.commit()
        assert pagecache.generation(session) == start + 2
