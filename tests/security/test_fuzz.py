"""A bounded fuzz run of the JSON API from its OpenAPI description: no input may cause a 5xx."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

MAX_EXAMPLES = 20  # per operation, valid and invalid inputs: the run stays well under a minute


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
        accounts.create_user(get_session(), accounts.NewUser("lead@example.com", "lead", "password123"))
        app.config["FUZZ_TOKEN"] = accounts.create_token(get_session(), "lead@example.com")
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_error(case, app):
    token = app.config["FUZZ_TOKEN"]
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (case.method, case.formatted_path, case.query, case.body,
                                        response.status_code, response.text[:500])
    if case.path.startswith("/api/") and response.status_code >= 400:
        assert response.headers.get("Content-Type", [""])[0].startswith("application/json") if isinstance(
            response.headers.get("Content-Type"), list) else "json" in str(response.headers.get("Content-Type"))
