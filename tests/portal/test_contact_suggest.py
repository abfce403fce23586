"""The contact form's suggestions: GET /api/tickets/suggest and portal.contact_suggest."""
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import contact_suggest
from portal.contact_suggest import Suggestions, queries, select as select_rows
from portal.search_service import Answer, Row
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
# the lost-link FAQ in three languages (one concept) and a few English articles beside it
STARTER = ["en/faq/en-faq-lost-link.md", "it/faq/it-faq-lost-link.md", "ro/faq/ro-faq-lost-link.md",
           "en/faq/en-faq-reopen.md", "en/faq/en-faq-account.md", "en/faq/en-faq-response-time.md",
           "en/glossary/en-sla.md", "en/glossary/en-csat.md"]


def _import(app, tmp_path, files=STARTER):
    folder = tmp_path / "kb"
    folder.mkdir(exist_ok=True)
    for rel in files:
        shutil.copy(ROOT / "articles" / rel, folder / Path(rel).name)
    result = app.test_cli_runner().invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output


@pytest.fixture
def kb(app, tmp_path):
    _import(app, tmp_path)
    return app


def _ask(client, **params):
    resp = client.get("/api/tickets/suggest", query_string=params)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_contract_and_best_match_first(kb):
    body = _ask(kb.test_client(), subject="I lost the link to my ticket", locale="en")
    assert body["answered"] is True
    first = body["suggestions"][0]
    assert set(first) >= {"slug", "title", "url", "snippet", "confidence"}
    assert first["slug"] == "en-faq-lost-link" and first["url"].endswith("/en-faq-lost-link")
    assert 0 < first["confidence"] <= 1 and len(body["suggestions"]) <= 5
    # the summary is the snippet when the article has one
    assert first["snippet"].startswith("Look for the confirmation email")
    confidences = [s["confidence"] for s in body["suggestions"]]
    assert confidences == sorted(confidences, reverse=True)


def test_one_entry_per_concept_in_the_visitors_language(kb):
    client = kb.test_client()
    for locale in ("it", "ro", "en"):
        slugs = [s["slug"] for s in _ask(client, subject="I lost the link to my ticket", locale=locale)["suggestions"]]
        assert slugs[0] == f"{locale}-faq-lost-link"
        assert sum(s.endswith("faq-lost-link") for s in slugs) == 1
    # without ?locale= the UI's language is the visitor's
    slugs = [s["slug"] for s in _ask(client, subject="I lost the link to my ticket", lang="ro")["suggestions"]]
    assert slugs[0] == "ro-faq-lost-link"


@pytest.mark.parametrize("subject", ["", "   ", "xqzv frobnicator blorptangle", "zzzz qqqq wwww"])
def test_nothing_rather_than_junk(kb, subject):
    assert _ask(kb.test_client(), subject=subject) == {"answered": False, "suggestions": []}


def test_body_adds_what_a_vague_subject_lacks(kb):
    client = kb.test_client()
    assert _ask(client, subject="Question")["suggestions"] == []
    body = _ask(client, subject="Question", body="I lost the link to my ticket and cannot find it")
    assert body["suggestions"][0]["slug"] == "en-faq-lost-link"
    # a body of greetings does not drown a precise subject
    body = _ask(client, subject="I lost the link to my ticket", body="Thanks in advance, best regards")
    assert body["suggestions"][0]["slug"] == "en-faq-lost-link"


@pytest.mark.parametrize("params", [{"subject": "ticket " * 2000}, {"subject": "lost link", "body": "x " * 30000},
                                    {"subject": "\ufffd'\"<script>"}, {"subject": "*", "body": "(OR"}])
def test_odd_and_overlong_input_answer_200(kb, params):
    body = _ask(kb.test_client(), **params)
    assert isinstance(body["suggestions"], list) and len(body["suggestions"]) <= 5


def test_nul_character_is_a_json_400(kb):
    resp = kb.test_client().get("/api/tickets/suggest", query_string={"subject": "lost\x00link"})
    assert resp.status_code == 400 and "error" in resp.get_json()


def test_unknown_locale_is_a_400_naming_it(kb):
    resp = kb.test_client().get("/api/tickets/suggest?subject=lost+link&locale=xx")
    assert resp.status_code == 400 and "locale" in resp.get_json()["fields"]


def test_records_no_search_event(kb):
    from portal.db import get_session
    from portal.tracking.models import Event

    client = kb.test_client()
    _ask(client, subject="I lost the link to my ticket")
    client.get("/api/search?q=lost+link")
    with kb.app_context():
        searches = get_session().scalar(select(func.count()).select_from(Event).where(Event.kind == "search"))
    assert searches == 1     # the /api/search call only


