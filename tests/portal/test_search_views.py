"""Search through the portal: page, JSON API, suggestions, index life cycle (fake encoder)."""
import pytest

from tests.conftest import make_app

ARTICLE = """---
title: "{title}"
slug: {slug}
locale: {locale}
category: glossary
tags: [{tags}]
concept: {concept}
---
# {title}

{body}
"""


@pytest.fixture
def search_app(tmp_path):
    app = make_app(tmp_path)
    src = tmp_path / "articles"
    src.mkdir()
    for slug, locale, title, tags, concept, body in [
        ("it-support-ticket", "it", "Ticket di supporto", "ticket", "support-ticket",
         "Un ticket di supporto registra il problema di un cliente."),
        ("ro-knowledge-base", "ro", "Bază de cunoștințe", "kb", "knowledge-base",
         "O bibliotecă online de articole și ghiduri <script>x</script>."),
        ("en-refund", "en", "Refund not showing up", "refund", "refund", "Why is my refund not showing up?"),
    ]:
        (src / f"{slug}.md").write_text(ARTICLE.format(slug=slug, locale=locale, title=title, tags=tags,
                                                       concept=concept, body=body), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import", str(src)])
    assert result.exit_code == 0, result.output
    return app


def test_api_search_contract(search_app):
    client = search_app.test_client()
    body = client.get("/api/search?q=tiket+di+suporto").get_json()
    assert set(body) >= {"query", "mode", "total", "took_ms", "suggestion", "results"}
    assert body["mode"] == "hybrid" and body["suggestion"] == "ticket di supporto"
    first = body["results"][0]
    assert set(first) >= {"slug", "title", "locale", "category", "url", "snippet", "score"}
    assert first["slug"] == "it-support-ticket" and first["url"].endswith("/it-support-ticket")
    for mode in ("keyword", "semantic"):
        assert client.get(f"/api/search?q=cunostinte&mode={mode}").get_json()["mode"] == mode


@pytest.mark.parametrize("qs,field", [("mode=magic", "mode"), ("limit=0", "limit"), ("limit=x", "limit"),
                                      ("page=-1", "page"), ("locale=xx", "locale")])
def test_api_bad_params_are_json_400(search_app, qs, field):
    resp = search_app.test_client().get(f"/api/search?q=ticket&{qs}")
    assert resp.status_code == 400 and field in resp.get_json()["fields"]


@pytest.mark.parametrize("q", ['"', "(", "*", "OR", "AND", ":", "x" * 5000, "", "!!!"])
def test_odd_queries_answer_200(search_app, q):
    client = search_app.test_client()
    assert client.get("/api/search", query_string={"q": q}).status_code == 200
    assert client.get("/search", query_string={"q": q}).status_code == 200


def test_suggest(search_app):
    body = search_app.test_client().get("/api/suggest?q=refu").get_json()
    assert [s["slug"] for s in body["suggestions"]] == ["en-refund"]
    assert body["suggestions"][0]["url"].endswith("/en-refund")


def test_search_page_keeps_query_and_escapes_snippets(search_app):
    html = search_app.test_client().get("/search?q=biblioteca").get_data(as_text=True)
    assert 'value="biblioteca"' in html
    assert "<mark>bibliotecă</mark>" in html and "<script>x" not in html


def test_no_results_page_offers_help(search_app):
    html = search_app.test_client().get("/search?q=zzzzqqq&mode=keyword").get_data(as_text=True)
    assert "No article answers" in html and "Open a ticket" in html


def test_index_follows_changes_and_reindex(search_app):
    from portal import db
    from portal.models import Article
    service = search_app.extensions["sportello.search"]
    with search_app.app_context():
        article = db.get_session().scalars(db.select(Article).where(Article.slug == "en-refund")).one() \
            if hasattr(db, "select") else None
    client = search_app.test_client()
    assert client.get("/api/search?q=refund").get_json()["total"] >= 1
    with search_app.app_context():
        service.apply(removed=["en-refund"])
    assert "en-refund" not in [r["slug"] for r in client.get("/api/search?q=refund").get_json()["results"]]
    result = search_app.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "en-refund" in [r["slug"] for r in client.get("/api/search?q=refund").get_json()["results"]]


def test_corrupt_index_is_rebuilt_on_start(search_app, tmp_path):
    import pathlib
    home = pathlib.Path(search_app.config["HOME"]) / "search"
    (home / "vectors" / "meta.json").write_text("{broken")
    for p in (home / "keyword").glob("*.toc"):
        p.write_bytes(b"garbage")
    app2 = make_app(tmp_path, fresh=False, AUTO_REINDEX=True)
    body = app2.test_client().get("/api/search?q=refund").get_json()
    assert body["results"][0]["slug"] == "en-refund"
    assert app2.extensions["sportello.search"].writer.health().ok


def test_restart_finds_the_index_in_step(search_app, tmp_path):
    """A restart after an import must not mistake every article for a stale one."""
    app2 = make_app(tmp_path, fresh=False)
    with app2.app_context():
        assert app2.extensions["sportello.search"].ensure_ready() == "ok"
