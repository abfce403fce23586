"""The outbox: rows written with their cause, sent later, failures kept for another run."""
import smtplib

from ticketing import notify, service
from ticketing.models import Outbox


def test_outbox_is_sent_with_the_status_link(session):
    t = service.create_ticket(session, service.NewTicket("c@example.com", "Ciao {name}", "Testo con {graffe} ok",
                                                         name="Carla", locale="ro"))
    sender = notify.MemorySender()
    sent, failed = notify.send_outbox(session, sender, lambda token: f"https://help.example/t/{token}")
    assert (sent, failed) == (1, 0)
    to, subject, body = sender.sent[0]
    assert to == "c@example.com" and t.reference in subject and "Am primit" in subject
    assert f"https://help.example/t/{t.access_token}" in body and "Ciao {name}" in body
    assert notify.pending(session) == []
    assert notify.send_outbox(session, sender, lambda token: "") == (0, 0)


class Failing(notify.MemorySender):
    def send(self, to_addr, subject, body):
        raise smtplib.SMTPRecipientsRefused({to_addr: (550, b"no")})


def test_failures_stay_queued_until_max_attempts(session):
    service.create_ticket(session, service.NewTicket("c@example.com", "Oggetto", "Un testo abbastanza lungo"))
    for _ in range(notify.MAX_ATTEMPTS):
        assert notify.send_outbox(session, Failing(), lambda token: "") == (0, 1)
    row = session.query(Outbox).one()
    assert row.attempts == notify.MAX_ATTEMPTS and row.sent_at is None and "550" in row.last_error
    assert notify.pending(session) == []
