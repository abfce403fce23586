"""Session cookies: a verified cookie is remembered for a minute, never a forged or expired one."""
import time

import pytest

import portal.security as security


def _cookie(client):
    return client.get_cookie("session").value


def _logged_in(client):
    return client.get("/agent/").status_code == 200


@pytest.fixture
def agent(client, login):
    login("agent")
    assert _logged_in(client)
    return _cookie(client)


def test_a_remembered_cookie_still_opens_its_session(client, agent):
    assert _logged_in(client) and _logged_in(client)


def test_a_forged_cookie_opens_an_empty_session(app, client, agent):
    forged = agent[:-2] + ("AA" if not agent.endswith("AA") else "BB")
    client.set_cookie("session", forged)
    assert not _logged_in(client)
    client.set_cookie("session", agent)
    assert _logged_in(client)


def test_an_expired_cookie_is_refused_even_when_remembered(app, client, agent, monkeypatch):
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr(security.time, "time", lambda: later)
    assert not _logged_in(client)


def test_a_new_secret_key_forgets_remembered_cookies(app, client, agent):
    app.secret_key = "rotated"
    app.config["SECRET_KEY"] = "rotated"
    assert not _logged_in(client)


def test_a_mutable_value_is_never_shared_between_requests(app):
    interface = app.session_interface
    cookie = interface.get_signing_serializer(app).dumps({"_flashes": [["message", "saved"]]})
    opened = []
    for _ in range(2):
        with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
            opened.append(interface.open_session(app, __import__("flask").request))
    opened[0]["_flashes"].append(["message", "another"])
    assert opened[1]["_flashes"] == [["message", "saved"]]
