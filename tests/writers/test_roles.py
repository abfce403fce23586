"""Role × route: every page and endpoint in app.url_map, checked for every role.

The table is built from the URL map, so a route added later is covered at once: a new
blueprint needs its line in EXPECTED (an endpoint prefix → who may use it), or this test
names it. An allowed role must not be refused (401/403, or sent to the login page); a
refused one must get 403 (or, anonymous, the login page / a JSON 401); nobody gets a 5xx."""
import pytest
from sqlalchemy import select

ROLES = ("anonymous", "agent", "writer", "lead", "admin")
STAFF = {"agent", "writer", "lead", "admin"}
PUBLIC = "public"

# Endpoint prefix (longest match wins) → PUBLIC or the set of roles allowed in.
EXPECTED = {
    "static": PUBLIC,
    "kb.": PUBLIC,
    "auth.": PUBLIC,
    "api.": PUBLIC,
    "openapi.": PUBLIC,
    "search.": PUBLIC,
    "tracking.": PUBLIC,          # customers' votes on an article
    "tracking_api.feedback": PUBLIC,
    "tracking_api.self_service": {"lead", "admin"},
    "tracking_api.gaps": {"lead", "admin"},
    "tickets.": PUBLIC,           # customers open tickets and follow them through their private token
    "tickets_api.create": PUBLIC,
    "tickets_api.status": PUBLIC,
    "tickets_api.suggest": PUBLIC,   # the contact form asks it while a customer writes
    "tickets_api.metrics": {"lead", "admin"},
    "ticket_kpis.": {"lead", "admin"},
    "agents.": {"agent", "lead", "admin"},  # a writer cannot read tickets
    "agents.canned_edit": {"lead", "admin"},
    "agents.canned_delete": {"lead", "admin"},
    "leads.": {"lead", "admin"},
    "writers.": {"writer", "admin"},        # an agent cannot publish
    "users.": {"admin"},
    "account.": STAFF,
}


def expected_for(endpoint):
    """Return who may use an endpoint, by its longest matching prefix (None when unknown)."""
    matches = [p for p in EXPECTED if endpoint == p or endpoint.startswith(p)]
    return EXPECTED[max(matches, key=len)] if matches else None


@pytest.fixture
def world(app, login, client, make_article, runner):
    """One published article, one draft, a target account, and a session cookie per role."""
    from portal import accounts
    from portal.db import get_session
    from portal.models import Article
    from portal.writing import revisions

    folder = make_article("en-pub", title="Public", locale="en", status="published").parent
    make_article("en-draft", title="Draft", locale="en", status="draft")
    assert runner.invoke(args=["import", str(folder)]).exit_code == 0
    cookies = {"anonymous": None}
    for role in ROLES[1:]:
        client.delete_cookie("session")
        login(role)
        cookies[role] = client.get_cookie("session").value
    with app.app_context():
        session = get_session()
        target = accounts.create_user(session, accounts.NewUser("target@example.com", "agent", "Amber-Falcon-Ledger-91"))
        draft = session.scalar(select(Article).where(Article.slug == "en-draft"))
        values = {"slug": "en-pub", "article_id": draft.id, "number": revisions.latest(session, draft.id).number,
                  "user_id": target.id, "id": 1, "filename": "css/site.css"}
    return cookies, values


def _url(app, rule, values):
    defaults = rule.defaults or {}
    args = {}
    for name in rule.arguments:
        converter = type(rule._converters.get(name)).__name__.lower()
        args[name] = defaults[name] if name in defaults else values.get(name, 1 if "int" in converter else "x")
    return app.url_map.bind("localhost").build(rule.endpoint, args, method=None, force_external=False)


def _is_login_redirect(resp):
    return resp.status_code in (301, 302, 303) and "/auth/login" in resp.headers.get("Location", "")


def test_every_route_checks_the_role(app, world):
    cookies, values = world
    unknown, failures, checked = [], [], 0
    # Logging out ends every session of the account: it goes last, after the cookies served the rest.
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule)):
        allowed = expected_for(rule.endpoint)
        if allowed is None:
            unknown.append(rule.endpoint)
            continue
        url = _url(app, rule, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:
                client = app.test_client()
                if cookies[role]:
                    client.set_cookie("session", cookies[role])
                resp = client.open(url, method=method, headers={"Accept": "text/html"})
                checked += 1
                status = resp.status_code
                ok_in = allowed == PUBLIC or role in allowed
                if status >= 500:
                    failures.append(f"{method} {url} as {role}: {status}")
                elif ok_in and (status in (401, 403) or _is_login_redirect(resp)):
                    failures.append(f"{method} {url} as {role}: refused ({status}), expected allowed")
                elif not ok_in and role == "anonymous" and not (status == 401 or _is_login_redirect(resp)):
                    failures.append(f"{method} {url} as anonymous: {status}, expected login or 401")
                elif not ok_in and role != "anonymous" and status != 403:
                    failures.append(f"{method} {url} as {role}: {status}, expected 403")
    assert not unknown, f"add these endpoints to EXPECTED in {__file__}: {unknown}"
    assert not failures, "\n".join(failures)
    assert checked > 50


@pytest.mark.parametrize("endpoint,role,allowed", [
    ("writers.dashboard", "writer", True), ("writers.dashboard", "agent", False),
    ("users.index", "writer", False), ("users.index", "admin", True),
    ("account.password", "lead", True), ("kb.home", "anonymous", True),
    ("tracking_api.self_service", "lead", True), ("tracking_api.self_service", "writer", False),
    ("agents.queue", "writer", False), ("agents.canned_edit", "agent", False),
])
def test_table_lookup(endpoint, role, allowed):
    rule = expected_for(endpoint)
    assert (rule == PUBLIC or role in rule) is allowed
