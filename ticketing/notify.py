"""Customer notifications through an outbox: rows written in the same transaction as the change
that causes them (ticket received, agent replied, solved), sent later by a command.

Sending is separate so that a slow or absent mail server never fails a customer's request, and
a crash between commit and send loses nothing. SMTP is used only when a host is configured."""
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select

from ticketing.models import Outbox, Ticket, utcnow

# Filled in at send time, from the ticket's token and the configured base URL.
STATUS_URL = "{status_url}"
MAX_ATTEMPTS = 5

TEMPLATES = {
    "en": {
        "received": ("[{reference}] We received your request",
                     "Hello {name},\n\nwe received your request \"{subject}\". Its reference is {reference}.\n"
                     "Follow it and reply here: {status_url}\n\nSportello"),
        "replied": ("[{reference}] New reply to your request",
                    "Hello {name},\n\nthere is a new reply to \"{subject}\":\n\n{message}\n\n"
                    "Read and answer it here: {status_url}\n\nSportello"),
        "solved": ("[{reference}] Your request is solved",
                   "Hello {name},\n\nwe marked \"{subject}\" as solved.\n\n{message}\n\n"
                   "Not solved after all? Reply from {status_url} and we reopen it. "
                   "There you can also rate our help.\n\nSportello"),
    },
    "it": {
        "received": ("[{reference}] Abbiamo ricevuto la tua richiesta",
                     "Ciao {name},\n\nabbiamo ricevuto la tua richiesta \"{subject}\". Il riferimento è {reference}.\n"
                     "Seguila e rispondi qui: {status_url}\n\nSportello"),
        "replied": ("[{reference}] Nuova risposta alla tua richiesta",
                    "Ciao {name},\n\nc'è una nuova risposta a \"{subject}\":\n\n{message}\n\n"
                    "Leggila e rispondi qui: {status_url}\n\nSportello"),
        "solved": ("[{reference}] La tua richiesta è risolta",
                   "Ciao {name},\n\nabbiamo segnato \"{subject}\" come risolta.\n\n{message}\n\n"
                   "Non è risolta? Rispondi da {status_url} e la riapriamo. "
                   "Lì puoi anche valutare il nostro aiuto.\n\nSportello"),
    },
    "ro": {
        "received": ("[{reference}] Am primit solicitarea ta",
                     "Bună {name},\n\nam primit solicitarea ta „{subject}”. Referința este {reference}.\n"
                     "Urmărește-o și răspunde aici: {status_url}\n\nSportello"),
        "replied": ("[{reference}] Răspuns nou la solicitarea ta",
                    "Bună {name},\n\nexistă un răspuns nou la „{subject}”:\n\n{message}\n\n"
                    "Citește-l și răspunde aici: {status_url}\n\nSportello"),
        "solved": ("[{reference}] Solicitarea ta este rezolvată",
                   "Bună {name},\n\nam marcat „{subject}” ca rezolvată.\n\n{message}\n\n"
                   "Nu este rezolvată? Răspunde din {status_url} și o redeschidem. "
                   "Acolo poți evalua și ajutorul nostru.\n\nSportello"),
    },
}


def render(ticket, kind, message=""):
    """Return (subject, body) of a notification in the ticket's locale, status URL left as a slot."""
    subject, body = TEMPLATES.get(ticket.locale, TEMPLATES["en"])[kind]
    values = {"reference": ticket.reference, "name": ticket.customer_name or ticket.email,
              "subject": ticket.subject, "message": message or "", "status_url": STATUS_URL}
    # Plain replace, not str.format on the whole text: customer and agent text may hold braces.
    for key, value in values.items():
        subject = subject.replace("{" + key + "}", str(value))
        body = body.replace("{" + key + "}", str(value)) if key != "status_url" else body
    return subject, body.replace("\n\n\n\n", "\n\n")


def queue(session, ticket, kind, now=None, message=""):
    """Add a notification for the ticket's customer to the outbox (committed by the caller)."""
    subject, body = render(ticket, kind, message)
    row = Outbox(ticket_id=ticket.id, kind=kind, to_addr=ticket.email, subject=subject[:300], body=body,
                 created_at=now or utcnow(), attempts=0, last_error="")
    session.add(row)
    return row


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server."""

    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    tls: bool = False
    from_addr: str = "sportello@localhost"


class SmtpSender:
    """Sends messages through one SMTP connection per flush."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def __enter__(self):
        s = self.settings
        self.smtp = smtplib.SMTP(s.host, s.port, timeout=30)
        if s.tls:
            self.smtp.starttls()
        if s.user:
            self.smtp.login(s.user, s.password)
        return self

    def __exit__(self, *exc):
        try:
            self.smtp.quit()
        except smtplib.SMTPException:
            pass

    def send(self, to_addr, subject, body):
        """Send one plain-text message."""
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.settings.from_addr, to_addr, subject
        msg.set_content(body)
        self.smtp.send_message(msg)


class MemorySender:
    """Keeps messages in a list (tests, and a dry run of the outbox)."""

    def __init__(self):
        self.sent = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send(self, to_addr, subject, body):
        """Remember the message."""
        self.sent.append((to_addr, subject, body))


def pending(session, limit=100):
    """Return unsent outbox rows that still have attempts left, oldest first."""
    return session.scalars(select(Outbox).where(Outbox.sent_at.is_(None), Outbox.attempts < MAX_ATTEMPTS)
                           .order_by(Outbox.id).limit(limit)).all()


def send_outbox(session, sender, link, now=None, limit=100):
    """Send pending notifications; return (sent, failed). link(token) gives a status page URL.

    Failures stay in the outbox with their error, for a later run (up to MAX_ATTEMPTS)."""
    rows = pending(session, limit)
    sent = failed = 0
    if not rows:
        return sent, failed
    with sender:
        for row in rows:
            ticket = session.get(Ticket, row.ticket_id)
            url = link(ticket.access_token) if ticket else ""
            row.attempts += 1
            try:
                sender.send(row.to_addr, row.subject, row.body.replace(STATUS_URL, url))
                row.sent_at = now or utcnow()
                row.last_error = ""
                sent += 1
            except (smtplib.SMTPException, OSError) as exc:
                row.last_error = str(exc)[:1000]
                failed += 1
            session.commit()
    return sent, failed
