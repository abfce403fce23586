"""Figures that can't be forged: signed visitor ids, the beacon, scripted clients, bursts from one
address and votes without a view, through the HTTP pages and API."""
import pytest
from sqlalchemy import select

from portal.tracking.integrity import AUTOMATED, BURST, NO_COOKIE, address_key
from portal.tracking.models import Event, Visit
from tests.conftest import write_article
from tests.tracking.helpers import BROWSER, cookie_visitor, signed_cookie

HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/138.0.0.0 Safari/537.36"


@pytest.fixture
def article(app, tmp_path):
    from portal.db import get_session
    from portal.importer import import_paths

    write_article(tmp_path / "kb", "alpha", title="Reset your password")
    write_article(tmp_path / "kb", "beta", title="Download an invoice")
    with app.app_context():
        import_paths(get_session(), [str(tmp_path / "kb")], app.config["LOCALES"])
    return "alpha"


def _rows(app, model):
    from portal.db import get_session

    with app.app_context():
        return get_session().scalars(select(model).order_by(model.id)).all()


def _figures(app):
    from portal import metrics, tracking

    with app.test_request_context():
        now = tracking.now()
        session = app.extensions["sportello.db"]()
        try:
            return metrics.self_service(session, now.date(), now.date(), now).as_dict()
        finally:
            session.close()


def _browser(app, address="198.51.100.7", agent=BROWSER):
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    return client


def test_a_forged_visitor_id_is_replaced_and_nothing_is_recorded_under_it(app, client, article):
    forged = "attacker-chosen-id-0001"
    client.set_cookie("sportello_visitor", forged)
    client.get("/articles/alpha", headers={"User-Agent": BROWSER})
    issued = cookie_visitor(client)
    assert issued != forged
    assert [v.visitor_id for v in _rows(app, Visit)] == [issued]
    # A signature made with another key is no better than none.
    client.set_cookie("sportello_visitor", issued + ".c.bm90LXRoZS1zaWduYXR1cmU")
    client.get("/api/articles/alpha", headers={"User-Agent": BROWSER})
    assert issued not in {v.visitor_id for v in _rows(app, Visit)[1:]}


def test_a_one_page_visit_counts_once_the_beacon_brings_the_cookie_back(app, article):
    browser = _browser(app)
    page = browser.get("/articles/alpha").get_data(as_text=True)
    assert 'src="/v.gif"' in page
    (visit,) = _rows(app, Visit)
    assert visit.flags == NO_COOKIE
    assert _figures(app)["excluded_by_reason"]["no_cookie"] == 1
    resp = browser.get("/v.gif")
    assert resp.status_code == 200 and resp.mimetype == "image/gif" and resp.headers["Cache-Control"] == "no-store"
    (visit,) = _rows(app, Visit)
    assert visit.flags == 0
    figures = _figures(app)
    assert (figures["visits"], figures["self_served_inferred"], figures["excluded_visits"]) == (1, 1, 0)
    from portal.models import Article

    assert [a.views for a in _rows(app, Article) if a.slug == "alpha"] == [1]  # the view moved in with its visit


def test_the_beacon_costs_nothing_once_the_cookie_is_known(app, article):
    browser = _browser(app)
    browser.get("/articles/alpha")
    browser.get("/v.gif")
    events = len(_rows(app, Event))
    for _ in range(3):
        browser.get("/v.gif")
    assert len(_rows(app, Event)) == events and len(_rows(app, Visit)) == 1
    assert "sportello_visitor" not in browser.get("/v.gif").headers.get("Set-Cookie", "")


def test_a_client_that_never_returns_the_cookie_is_left_out(app, article):
    for _ in range(3):
        _browser(app, address="203.0.113.9").get("/articles/alpha")  # a fresh client each time
    figures = _figures(app)
    assert (figures["visits"], figures["self_served_inferred"]) == (0, 0)
    assert figures["excluded_by_reason"]["no_cookie"] == 3


def test_a_burst_of_visits_from_one_address_is_left_out_whole(app, article):
    from portal.tracking import burst_rule

    rule = burst_rule({"BURST_LIMITS": "3 per 10 minutes"})
    app.extensions["sportello.burst_rule"] = app.extensions["sportello.tracking"].burst = rule
    office = [_browser(app, address="192.0.2.10") for _ in range(3)]
    for browser in office:
        browser.get("/articles/alpha")
        browser.get("/v.gif")
    assert _figures(app)["self_served_inferred"] == 3  # three colleagues: under the rule
    fourth = _browser(app, address="192.0.2.10")
    fourth.get("/articles/alpha")
    fourth.get("/v.gif")
    figures = _figures(app)
    assert (figures["visits"], figures["self_served_inferred"], figures["excluded_by_reason"]["burst"]) == (0, 0, 4)
    elsewhere = _browser(app, address="192.0.2.99")
    elsewhere.get("/articles/alpha")
    elsewhere.get("/v.gif")
    assert _figures(app)["self_served_inferred"] == 1


