"""Browser tests: Debian's chromium driven by Playwright (sync API) against the app served on
127.0.0.1 from a thread, on a fresh home. No browser is ever downloaded."""
import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SPORTELLO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
STARTER = ["en/faq/en-faq-account.md", "en/faq/en-faq-lost-link.md", "en/faq/en-faq-reopen.md",
           "en/guide", "it/glossary/it-frt.md"]


def pytest_collection_modifyitems(config, items):
    """Every test here is a browser test; without chromium or Playwright they are skipped."""
    reason = None
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        reason = f"no chromium at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install -e '.[test]')"
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def app_config():
    """Real forms (CSRF on) and indexing on save, as in production. Playwright's Chromium says
    HeadlessChrome, which the figures leave out as automation: these tests trust it (a setting
    made for such cases, README), so that its customers move the ratio as people would."""
    return {"WTF_CSRF_ENABLED": True, "AUTO_REINDEX": True, "TRUSTED_AGENTS": "HeadlessChrome"}


@pytest.fixture
def starter(app, runner, tmp_path):
    """Import a handful of the starter articles (enough to search, quick to index)."""
    folder = tmp_path / "starter"
    for rel in STARTER:
        src = ROOT / "articles" / rel
        files = sorted(src.rglob("*.md")) if src.is_dir() else [src]
        for path in files:
            folder.mkdir(exist_ok=True)
            shutil.copy(path, folder / path.name)
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output
    if "reindex" in app.cli.commands:
        assert runner.invoke(args=["reindex"]).exit_code == 0
    return folder


@pytest.fixture(scope="session")
def browser():
    """One chromium for the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                                      args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Problems:
    """Console errors, uncaught exceptions and CSP violations seen by one page."""

    def __init__(self, page):
        self.items, self.error_pages = [], set()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.items.append(f"uncaught: {exc}"))
        page.on("response", self._response)

    def _response(self, response):
        # A missing script, stylesheet or icon; pages themselves may answer 4xx on purpose.
        if response.status >= 400:
            if response.request.resource_type == "document":
                self.error_pages.add(response.url)
            else:
                self.items.append(f"{response.status} for {response.request.resource_type} {response.url}")

    def _console(self, msg):
        if msg.text.startswith("Failed to load resource") and msg.location.get("url") in self.error_pages:
            return  # chromium logs a page's own 404; the test asked for it
        if msg.type == "error" or "Content Security Policy" in msg.text or "Refused to" in msg.text:
            self.items.append(f"console {msg.type}: {msg.text} ({msg.location.get('url', '')})")


@pytest.fixture
def new_page(browser, live_server):
    """new_page() -> a page in a fresh context (its own cookies: one visitor) on the live server."""
    contexts, pages = [], []

    def make():
        context = browser.new_context(base_url=live_server, locale="en-US")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.problems = Problems(page)
        pages.append(page)
        return page

    yield make
    problems = [p for page in pages for p in page.problems.items]
    for context in contexts:
        context.close()
    assert not problems, problems


def screenshot(page, name):
    """Save the page's end state under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def login(page, email, password="Amber-Falcon-Ledger-91"):
    """Log a staff member in through the login form."""
    page.goto("/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert "/auth/login" not in page.url, page.content()[:2000]


def create_staff(app, email, role, password="Amber-Falcon-Ledger-91"):
    """Create a staff account directly in the database."""
    from portal import accounts
    from portal.db import get_session

    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser(email, role, password))


def needs(app, *endpoints):
    """Skip the test, naming what is missing, when an endpoint it drives is not registered."""
    missing = [e for e in endpoints if e not in app.view_functions]
    if missing:
        pytest.skip(f"not registered yet: {', '.join(missing)}")


def submit_ticket(page, email, subject, body):
    """Fill the open contact form, send it and wait for the private status page."""
    page.fill("input[name=email]", email)
    page.fill("input[name=subject]", subject)
    page.fill("textarea[name=body]", body)
    page.click("form.ticket-form button[type=submit]")
    page.wait_for_url(re.compile(r"/tickets/s/"))
