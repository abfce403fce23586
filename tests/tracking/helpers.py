"""Hand-built journeys: record events for a visitor at fixed times, straight through the service."""
from datetime import datetime, timedelta

from portal.tracking.service import EventData, record_events

D = datetime(2026, 3, 10)  # a Tuesday


def at(hours=0, minutes=0, seconds=0, days=0):
    """Return D plus an offset."""
    return D + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


class Journey:
    """Record events of one visitor: j.view("slug", at(10)) etc."""

    def __init__(self, session, visitor):
        self.session, self.visitor = session, visitor

    def _do(self, when, kind, **fields):
        return record_events(self.session, self.visitor, [EventData(kind=kind, **fields)], when)

    def search(self, when, query, results=3, mode="hybrid", locale="it", answered=None):
        return self._do(when, "search", query=query, results=results, mode=mode, locale=locale, answered=answered)

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
