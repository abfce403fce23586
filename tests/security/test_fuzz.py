"""A bounded fuzz run of the JSON API from its OpenAPI description: no input may cause a 5xx.

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
