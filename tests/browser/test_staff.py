"""Staff in a real browser: a writer's article goes live and becomes searchable; a lead sees the
self-service ratio move when customers help themselves."""
import re

from tests.browser.conftest import create_staff, login, needs, screenshot, submit_ticket


def test_a_writer_publishes_and_the_article_becomes_searchable(app, starter, new_page):
    needs(app, "writers.new", "writers.change_status", "search.search_page")
    create_staff(app, "anna@example.com", "writer")
    create_staff(app, "bruno@example.com", "writer")
    author = new_page()
    login(author, "anna@example.com")
    author.goto("/write/new")
    author.fill("input[name=title]", "Quokka loyalty programme")
    author.select_option("select[name=locale]", "en")
    author.fill("input[name=category]", "faq")
    author.fill("input[name=tags]", "loyalty, quokka")
    author.fill("textarea[name=body]", "# Quokka loyalty programme\n\nEvery quokka order earns loyalty points.")
    author.click("button[name=action][value=save]")
    author.wait_for_url(re.compile(r"/write/\d+$"))
    article_url = author.url
    author.click("button[name=action][value=submit]")
    author.wait_for_load_state()

    customer = new_page()
    customer.goto("/search?q=quokka+loyalty")
    assert "Quokka loyalty programme" not in customer.content(), "a draft must not be searchable"

    reviewer = new_page()
    login(reviewer, "bruno@example.com")
    reviewer.goto(article_url)
    reviewer.click("button[name=action][value=publish]")
    reviewer.wait_for_load_state()
    assert "published" in reviewer.content().lower()
    screenshot(reviewer, "writer-published")

    customer.goto("/search?q=quokka+loyalty")
    hit = customer.locator("main a", has_text="Quokka loyalty programme").first
    hit.wait_for()
    hit.click()
    customer.wait_for_url(re.compile(r"/articles/"))
    assert "loyalty points" in customer.content()
    screenshot(customer, "writer-article-found-by-search")


def _ratio(page):
    page.goto("/leads/")
    value = page.locator("[data-metric=self_service_ratio]").first.get_attribute("data-value")
    return value, page.locator("td[data-metric=self_served]").first.inner_text().strip()


def test_a_lead_sees_the_self_service_ratio_change(app, starter, new_page):
    needs(app, "leads.dashboard", "tracking.feedback", "tickets.new")
    create_staff(app, "lead@example.com", "lead")
    # One customer could not help themselves: a ticket gives the ratio a denominator.
    stuck = new_page()
    stuck.goto("/tickets/new")
    submit_ticket(stuck, "stuck@example.com", "Cannot log in",
                  "The login page keeps saying my password is wrong.")

    lead = new_page()
    login(lead, "lead@example.com")
    before, served_before = _ratio(lead)

    helped = new_page()
    helped.goto("/articles/en-faq-reopen")
    helped.click("[data-feedback] button[name=helpful][value=yes]")
    helped.locator("[data-fb-thanks]").wait_for(state="visible")

    after, served_after = _ratio(lead)
    assert int(served_after) == int(served_before) + 1
    assert after != before and float(after) > float(before or 0)
    screenshot(lead, "lead-self-service-ratio")
