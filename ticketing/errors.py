"""Domain errors of the ticket services; the portal maps them onto forms and JSON."""


class TicketError(Exception):
    """A request about tickets that cannot be carried out; fields maps field names to messages."""

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class InvalidTicket(TicketError):
    """The values given do not pass validation (see fields)."""


class TicketNotFound(TicketError):
    """No ticket with that id or access token."""


class TransitionError(TicketError):
    """The ticket's status does not allow this action (e.g. replying to a closed ticket)."""


class Conflict(TicketError):
    """Someone changed the ticket since the version the caller saw; nothing was written.

    changes lists what happened since (replies, notes, status or assignment changes), so the
    caller can show it and offer to send again; current_version is what to send next time."""

    def __init__(self, message, current_version, changes):
        super().__init__(message, {"version": message})
        self.current_version = current_version
        self.changes = list(changes)
