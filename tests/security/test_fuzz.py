"""A bounded fuzz run of the JSON API from its OpenAPI description, and of the HTML forms and the
staff pages' query strings from a description written here: no input may cause a 5xx.

Schemathesis generates valid and invalid requests per operation; Hypothesis drives them (the
pytest plugin's lazy fixture loader does not run on this pytest, so the loop is spelled out)."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from portal.openapi import PATHS

MAX_EXAMPLES = 15  # per operation and mode: the whole run stays well under a minute
OPERATIONS = [(method.upper(), path) for path, ops in PATHS.items() for method in ops]
# Negative cases need something to make invalid: parameters or a body.
NEGATABLE = {(method.upper(), path) for path, ops in PATHS.items() for method, op in ops.items()
             if op.get("parameters") or op.get("requestBody")}


@pytest.fixture
def api_schema(app, runner, make_article):
    """The app's own schema, with a few articles and a lead's token to reach past the 401s."""
    from portal import accounts
    from portal.db import get_session

    folder = make_article("it-frt", title="Tempo di prima risposta", body="Il tempo di prima risposta.").parent
    make_article("en-faq", title="How to reset a password", locale="en", body="Reset it from the login page.")
    assert runner.invoke(args=["import", str(folder)]).exit_code == 0
    if "reindex" in app.cli.commands:
        runner.invoke(args=["reindex"])
    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser("lead@example.com", "lead", "Amber-Falcon-Ledger-91"))
        token = accounts.create_token(get_session(), "lead@example.com")
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app), token


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("method, path", OPERATIONS)
def test_no_server_error(api_schema, method, path, mode):
    if mode is GenerationMode.NEGATIVE and (method, path) not in NEGATABLE:
        pytest.skip("no parameters or body to make invalid")
    schema, token = api_schema
    operation = schema[path][method]
    seen = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        seen.append(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, case.query, case.body,
                                            response.status_code, response.text[:300])
        if response.status_code >= 400 and response.status_code != 405:
            assert "json" in response.headers.get("content-type", [""])[0], response.headers

    run()
    assert seen


# --- the HTML forms and the staff pages' query strings ------------------------------------------
# Described here for the fuzzer only (they are pages, not API); values the fuzzer cannot guess
# (ids, tokens) are fixed to real ones. Each operation runs PAGE_EXAMPLES cases per mode on one
# app, as an admin (who passes every role check; admin pages get an id that is not theirs).

PAGE_EXAMPLES = 8
TEXT = {"type": "string", "maxLength": 300}


def _form(*names, required=(), **special):
    props = {name: dict(TEXT) for name in names}
    props.update(special)
    return {"content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "properties": props, "required": list(required)}}}}


def _q(*names, **special):
    return [{"name": n, "in": "query", "required": False, "schema": special.get(n, TEXT)} for n in names]


def _path(name, values):
    return {"name": name, "in": "path", "required": True, "schema": {"enum": values}}


def _op(parameters=(), body=None):
    op = {"parameters": list(parameters), "responses": {"default": {"description": "any page, never a 5xx"}}}
    if body:
        op["requestBody"] = body
    return op


def _pages(ids):
    article, ticket, user, token = _path("article_id", [ids["article"]]), _path("ticket_id", [ids["ticket"]]), \
        _path("user_id", [ids["user"]]), _path("token", [ids["token"]])
    version = {"type": "integer"}
    editor = _form("title", "slug", "locale", "category", "tags", "concept", "summary", "body", "note",
                   "source_slug", "action", "version")
    return {
        "/auth/login": {"post": _op(_q("next"), _form("email", "password", "remember"))},
        "/tickets/new": {"get": _op(_q("q", "article")),
                         "post": _op(_q("q", "article"), _form("email", "name", "category", "subject", "body",
                                                               "q", "article"))},
        "/tickets/s/{token}/reply": {"post": _op([token], _form("body"))},
        "/tickets/s/{token}/rate": {"post": _op([token], _form("csat", "nps"))},
        "/articles/{slug}": {"get": _op([_path("slug", ["en-faq"]), *_q("q", "pos", "voted")])},
        "/articles/{slug}/feedback": {"post": _op([_path("slug", ["en-faq"])],
                                                  _form("helpful", "solved", "q", "reason"))},
        "/write/new": {"get": _op(_q("title", "locale", "translate_from")), "post": _op(body=editor)},
        "/write/articles": {"get": _op(_q("status", "locale", "q"))},
        "/write/{article_id}/edit": {"post": _op([article], editor)},
        "/write/{article_id}/status": {"post": _op([article], _form("action", "note", version=version))},
        "/write/{article_id}/history": {"get": _op([article, *_q("a", "b", "compare")])},
        "/agent/": {"get": _op(_q("view", "status", "priority", "category", "group", "assignee", "q", "sort",
                                  "page", "table", "endpoint", "_method"))},
        "/agent/tickets/{ticket_id}/reply": {"post": _op([ticket], _form("body", "internal", "status",
                                                                         version=version))},
        "/agent/tickets/{ticket_id}/update": {"post": _op([ticket], _form("status", "priority", "group", "assignee",
                                                                          version=version))},
        "/agent/tickets/{ticket_id}/escalate": {"post": _op([ticket], _form("group", "reason", version=version))},
        "/agent/kpis/": {"get": _op(_q("start", "end", "interval", "table", "endpoint", "_method"))},
        "/agent/kpis/export.csv": {"get": _op(_q("table", "start", "end", "interval"))},
        "/agent/canned/new": {"post": _op(body=_form("title", "locale", "body"))},
        "/leads/": {"get": _op(_q("from", "to", "grain"))},
        "/leads/gaps": {"get": _op(_q("from", "to"))},
        "/leads/export/{table}.csv": {"get": _op([_path("table", ["summary", "series", "searches"]),
                                                  *_q("from", "to", "grain")])},
        "/admin/users/": {"post": _op(body=_form("email", "name", "role", "password"))},
        "/admin/users/{user_id}/role": {"post": _op([user], _form("role"))},
        "/admin/users/{user_id}/active": {"post": _op([user], _form("active"))},
    }


@pytest.fixture(scope="module")
def pages_schema(tmp_path_factory):
    """One app with an article, a ticket, a target account and an admin's session, and the pages'
    description as a schema the fuzzer drives."""
    from portal import accounts
    from portal.db import get_session
    from tests.conftest import make_app, write_article

    home = tmp_path_factory.mktemp("pages")
    app = make_app(home)
    write_article(home / "kb", "en-faq", title="How to reset a password", locale="en", body="Reset it.")
    client = app.test_client()
    with app.app_context():
        from portal.importer import import_paths

        import_paths(get_session(), [str(home / "kb")], app.config["LOCALES"])
        accounts.create_user(get_session(), accounts.NewUser("admin@example.com", "admin", "Amber-Falcon-Ledger-91"))
        target = accounts.create_user(get_session(), accounts.NewUser("agent@example.com", "agent",
                                                                      "Amber-Falcon-Ledger-91"))
        from portal.models import Article

        article = get_session().query(Article).one().id
        target_id = target.id
    created = client.post("/api/tickets", json={"email": "ana@example.com", "subject": "The invoice is wrong",
                                                "body": "The amount on my last invoice does not match."}).get_json()
    assert client.post("/auth/login", data={"email": "admin@example.com",
                                            "password": "Amber-Falcon-Ledger-91"}).status_code == 302
    ids = {"article": article, "ticket": created["id"], "user": target_id, "token": created["url"].rsplit("/", 1)[1]}
    schema = schemathesis.openapi.from_dict({"openapi": "3.0.3", "info": {"title": "pages", "version": "1"},
                                            "paths": _pages(ids)})
    schema.app = app
    yield schema, client.get_cookie("session").value
    app.extensions["sportello.engine"].dispose()


PAGE_OPERATIONS = [(method.upper(), path) for path, ops in _pages(
    {"article": 1, "ticket": 1, "user": 1, "token": "x"}).items() for method in ops]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("method, path", PAGE_OPERATIONS)
def test_no_server_error_from_forms_and_staff_query_strings(pages_schema, method, path, mode):
    schema, session_cookie = pages_schema
    operation = schema[path][method]
    seen = []

    @settings(max_examples=PAGE_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(cookies={"session": session_cookie}, headers={"Accept": "text/html"})
        seen.append(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, case.query, case.body,
                                            response.status_code, response.text[:300])

    run()
    assert seen
