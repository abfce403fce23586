"""A customer in a real browser asks something the knowledge base does not answer, and is told so."""
import re
from urllib.parse import parse_qs, urlparse

from tests.browser.conftest import needs, screenshot


def _search(page, query):
    page.goto("/")
    page.fill("input[name=q]", query)
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search\?"))


def test_no_answer_page_says_so_and_offers_a_ticket_with_the_query(app, starter, new_page):
    needs(app, "search.search_page", "tickets.new")
    page = new_page()
    _search(page, "qxzvw frobnicator")
    heading = page.locator("section.no-results h2")
    heading.wait_for()
    assert "No article answers" in heading.inner_text()
    assert page.locator("ol.results").count() == 0          # no list of irrelevant results
    assert page.locator("ul.related-guesses li").count() <= 3
    assert page.locator("select[name=mode]").count() == 0    # customers never see the engine
    screenshot(page, "customer-no-answer")
    page.locator("section.no-results a[href*='/tickets/new']").click()
    page.wait_for_url(re.compile(r"/tickets/new"))
    assert parse_qs(urlparse(page.url).query)["q"] == ["qxzvw frobnicator"]
    assert page.input_value("input[name=q]") == "qxzvw frobnicator"


def test_answered_search_lists_results(app, starter, new_page):
    needs(app, "search.search_page")
    page = new_page()
    _search(page, "reopen a ticket")
    page.locator("ol.results li.result").first.wait_for()
    assert page.locator("section.no-results").count() == 0
    assert "reopen" in page.locator("ol.results li.result a").first.inner_text().lower()
