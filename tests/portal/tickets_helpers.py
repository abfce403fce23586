"""Helpers shared by the ticket HTTP tests."""
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select


class Clock:
    """A settable clock for app.extensions["sportello.clock"]."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def set(self, moment):
        """Jump to a moment."""
        self.now = moment

    def advance(self, **delta):
        """Move forward."""
        self.now += timedelta(**delta)
        return self.now


def staff_client(app, role, email=None, password="Amber-Falcon-Ledger-91", name=""):
    """Create an account (if missing) and return a test client logged in with it."""
    from portal import accounts
    from portal.db import get_session
    from portal.models import User

    email = email or f"{role}@example.com"
    with app.app_context():
        session = get_session()
        if session.scalar(select(User).where(User.email == email)) is None:
            accounts.create_user(session, accounts.NewUser(email=email, role=role, password=password, name=name))
    client = app.test_client()
    resp = client.post("/auth/login", data={"email": email, "password": password})
    assert resp.status_code == 302, resp.data
    return client


def bearer(app, role, email=None):
    """Return an Authorization header with a fresh API token for an account of this role."""
    from portal import accounts
    from portal.db import get_session
    from portal.models import User

    email = email or f"{role}-api@example.com"
    with app.app_context():
        session = get_session()
        if session.scalar(select(User).where(User.email == email)) is None:
            accounts.create_user(session, accounts.NewUser(email=email, role=role, password="Amber-Falcon-Ledger-91"))
        token = accounts.create_token(session, email, "test")
    return {"Authorization": f"Bearer {token}"}


def ticket(app, ticket_id=None, reference=None):
    """Load a ticket (with messages and events) from the database."""
    from portal.db import get_session
    from ticketing.models import Ticket

    with app.app_context():
        session = get_session()
        if reference:
            t = session.scalar(select(Ticket).where(Ticket.reference == reference))
        else:
            t = session.get(Ticket, ticket_id)
        t.messages, t.events  # load them before the session closes
        return t


def version_in(html):
    """The version the agent page's forms carry."""
    return int(re.search(r'name="version"[^>]*value="(\d+)"', html).group(1))


UTC = timezone.utc
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
