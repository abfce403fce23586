"""Cross-lingual results in the portal: one result per concept, the visitor's language first."""
import pytest

from portal.db import get_session
from portal.importer import import_paths
from portal.indexing import articles_changed


@pytest.fixture
def kb(app, make_article):
    """The NPS concept in three languages plus an Italian-only article."""
    make_article("it-nps", locale="it", concept="nps", title="Net Promoter Score (NPS)",
                 body="NPS misura la fedeltà: promotori meno detrattori.")
    make_article("ro-nps", locale="ro", concept="nps", title="Net Promoter Score (NPS) în română",
                 body="NPS măsoară loialitatea: promotori minus detractori.")
    path = make_article("en-nps", locale="en", concept="nps", title="Net Promoter Score (NPS) explained",
                        body="NPS measures loyalty: promoters minus detractors.")
    make_article("it-ces", locale="it", concept="ces", title="Customer Effort Score NPS confronto",
                 body="Il CES misura lo sforzo, diverso da NPS.")
    with app.app_context():
        _, changed = import_paths(get_session(), [str(path.parent)], app.config["LOCALES"])
        articles_changed(upserted=changed)
    return app


def test_page_folds_translations_under_the_visitor_language(client, kb):
    page = client.get("/search?q=NPS&mode=keyword&lang=ro").get_data(as_text=True)
    assert "/articles/ro-nps?" in page
    assert "/articles/it-nps?q=" in page and "Și în:" in page  # folded, linked under "also in"
    assert page.count('class="result"') == 2  # nps once, ces once


def test_api_folds_only_when_asked(client, kb):
    plain = client.get("/api/search?q=NPS&mode=keyword").get_json()
    assert {"it-nps", "ro-nps", "en-nps"} <= {r["slug"] for r in plain["results"]}
    folded = client.get("/api/search?q=NPS&mode=keyword&prefer=en").get_json()
    slugs = [r["slug"] for r in folded["results"]]
    assert "en-nps" in slugs and "it-nps" not in slugs and "ro-nps" not in slugs
    entry = next(r for r in folded["results"] if r["slug"] == "en-nps")
    assert {a["locale"] for a in entry["also_in"]} == {"it", "ro"}
    assert client.get("/api/search?q=NPS&prefer=xx").status_code == 400


def test_answer_only_in_another_language_is_still_found(client, kb):
    data = client.get("/api/search?q=sforzo&mode=keyword&prefer=en").get_json()
    assert [r["slug"] for r in data["results"]] == ["it-ces"]
