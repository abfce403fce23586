"""/api/suggest through the portal: one entry per concept, the visitor's language first."""
import pytest

ARTICLE = """---
title: "{title}"
slug: {slug}
locale: {locale}
category: glossary
concept: {concept}
---
# {title}

Body.
"""
ARTICLES = [("it-csat", "it", "CSAT (soddisfazione del cliente)", "csat"),
            ("ro-csat", "ro", "CSAT (satisfacția clientului)", "csat"),
            ("en-csat", "en", "CSAT (customer satisfaction)", "csat"),
            ("it-frt", "it", "Tempo di prima risposta (FRT)", "frt"),
            ("en-frt", "en", "First response time (FRT)", "frt"),
            ("en-track", "en", "How to track my ticket", "track")]


@pytest.fixture
def kb(app, tmp_path):
    src = tmp_path / "kb"
    src.mkdir()
    for slug, locale, title, concept in ARTICLES:
        (src / f"{slug}.md").write_text(ARTICLE.format(slug=slug, locale=locale, title=title, concept=concept),
                                        encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["import", str(src)]).exit_code == 0
    return app


def _suggest(client, **params):
    resp = client.get("/api/suggest", query_string=params)
    assert resp.status_code == 200
    return [(s["slug"], s["locale"]) for s in resp.get_json()["suggestions"]]


def test_translations_fold_into_the_visitors_language(kb):
    client = kb.test_client()
    assert _suggest(client, q="csat", locale="ro") == [("ro-csat", "ro")]
    assert _suggest(client, q="csat", locale="it") == [("it-csat", "it")]
    # without ?locale= the UI's language decides
    assert _suggest(client, q="csat", lang="it") == [("it-csat", "it")]
    assert _suggest(kb.test_client(), q="csat") == [("en-csat", "en")]


def test_a_title_only_in_another_language_is_shown_with_its_locale(kb):
    client = kb.test_client()
    # only the Italian title has these words: it is shown (the page tags it), once
    assert _suggest(client, q="tempo di pri", locale="en") == [("it-frt", "it")]
    assert _suggest(client, q="frt", locale="en") == [("en-frt", "en")]


def test_words_anywhere_and_bad_locale(kb):
    client = kb.test_client()
    assert _suggest(client, q="how to tra") == [("en-track", "en")]
    assert _suggest(client, q="track my") == [("en-track", "en")]
    resp = client.get("/api/suggest?q=csat&locale=xx")
    assert resp.status_code == 400 and "locale" in resp.get_json()["fields"]
