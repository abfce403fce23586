"""A customer in a real browser: finds an answer and says so; another escalates to a ticket."""
import re

from tests.browser.conftest import needs, screenshot, submit_ticket


def test_customer_searches_opens_an_article_and_votes_helpful(app, starter, new_page):
    needs(app, "search.search_page", "tracking.feedback")
    page = new_page()
    page.goto("/")
    page.fill("input[name=q]", "reopen a ticket")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search\?"))
    first = page.locator("main a[href*='/articles/']").first
    first.wait_for()
    first.click()
    page.wait_for_url(re.compile(r"/articles/"))
    assert page.locator("h1").first.inner_text().strip()
    page.click("[data-feedback] button[name=helpful][value=yes]")
    thanks = page.locator("[data-fb-thanks]")
    thanks.wait_for(state="visible")
    assert page.locator("[data-feedback] button[name=helpful][value=yes]").get_attribute("aria-pressed") == "true"
    screenshot(page, "customer-voted-helpful")


def test_customer_is_not_helped_escalates_and_sees_the_status_page(app, starter, new_page):
    needs(app, "search.search_page", "tracking.feedback", "tickets.new", "tickets.status")
    page = new_page()
    page.goto("/")
    page.fill("input[name=q]", "warranty claim for my xylophone")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search\?"))
    no_results_link = page.locator("main a[href*='/tickets/new?']")
    if no_results_link.count():
        no_results_link.first.click()
    else:  # results, but none helps: the customer says so under the article, then asks for help
        page.locator("main ol.results a[href*='/articles/']").first.click()
        page.wait_for_url(re.compile(r"/articles/"))
        page.click("[data-feedback] button[name=helpful][value=no]")
        page.locator("[data-fb-no]").wait_for(state="visible")
        page.fill("#fb-reason", "Nothing about warranties here.")
        page.click("[data-fb-reason] button[type=submit]")
        page.locator("[data-fb-no] a[href*='/tickets/new']").click()
    page.wait_for_url(re.compile(r"/tickets/new"))
    # What the customer already tried travels with the form.
    assert page.input_value("input[name=q]") or page.input_value("input[name=article]")
    submit_ticket(page, "customer@example.com", "Warranty claim",
                  "I could not find how to claim the warranty for my xylophone.")
    assert re.search(r"SP-\d{4}-\d+", page.content())
    assert "xylophone" in page.content().lower()
    screenshot(page, "customer-ticket-status")


def test_ticket_form_without_javascript_search(app, starter, new_page):
    """The contact form works on its own too: the reference and the status page come back."""
    needs(app, "tickets.new", "tickets.status")
    page = new_page()
    page.goto("/tickets/new")
    submit_ticket(page, "other@example.com", "Invoice question",
                  "Which address goes on the invoice?")
    assert "Invoice question" in page.locator("h1").inner_text()
    screenshot(page, "ticket-form-status")


def test_a_one_page_visit_is_confirmed_by_the_beacon(app, starter, new_page):
    """A reader who lands on an article and leaves is a visit: the page's beacon sends the cookie
    back, which a script that only fetches the HTML never does."""
    from sqlalchemy import select

    from portal.tracking.models import Visit

    needs(app, "tracking.beacon")
    page = new_page()
    with page.expect_response(re.compile(r"/v\.gif$")):
        page.goto("/articles/en-faq-reopen")
    app.extensions["sportello.tracking"].flush()
    with app.app_context():
        session = app.extensions["sportello.db"]()
        flags = [v.flags for v in session.scalars(select(Visit))]
        session.close()
    assert flags == [0]
