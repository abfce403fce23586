"""Hand-built journeys: record events for a visitor at fixed times, straight through the service."""
from contextlib import contextmanager
from datetime import datetime, timedelta

from portal.tracking.integrity import TRUSTED
from portal.tracking.service import EventData, record_events

D = datetime(2026, 3, 10)  # a Tuesday


def at(hours=0, minutes=0, seconds=0, days=0):
    """Return D plus an offset."""
    return D + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


@contextmanager
def as_visitor(app, visitor_id):
    """A request context of a browser that sent back its signed cookie for visitor_id."""
    from flask import g

    with app.test_request_context(headers={"User-Agent": BROWSER}):
        g.visitor_id, g.visitor_returned = visitor_id, True
        yield


def cookie_visitor(client):
    """The visitor id inside the test client's signed sportello_visitor cookie."""
    from portal import visitor

    with client.application.app_context():
        return visitor.read(client.get_cookie("sportello_visitor").value)[0]


def signed_cookie(app, visitor_id, state="c"):
    """A sportello_visitor value the app signed for this id (state c: it came back before)."""
    from portal import visitor

    with app.app_context():
        return visitor.sign(visitor_id, state)


class Journey:
    """Record events of one visitor: j.view("slug", at(10)) etc.; origin and burst as the request
    layer would pass them (portal.tracking.integrity)."""

    def __init__(self, session, visitor, origin=TRUSTED, burst=None):
        self.session, self.visitor, self.origin, self.burst = session, visitor, origin, burst

    def _do(self, when, kind, **fields):
        return record_events(self.session, self.visitor, [EventData(kind=kind, **fields)], when,
                             self.origin, self.burst)

    def search(self, when, query, results=3, mode="hybrid", locale="it"):
        return self._do(when, "search", query=query, results=results, mode=mode, locale=locale)

    def click(self, when, slug, query, position=1):
        return self._do(when, "click", article=slug, query=query, position=position)

    def view(self, when, slug, query=None):
        return self._do(when, "view", article=slug, query=query)

    def vote(self, when, slug, helpful=None, solved=None, reason=None, query=None):
        return self._do(when, "feedback", article=slug, helpful=helpful, solved=solved, reason=reason, query=query)

    def escalate(self, when, query=None):
        return self._do(when, "escalation_started", query=query)

    def ticket(self, when, ref="SP-1", query=None):
        return self._do(when, "ticket_opened", ticket_ref=ref, query=query)