def test_ipv6_clients_of_one_subscriber_share_an_address_key():
    same = address_key("k", "2001:db8:1:2::1"), address_key("k", "2001:db8:1:2:ffff::9")
    assert same[0] == same[1] != address_key("k", "2001:db8:1:3::1")
    assert address_key("k", "192.0.2.1") == address_key("k", "::ffff:192.0.2.1") != address_key("other", "192.0.2.1")
    assert address_key("k", None) is None


@pytest.mark.parametrize("agent", ["curl/8.5.0", "python-requests/2.32.3", HEADLESS, ""])
def test_scripted_clients_count_only_in_excluded_visits(app, article, agent):
    script = _browser(app, agent=agent)
    script.get("/articles/alpha")
    script.get("/v.gif")
    assert script.post("/api/articles/alpha/feedback", json={"helpful": True}).status_code == 201
    (visit,) = _rows(app, Visit)
    assert visit.flags & AUTOMATED
    figures = _figures(app)
    assert (figures["visits"], figures["self_served"], figures["excluded_by_reason"]["automated"]) == (0, 0, 1)


def test_trusted_agents_count_as_visitors(app, article):
    app.config["TRUSTED_AGENTS"] = "HeadlessChrome"
    browser = _browser(app, agent=HEADLESS)
    browser.get("/articles/alpha")
    assert browser.post("/api/articles/alpha/feedback", json={"helpful": True}).status_code == 201
    assert _figures(app)["self_served"] == 1


def test_a_vote_without_a_view_leaves_its_visit_out(app, article):
    browser = _browser(app)
    browser.get("/articles/alpha")
    assert browser.post("/api/articles/beta/feedback", json={"helpful": True}).status_code == 201
    figures = _figures(app)
    assert (figures["self_served"], figures["self_served_inferred"]) == (0, 0)
    assert figures["excluded_by_reason"]["vote_without_view"] == 1


def test_metrics_api_reports_excluded_visits(app, client, article):
    from portal import accounts
    from portal.db import get_session

    _browser(app, agent="curl/8.5.0").get("/articles/alpha")
    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser("lead@example.com", "lead", "Quiet-Harbor-Lantern-42"))
        token = accounts.create_token(get_session(), "lead@example.com")
    body = client.get("/api/metrics/self-service", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["excluded_visits"] == 1 and body["excluded_by_reason"]["automated"] == 1
    assert "excluded_visits" in body["definitions"]


def test_the_dashboard_shows_excluded_visits_beside_the_ratio(app, client, login, article):
    _browser(app, agent="curl/8.5.0").get("/articles/alpha")
    login("lead")
    page = client.get("/leads/").get_data(as_text=True)
    assert 'data-metric="excluded_visits">1<' in page
    assert page.index('data-metric="self_service_ratio"') < page.index('data-metric="excluded_visits"') \
        < page.index('id="counts-h"')


def test_a_signed_cookie_from_another_key_is_not_accepted(app, tmp_path, article):
    from tests.conftest import make_app

    other = make_app(tmp_path / "other", fresh=False, SECRET_KEY="another-secret")  # same database: keep it
    forged = signed_cookie(other, "chosen-by-attacker-0001")
    browser = _browser(app)
    browser.set_cookie("sportello_visitor", forged)
    browser.get("/articles/alpha")
    assert {v.visitor_id for v in _rows(app, Visit)} == {cookie_visitor(browser)} != {"chosen-by-attacker-0001"}
    assert BURST not in {v.flags for v in _rows(app, Visit)}


def test_the_burst_rule_reads_the_limiters_notation():
    from datetime import timedelta

    from portal.tracking import burst_rule
    from portal.tracking.integrity import BurstRule

    assert BurstRule.parse("5 per minute; 60 per hour").limits == ((5, timedelta(minutes=1)), (60, timedelta(hours=1)))
    assert burst_rule({"BURST_LIMITS": "off"}) is None
    with pytest.raises(ValueError, match="SPORTELLO_BURST_LIMITS"):
        burst_rule({"BURST_LIMITS": "lots"})


def test_by_default_a_sixth_new_visit_in_a_minute_from_one_address_is_a_burst(app, article):
    for n in range(5):
        browser = _browser(app, address="192.0.2.20")
        browser.get("/articles/alpha")
        browser.get("/v.gif")
    assert _figures(app)["self_served_inferred"] == 5
    sixth = _browser(app, address="192.0.2.20")
    sixth.get("/articles/alpha")
    figures = _figures(app)
    assert (figures["self_served_inferred"], figures["excluded_by_reason"]["burst"]) == (0, 6)
