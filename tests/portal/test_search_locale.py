"""Results in the visitor's language even when the search kept only another version of the answer."""
import pytest

from portal.db import get_session
from portal.importer import import_paths
from portal.indexing import articles_changed


@pytest.fixture
def kb(app, make_article):
    """The NPS concept in Italian and English; only the Italian text has the Italian words."""
    make_article("it-nps", locale="it", concept="nps", title="Net Promoter Score (NPS)",
                 body="NPS misura la fedeltà dei clienti: promotori meno detrattori.")
    path = make_article("en-nps", locale="en", concept="nps", title="Net Promoter Score explained",
                        body="It measures loyalty: promoters minus detractors.")
    make_article("it-solo", locale="it", concept="solo", title="Solo in italiano",
                 body="Un articolo sulla fedeltà che esiste solo in italiano.")
    with app.app_context():
        _, changed = import_paths(get_session(), [str(path.parent)], app.config["LOCALES"])
        articles_changed(upserted=changed)
    return app


def test_api_shows_the_visitors_version_the_search_did_not_reach(client, kb):
    results = client.get("/api/search?q=fedelta+promotori+detrattori&mode=keyword&prefer=en").get_json()["results"]
    first = results[0]
    assert first["slug"] == "en-nps" and first["locale"] == "en" and first["url"].endswith("/en-nps")
    assert first["also_in"] == [{"locale": "it", "slug": "it-nps"}]
    # a concept with no English version stays in its own language
    assert "it-solo" in [r["slug"] for r in results]
    # without ?prefer= nothing is folded or swapped
    plain = client.get("/api/search?q=fedelta+promotori+detrattori&mode=keyword").get_json()["results"]
    assert plain[0]["slug"] == "it-nps"


def test_english_visitors_page_links_the_english_version(client, kb):
    page = client.get("/search?q=fedelta+promotori+detrattori&mode=keyword&lang=en").get_data(as_text=True)
    assert "/articles/en-nps?" in page and "Net Promoter Score explained" in page
    assert 'href="/articles/it-nps?q=' in page          # under "also in"
