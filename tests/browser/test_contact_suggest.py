"""The contact form suggests articles while the customer types, and nothing for gibberish."""
import re

from tests.browser.conftest import needs, screenshot


def test_typing_a_question_shows_a_matching_article(app, starter, new_page):
    needs(app, "tickets.new", "tickets_api.suggest")
    page = new_page()
    page.goto("/tickets/new")
    box = page.locator("#ticket-suggestions-box")
    assert box.is_hidden()
    page.locator("#subject").press_sequentially("I lost the link to my ticket", delay=30)
    first = page.locator("#ticket-suggestions li a").first
    first.wait_for()
    assert box.is_visible()
    assert re.search(r"/articles/en-faq-lost-link\?q=I%20lost", first.get_attribute("href"))
    assert "lost the link" in first.inner_text()
    assert page.locator("#ticket-suggestions li .snippet").first.inner_text().strip()
    screenshot(page, "contact-form-suggestions")

    # the customer starts over with something nothing answers: the suggestions go
    page.fill("#subject", "")
    page.locator("#subject").press_sequentially("xqzv frobnicator blorptangle", delay=30)
    box.wait_for(state="hidden")
    assert page.locator("#ticket-suggestions li").count() == 0

    # opening a suggestion carries the subject as the query
    page.fill("#subject", "")
    page.locator("#subject").press_sequentially("I lost the link to my ticket", delay=10)
    page.locator("#ticket-suggestions li a").first.click()
    page.wait_for_url(re.compile(r"/articles/en-faq-lost-link"))


def test_search_as_you_type_tags_a_title_in_another_language(app, starter, new_page):
    needs(app, "search.api_suggest")
    page = new_page()          # an English visitor
    page.goto("/")
    page.locator("input[name=q]").press_sequentially("tempo di pri", delay=30)
    item = page.locator("#suggestions li a").first
    item.wait_for()
    assert "Tempo di prima risposta" in item.inner_text()
    assert item.locator(".lang-tag").inner_text() == "IT" and item.get_attribute("lang") == "it"
    # an English title is not tagged
    page.fill("input[name=q]", "")
    page.locator("input[name=q]").press_sequentially("how to", delay=30)
    page.locator("#suggestions li a").first.wait_for()
    assert page.locator("#suggestions .lang-tag").count() == 0
