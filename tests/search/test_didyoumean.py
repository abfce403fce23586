""""Did you mean": typos are corrected (adjacent swaps too), words of it/ro/en are left alone."""
import pytest

from search.base import Document
from search.lexicon import Lexicon, default
from search.registry import create_backend

DOCS = [
    Document(slug="it-clienti", title="Clienti soddisfatti", locale="it",
             body="I clienti ricevono una risposta via email entro un giorno lavorativo."),
    Document(slug="en-quote", title="Quoting a reply", locale="en",
             body="Quoting the customer's message keeps the ticket readable."),
    Document(slug="en-ticket", title="Support ticket", locale="en", body="A ticket records a customer's problem."),
]


@pytest.fixture
def keyword(tmp_path):
    backend = create_backend("keyword", tmp_path / "idx")
    backend.index(DOCS)
    return backend


@pytest.mark.parametrize("query,expected", [
    ("tiket", "ticket"),                   # a letter missing
    ("emial", "email"),                    # an adjacent swap in a 5-letter word (issue 17)
    ("supprt tiket", "support ticket"),
    ("suport tiket", "suport ticket"),     # "suport" is Romanian: kept
    ("clienti soddisfati", "clienti soddisfatti"),
])
def test_typos_are_corrected(keyword, query, expected):
    assert keyword.search(query).suggestion == expected


@pytest.mark.parametrize("query", ["clients", "quitting", "happy clients", "clients quitting the queue",
                                   "perche", "ticket"])
def test_words_of_a_language_or_of_the_index_are_not_rewritten(keyword, query):
    assert keyword.search(query).suggestion is None


def test_the_search_still_expands_what_the_suggestion_keeps(keyword):
    # "clients" is not rewritten, but still finds the Italian article through its nearest word
    assert "it-clienti" in [h.slug for h in keyword.search("clients").hits]


def test_hybrid_suggestion_uses_the_same_guard(tmp_path):
    hybrid = create_backend("hybrid", tmp_path / "h", encoder="fake")
    hybrid.index(DOCS)
    assert hybrid.search("clients").suggestion is None
    assert hybrid.search("emial").suggestion == "email"


def test_lexicon_rules():
    lex = default()
    assert lex.zipf("clients").keys() == {"en"} and "it" in lex.zipf("perche")     # folded like the index
    assert not lex.may_replace("clients", "clienti")      # a word of another language
    assert not lex.may_replace("quitting", "quoting")     # a rarer word
    assert not lex.may_replace("wish", "with")            # more common, but not by far enough
    assert lex.may_replace("teh", "the")                  # a rare word that is a common typo
    assert lex.may_replace("xqzvt", "xq")                 # no word of any language
    assert Lexicon(("en",)).zipf("clienti") == {}
