"""Search-as-you-type (search/titles.py through KeywordBackend.suggest): words anywhere in a
title, the last one as a prefix, the visitor's language first."""
import pytest

from search.base import Document
from search.registry import create_backend

TITLES = [
    ("en-track", "en", "How to track my parcel", "track"),
    ("en-track-long", "en", "Track your order from the warehouse all the way to your door", "track-long"),
    ("en-short", "en", "Parcel track", "short"),
    ("it-csat", "it", "CSAT (soddisfazione del cliente)", "csat"),
    ("ro-csat", "ro", "CSAT (satisfacția clientului)", "csat"),
    ("en-csat", "en", "CSAT (customer satisfaction)", "csat"),
    ("it-frt", "it", "Tempo di prima risposta", "frt"),
    ("it-perche", "it", "Perché il ticket è chiuso", "closed"),
]


@pytest.fixture
def titles(tmp_path):
    backend = create_backend("keyword", tmp_path / "idx")
    backend.index([Document(slug=s, title=t, locale=loc, concept=c, body="Body.") for s, loc, t, c in TITLES])
    return backend


def slugs(hits):
    return [h.slug for h in hits]


@pytest.mark.parametrize("typed,expected", [
    ("how to tra", "en-track"),          # the last word as a prefix, the others as words
    ("track parc", "en-track"),          # in any position and any order
    ("my tra", "en-track"),
    ("tempo di pri", "it-frt"),
    ("perche chiu", "it-perche"),        # typed without accents
    ("PERCHÉ", "it-perche"),
])
def test_words_anywhere_in_a_title(titles, typed, expected):
    assert expected in slugs(titles.suggest(typed))


@pytest.mark.parametrize("typed", ["", "t", "  ", "trac how", "track zzz", "how to trax", "\"(*"])
def test_no_title_for_a_half_word_before_the_last_or_nothing_typed(titles, typed):
    # only the last word may be half typed; one letter alone is too little to suggest from
    assert slugs(titles.suggest(typed)) == []


def test_titles_starting_with_what_was_typed_come_first(titles):
    found = slugs(titles.suggest("track"))
    assert found.index("en-track-long") < found.index("en-short") < found.index("en-track")


def test_visitors_language_first_and_filter(titles):
    assert slugs(titles.suggest("csat", prefer="ro"))[0] == "ro-csat"
    assert slugs(titles.suggest("csat", prefer="en"))[0] == "en-csat"
    assert slugs(titles.suggest("csat", locale="it")) == ["it-csat"]
    # no Romanian title matches: the others still come
    assert slugs(titles.suggest("how to", prefer="ro")) == ["en-track"]


def test_limit_and_removed_articles(titles):
    assert len(titles.suggest("csat", limit=2)) == 2
    titles.remove(["en-track"])
    assert "en-track" not in slugs(titles.suggest("how to tra"))
    titles.index([Document(slug="en-new", title="How to travel light", locale="en", body="x")])
    assert slugs(titles.suggest("how to tra")) == ["en-new"]