def test_rate_limited_with_the_search_group(tmp_path):
    app = make_app(tmp_path, RATE_LIMITS="search=2/minute")
    client = app.test_client()
    codes = [client.get("/api/tickets/suggest?subject=lost+link").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert "error" in client.get("/api/tickets/suggest?subject=lost+link").get_json()


def test_contact_form_calls_it(kb):
    html = kb.test_client().get("/tickets/new").get_data(as_text=True)
    assert 'data-suggest-url="/api/tickets/suggest"' in html
    assert 'id="ticket-suggestions-box" hidden' in html and "ticket-suggest.js" in html


# ---- the selection rules, on made-up answers ----------------------------------------------
def _row(slug, confidence, locale="en", concept="", summary=""):
    return Row(slug=slug, title=slug, locale=locale, category="faq", url=f"/kb/{slug}", snippet="s",
               score=confidence, summary=summary, concept=concept, confidence=confidence)


def _answer(rows, answered=True):
    return Answer(query="q", mode="hybrid", total=len(rows), took_ms=0, suggestion=None, rows=tuple(rows),
                  answered=answered)


def test_select_needs_an_answer_and_cuts_the_weak():
    weak = contact_suggest.MAY_ANSWER - 0.05
    assert select_rows([_answer([_row("a", weak)], answered=False)]) == Suggestions(False)
    # not answered by the search page's standard, but likely enough for the contact form
    assert [r.slug for r in select_rows([_answer([_row("a", 0.6)], answered=False)]).rows] == ["a"]
    got = select_rows([_answer([_row("a", 0.9), _row("b", 0.3), _row("c", contact_suggest.SHOWN_FLOOR / 2)])])
    assert [r.slug for r in got.rows] == ["a", "b"] and got.answered


def test_select_merges_searches_by_best_confidence_per_concept():
    subject = _answer([_row("it-x", 0.4, "it", "x"), _row("b", 0.5)])
    both = _answer([_row("it-x", 0.8, "it", "x"), _row("c", 0.2)])
    refused = _answer([_row("d", contact_suggest.MAY_ANSWER / 2)], answered=False)
    got = select_rows([subject, both, refused], locale="it", limit=5)
    assert [(r.slug, r.confidence) for r in got.rows] == [("it-x", 0.8), ("b", 0.5), ("c", 0.2)]


def test_select_puts_the_visitors_language_first_and_stops_at_the_limit():
    rows = [_row("it-a", 0.9, "it", "a"), _row("en-b", 0.8, "en", "b"), _row("en-c", 0.7, "en", "c"),
            _row("en-d", 0.6, "en", "d"), _row("en-e", 0.5, "en", "e"), _row("en-f", 0.4, "en", "f")]
    got = select_rows([_answer(rows)], locale="en", limit=5)
    assert [r.slug for r in got.rows] == ["en-b", "en-c", "en-d", "en-e", "en-f"]
    assert [r.slug for r in select_rows([_answer(rows)], locale="it", limit=2).rows] == ["it-a", "en-b"]


def test_select_prefers_the_summary_as_snippet_and_escapes_it():
    got = select_rows([_answer([_row("a", 0.9, summary="Use <b>this</b> & that")])])
    assert got.rows[0].snippet == "Use &lt;b&gt;this&lt;/b&gt; &amp; that"


def test_queries_search_the_subject_then_subject_and_body():
    assert queries("", "some body text", 200) == []
    assert queries("  Card  lost ", "", 200) == ["Card lost"]
    assert queries("Card lost", "help", 200) == ["Card lost"]       # one word adds nothing
    assert queries("Card lost", "it was  stolen", 200) == ["Card lost", "Card lost it was stolen"]
    long = queries("Card lost", "word " * 100, 40)
    assert all(len(q) <= 40 for q in long) and long[1].endswith("word")


@pytest.mark.model
def test_real_model_suggests_by_meaning(tmp_path):
    app = make_app(tmp_path, EMBEDDING_MODEL="e5-small-nano")
    _import(app, tmp_path)
    client = app.test_client()
    # no title word in common with "I lost the link to my ticket. What can I do?"
    body = _ask(client, subject="I can't find the page for my request anymore", locale="en")
    assert body["answered"] and body["suggestions"][0]["slug"] == "en-faq-lost-link"
    assert _ask(client, subject="best pizza recipe in Naples", locale="en")["suggestions"] == []
