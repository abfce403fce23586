"""`sportello tickets close-solved | send-outbox | sla-check`."""

from tests.portal.tickets_helpers import T0, Clock


def _ticket(app, client, subject="Oggetto della richiesta"):
    resp = client.post("/api/tickets", json={"email": "c@example.com", "subject": subject,
                                             "body": "Descrizione abbastanza lunga."})
    return resp.get_json()


def _solve(app, ticket_id):
    from portal.db import get_session
    from ticketing import service

    with app.app_context():
        t = service.get_ticket(get_session(), ticket_id)
        service.agent_message(get_session(), service.AgentMessage(ticket_id, service.Actor(1, "Ann"), "Fatto",
                                                                  t.version, status="solved"),
                              now=app.extensions["sportello.clock"]())


def test_close_solved(app, client, runner):
    clock = Clock(T0)
    app.extensions["sportello.clock"] = clock
    t = _ticket(app, client)
    _solve(app, t["id"])
    clock.advance(days=3)
    result = runner.invoke(args=["tickets", "close-solved", "--days", "5"])
    assert result.exit_code == 0 and "closed 0 ticket(s)" in result.output
    clock.advance(days=3)
    result = runner.invoke(args=["tickets", "close-solved"])  # default: 7 days... not yet
    assert "closed 0" in result.output
    result = runner.invoke(args=["tickets", "close-solved", "--days", "5"])
    assert result.exit_code == 0 and "closed 1 ticket(s)" in result.output


def test_send_outbox_without_smtp_keeps_messages(app, client, runner):
    _ticket(app, client)
    result = runner.invoke(args=["tickets", "send-outbox"])
    assert result.exit_code == 0 and "1 notification(s) stay queued" in result.output
    result = runner.invoke(args=["tickets", "send-outbox", "--dry-run"])
    assert "received to c@example.com" in result.output


def test_send_outbox_over_smtp(app, client, runner, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout=None):
            sent.append(("connect", host, port))

        def starttls(self):
            sent.append(("tls",))

        def login(self, user, password):
            sent.append(("login", user))

        def send_message(self, msg):
            sent.append(("msg", msg["To"], msg["Subject"], msg.get_content()))

        def quit(self):
            pass

    import smtplib

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(SMTP_HOST="mail.example", SMTP_PORT=2525, SMTP_USER="u", SMTP_TLS=True,
                      BASE_URL="https://help.example")
    t = _ticket(app, client)
    result = runner.invoke(args=["tickets", "send-outbox"])
    assert result.exit_code == 0 and "sent 1, failed 0" in result.output
    assert sent[0] == ("connect", "mail.example", 2525) and ("tls",) in sent and ("login", "u") in sent
    msg = [s for s in sent if s[0] == "msg"][0]
    assert msg[1] == "c@example.com" and t["reference"] in msg[2]
    token = t["url"].rsplit("/", 1)[1]
    assert f"https://help.example/tickets/s/{token}" in msg[3]
    assert "sent 0, failed 0" in runner.invoke(args=["tickets", "send-outbox"]).output  # nothing twice


def test_sla_check(app, client, runner):
    clock = Clock(T0)
    app.extensions["sportello.clock"] = clock
    _ticket(app, client, subject="Il sito è down")  # urgent: first reply within 1 h
    result = runner.invoke(args=["tickets", "sla-check"])
    assert result.exit_code == 0 and "1 ticket(s) breached or due within 60 min; 0 breached" in result.output
    clock.advance(hours=2)
    result = runner.invoke(args=["tickets", "sla-check"])
    assert result.exit_code == 1 and "breached" in result.output and "SP-2026-000001" in result.output
