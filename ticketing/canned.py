"""Canned responses ("risposte predefinite") with placeholders filled in for one ticket.

Placeholders: {customer_name}, {reference}, {subject}, {agent_name}, {article_link:slug}.
Unknown placeholders are left as written, so a typo shows up in the agent's box, not as an error."""
import re
from dataclasses import dataclass

from sqlalchemy import select

from ticketing.errors import InvalidTicket, TicketNotFound
from ticketing.models import CannedResponse, utcnow

PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([A-Za-z0-9_-]+))?\}")
TITLE_MAX, BODY_MAX = 120, 10_000


@dataclass(frozen=True)
class CannedData:
    """The fields of a canned response."""

    title: str
    body: str
    locale: str = ""


def fill(body, ticket, agent_name, article_link):
    """Return the text with its placeholders filled; article_link(slug) returns a link or None."""
    values = {"customer_name": ticket.customer_name or ticket.email.split("@")[0],
              "reference": ticket.reference or "", "subject": ticket.subject, "agent_name": agent_name}

    def replace(match):
        name, arg = match.group(1), match.group(2)
        if name == "article_link" and arg:
            link = article_link(arg)
            return link if link else match.group(0)
        return values.get(name, match.group(0)) if arg is None else match.group(0)

    return PLACEHOLDER.sub(replace, body)


def article_slugs(body):
    """Return the slugs named by {article_link:slug} placeholders."""
    return [m.group(2) for m in PLACEHOLDER.finditer(body) if m.group(1) == "article_link" and m.group(2)]


def validate(data: CannedData):
    """Raise InvalidTicket when the title or body is empty or too long."""
    errors = {}
    if not 1 <= len(data.title.strip()) <= TITLE_MAX:
        errors["title"] = f"The title needs between 1 and {TITLE_MAX} characters."
    if not 1 <= len(data.body.strip()) <= BODY_MAX:
        errors["body"] = f"The text needs between 1 and {BODY_MAX} characters."
    if errors:
        raise InvalidTicket("the canned response has errors", errors)


def listing(session, locale=None):
    """Return canned responses by title; with a locale, that locale's and the shared ones."""
    query = select(CannedResponse).order_by(CannedResponse.title)
    if locale:
        query = query.where(CannedResponse.locale.in_((locale, "")))
    return session.scalars(query).all()


def save(session, data: CannedData, user_id, canned_id=None):
    """Create (canned_id None) or update a canned response."""
    validate(data)
    if canned_id is None:
        row = CannedResponse(created_by=user_id)
        session.add(row)
    else:
        row = session.get(CannedResponse, canned_id)
        if row is None:
            raise TicketNotFound("no such canned response")
    row.title, row.body, row.locale = data.title.strip(), data.body.strip(), (data.locale or "")[:8]
    row.updated_at = utcnow()
    session.commit()
    return row


def remove(session, canned_id):
    """Delete a canned response."""
    row = session.get(CannedResponse, canned_id)
    if row is None:
        raise TicketNotFound("no such canned response")
    session.delete(row)
    session.commit()
