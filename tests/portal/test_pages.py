"""Every customer page renders, in every UI language, with the visitor's locale first."""
import pytest

from portal.db import get_session
from portal.importer import import_paths


@pytest.fixture
def kb(app, make_article):
    """A small knowledge base: a concept in two locales, an FAQ entry, a draft."""
    make_article("it-sla", title="Accordo sul livello di servizio", locale="it", concept="sla",
                 body="## Cos'è\n\nUn accordo.\n\n## Come si misura\n\nCon metriche.")
    make_article("ro-sla", title="Acord privind nivelul serviciilor", locale="ro", concept="sla", body="Un acord.")
    make_article("it-frt", title="Tempo di prima risposta", locale="it", concept="frt", body="Il tempo.")
    make_article("en-faq-account", title="Do I need an account?", locale="en", category="faq", body="No.")
    path = make_article("it-draft", title="Bozza segreta", status="draft", body="Non pubblico.")
    with app.app_context():
        report, _ = import_paths(get_session(), [str(path.parent)], app.config["LOCALES"])
        assert not report.failed
    return app


def test_home_lists_categories_and_articles(client, kb):
    page = client.get("/?lang=it").get_data(as_text=True)
    assert "Come possiamo aiutarti?" in page and "Accordo sul livello di servizio" in page
    assert "Bozza segreta" not in page


def test_category_page_puts_visitor_locale_first(client, kb):
    page = client.get("/categories/glossary", headers={"Accept-Language": "ro"}).get_data(as_text=True)
    assert page.index("Acord privind") < page.index("Accordo sul livello")


def test_article_page_has_toc_translations_related_breadcrumbs(client, kb):
    resp = client.get("/articles/it-sla?lang=it")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'href="#come-si-misura"' in page  # table of contents
    assert "ro-sla" in page  # translation of the same concept
    assert "it-frt" in page  # related article, same category and locale
    assert 'aria-label="Percorso"' in page and "Ultimo aggiornamento" in page


def test_draft_is_not_public(client, kb):
    assert client.get("/articles/it-draft").status_code == 404
    assert client.get("/api/articles/it-draft").status_code == 404


def test_faq_page(client, kb):
    page = client.get("/faq?lang=en").get_data(as_text=True)
    assert "Do I need an account?" in page and "<details" in page


def test_404_page_and_json_404(client, kb):
    resp = client.get("/articles/missing")
    assert resp.status_code == 404 and "Page not found" in resp.get_data(as_text=True)
    resp = client.get("/api/articles/missing")
    assert resp.status_code == 404 and resp.get_json()["fields"] == {"slug": "missing"}


def test_500_page_hides_the_trace(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret detail")

    resp = client.get("/boom")
    assert resp.status_code == 500
    assert "secret detail" not in resp.get_data(as_text=True)


def test_api_article_contract(client, kb):
    data = client.get("/api/articles/it-sla").get_json()
    for key in ("slug", "title", "locale", "category", "tags", "html", "updated_at", "translations"):
        assert key in data
    assert [t["slug"] for t in data["translations"]] == ["ro-sla"]


def test_language_choice_order(client, kb):
    assert 'lang="ro"' in client.get("/", headers={"Accept-Language": "ro-RO,ro;q=0.9"}).get_data(as_text=True)
    resp = client.get("/?lang=it", headers={"Accept-Language": "ro"})
    assert "sportello_lang=it" in resp.headers.get("Set-Cookie", "") or any(
        "sportello_lang=it" in h for h in resp.headers.getlist("Set-Cookie"))
    assert '<html lang="it">' in client.get("/", headers={"Accept-Language": "ro"}).get_data(as_text=True)


def test_visitor_cookie_set_when_issued_and_when_first_sent_back(client):
    def sets_cookie(resp):
        return any(h.startswith("sportello_visitor=") for h in resp.headers.getlist("Set-Cookie"))

    assert sets_cookie(client.get("/"))  # issued
    assert sets_cookie(client.get("/"))  # sent back: the same id, now marked as kept
    assert not sets_cookie(client.get("/")) and not sets_cookie(client.get("/faq"))


def test_security_headers(client):
    resp = client.get("/")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_static_assets_are_local(client, kb):
    page = client.get("/").get_data(as_text=True)
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
