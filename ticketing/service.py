"""Ticket services: create, reply, note, claim/assign, status life cycle, escalation, ratings.

Each service takes plain values (frozen dataclasses) and a SQLAlchemy Session, commits one unit
of work and raises a TicketError subclass when it cannot. Agent actions carry the ticket version
the agent saw (optimistic locking): a stale version raises Conflict listing what changed."""
import functools
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ticketing import notify, routing, sla
from ticketing.errors import Conflict, InvalidTicket, TicketNotFound, TransitionError
from ticketing.models import (CATEGORIES, GROUPS, PRIORITIES, STATUSES, Event, Message, Ticket, aware,
                              utcnow)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SUBJECT_MIN, SUBJECT_MAX = 3, 200
BODY_MIN, BODY_MAX = 10, 10_000
REPLY_MAX = 20_000
NAME_MAX = 200
REASON_MIN = 3

# Where each status may go by an agent's hand; customers reopen solved tickets by replying.
TRANSITIONS = {
    "new": ("open", "pending", "solved"),
    "open": ("pending", "solved"),
    "pending": ("open", "solved"),
    "solved": ("open", "closed"),
    "closed": (),
}
UNSET = object()


@dataclass(frozen=True)
class Settings:
    """The rules a deployment chooses: routing rules and SLA policies."""

    rules: tuple = routing.DEFAULT_RULES
    sla: "sla.SlaConfig" = sla.DEFAULT


DEFAULT_SETTINGS = Settings()


@dataclass(frozen=True)
class Actor:
    """Who acts: an agent's user id and display name (id None for the system)."""

    id: int | None
    name: str


SYSTEM = Actor(None, "Sportello")


@dataclass(frozen=True)
class NewTicket:
    """What a customer submits, with the visit's context ("already tried")."""

    email: str
    subject: str
    body: str
    name: str = ""
    category: str = "general"
    locale: str = "en"
    context: dict = field(default_factory=dict)
    visitor_id: str = ""
    source: str = "web"


@dataclass(frozen=True)
class AgentMessage:
    """A public reply or an internal note, optionally moving the ticket to a new status."""

    ticket_id: int
    actor: Actor
    body: str
    expected_version: int
    internal: bool = False
    status: str | None = None
    articles: tuple = ()
    html: str = ""  # the body rendered for display, by the caller: rendered once, stored


@dataclass(frozen=True)
class TicketChange:
    """Status, priority, group or assignee changes made by an agent (UNSET leaves a field alone)."""

    ticket_id: int
    actor: Actor
    expected_version: int
    status: str | None = None
    priority: str | None = None
    group: str | None = None
    assignee_id: object = UNSET


@dataclass(frozen=True)
class Escalation:
    """Move a ticket up a tier (or to a given higher tier) with a reason."""

    ticket_id: int
    actor: Actor
    expected_version: int
    reason: str
    group: str | None = None


@dataclass(frozen=True)
class CustomerReply:
    """The customer's message from their private status page."""

    token: str
    body: str


@dataclass(frozen=True)
class Rating:
    """CSAT (1-5) and/or NPS (0-10), given once the ticket is solved."""

    token: str
    csat: int | None = None
    nps: int | None = None


# ---------------------------------------------------------------- reading

def get_ticket(session, ticket_id):
    """Return the ticket with this id or raise TicketNotFound."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise TicketNotFound(f"no ticket {ticket_id}")
    return ticket


def get_by_token(session, token):
    """Return the ticket behind a status-page token or raise TicketNotFound."""
    ticket = None
    if token and 20 <= len(token) <= 64:
        ticket = session.scalar(select(Ticket).where(Ticket.access_token == token))
    if ticket is None:
        raise TicketNotFound("no ticket for this link")
    return ticket


def changes_since(session, ticket_id, version):
    """Return what happened to a ticket after the given version, oldest first, as plain dicts."""
    messages = session.scalars(select(Message).where(Message.ticket_id == ticket_id, Message.version > version)).all()
    events = session.scalars(select(Event).where(Event.ticket_id == ticket_id, Event.version > version)).all()
    items = [{"kind": m.kind, "actor": m.author_name, "at": aware(m.created_at), "version": m.version,
              "summary": m.body} for m in messages]
    items += [{"kind": e.kind, "actor": e.actor_name, "at": aware(e.created_at), "version": e.version,
               "summary": describe_event(e)} for e in events]
    return sorted(items, key=lambda c: (c["version"], c["at"]))


def describe_event(event):
    """Return a short English line for an audit event."""
    d = event.data or {}
    return {
        "status": lambda: f"status {d.get('from')} → {d.get('to')}",
        "priority": lambda: f"priority {d.get('from')} → {d.get('to')}",
        "group": lambda: f"group {d.get('from')} → {d.get('to')}",
        "assign": lambda: f"assigned to {d.get('to_name') or 'nobody'}",
        "claim": lambda: f"claimed by {event.actor_name}",
        "escalate": lambda: f"escalated {d.get('from')} → {d.get('to')}: {d.get('reason')}",
        "rated": lambda: "rated " + ", ".join(f"{k} {v}" for k, v in d.items()),
        "created": lambda: f"created in {d.get('group')} with priority {d.get('priority')}",
    }.get(event.kind, lambda: event.kind)()


# ---------------------------------------------------------------- creating

def validate_new(data: NewTicket):
    """Return {field: message} for everything wrong with a new ticket (empty when valid)."""
    errors = {}
    email = (data.email or "").strip()
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors["email"] = "Enter a valid email address, like name@example.com."
    subject = (data.subject or "").strip()
    if not SUBJECT_MIN <= len(subject) <= SUBJECT_MAX:
        errors["subject"] = f"The subject needs between {SUBJECT_MIN} and {SUBJECT_MAX} characters."
    body = (data.body or "").strip()
    if not BODY_MIN <= len(body) <= BODY_MAX:
        errors["body"] = f"The description needs between {BODY_MIN} and {BODY_MAX} characters."
    if len(data.name or "") > NAME_MAX:
        errors["name"] = f"The name can have at most {NAME_MAX} characters."
    if data.category not in CATEGORIES:
        errors["category"] = f"The category must be one of {', '.join(CATEGORIES)}."
    return errors


CONTEXT_ITEMS = 20  # queries, articles and votes a ticket's "already tried" context keeps, each


def _clean_context(context, locale):
    """Keep the "already tried" context small and plain: bounded lists of short strings."""
    def short(value, n=300):
        return str(value)[:n] if value is not None else None

    ctx = dict(context or {})
    out = {"locale": short(ctx.get("locale") or locale, 8)}
    out["queries"] = [short(q, 200) for q in list(ctx.get("queries") or [])[:CONTEXT_ITEMS] if q]
    out["articles"] = [{k: short(a.get(k)) for k in ("slug", "title") if a.get(k) is not None}
                       for a in list(ctx.get("articles") or [])[:CONTEXT_ITEMS] if isinstance(a, dict)]
    out["votes"] = [{k: (v if isinstance(v, (bool, type(None))) else short(v)) for k, v in vote.items()}
                    for vote in list(ctx.get("votes") or [])[:CONTEXT_ITEMS] if isinstance(vote, dict)]
    for key in ("query", "article", "came_from"):
        if ctx.get(key):
            out[key] = short(ctx[key], 200)
    return out


def create_ticket(session, data: NewTicket, settings=DEFAULT_SETTINGS, now=None, also=None):
    """Validate, route and store a new ticket with its first message and a receipt in the outbox.

    also(session, ticket), if given, runs in the same transaction once the ticket has its
    reference: what it writes is committed with the ticket, or not at all."""
    errors = validate_new(data)
    if errors:
        raise InvalidTicket("the ticket has errors", errors)
    now = now or utcnow()
    subject, body = data.subject.strip(), data.body.strip()
    decided = routing.route(data.category, subject, body, data.locale, settings.rules)
    first_due, resolution_due = sla.due_times(now, decided.priority, settings.sla)
    ticket = Ticket(
        access_token=secrets.token_urlsafe(32), email=data.email.strip().lower(),
        customer_name=(data.name or "").strip(), subject=subject, status="new",
        priority=decided.priority, category=data.category, group=decided.group,
        locale=(data.locale or "en")[:8], source=data.source[:16], visitor_id=(data.visitor_id or "")[:64],
        context=_clean_context(data.context, data.locale), routing=list(decided.rules), version=1,
        created_at=now, updated_at=now, first_reply_due=first_due, resolution_due=resolution_due,
    )
    ticket.messages.append(Message(kind="customer", author_name=ticket.customer_name or ticket.email,
                                   body=body, version=1, created_at=now))
    ticket.events.append(Event(kind="created", version=1, created_at=now, actor_name=SYSTEM.name,
                               data={"group": decided.group, "priority": decided.priority,
                                     "rules": list(decided.rules)}))
    try:
        session.add(ticket)
        # The reference comes from the autoincrement id, inside this same transaction: unique
        # under any concurrency on SQLite and PostgreSQL, with no counter to race on.
        session.flush()
        ticket.reference = f"SP-{now.year}-{ticket.id:06d}"
        notify.queue(session, ticket, "received", now=now)
        if also is not None:
            also(session, ticket)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return ticket


# ---------------------------------------------------------------- agents

def _unit_of_work(service):
    """Roll the session back when a service fails, so no half-made change lingers in it.

    Autoflush is off inside: loading a collection must not flush the version bump early,
    outside _commit, where a lost race is turned into a Conflict."""
    @functools.wraps(service)
    def wrapped(session, *args, **kwargs):
        try:
            with session.no_autoflush:
                return service(session, *args, **kwargs)
        except Exception:
            session.rollback()
            raise
    return wrapped


def _locked(session, ticket_id, expected_version):
    """Load a ticket fresh and check the caller saw its current version, else raise Conflict."""
    ticket = session.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None:
        raise TicketNotFound(f"no ticket {ticket_id}")
    if expected_version is not None and ticket.version != int(expected_version):
        raise _conflict(session, ticket, int(expected_version))
    return ticket


def _conflict(session, ticket, seen):
    changes = changes_since(session, ticket.id, seen)
    who = sorted({c["actor"] for c in changes if c["actor"]})
    message = ("this ticket changed while you were working on it"
               + (f" ({', '.join(who)})" if who else "") + "; nothing was saved")
    return Conflict(message, ticket.version, changes)


def _bump(ticket, now):
    """Start a change: next version, fresh updated_at; returns the new version."""
    ticket.version = ticket.version + 1
    ticket.updated_at = now
    return ticket.version


def _commit(session, ticket_id, seen):
    """Commit, turning a lost race (another commit in between) into a Conflict."""
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        ticket = session.get(Ticket, ticket_id, populate_existing=True)
        raise _conflict(session, ticket, seen) from None


def _event(ticket, kind, actor, version, now, **data):
    ticket.events.append(Event(kind=kind, actor_id=actor.id, actor_name=actor.name, data=data,
                               version=version, created_at=now))


def _set_status(ticket, to, actor, version, now, by_customer=False):
    """Move the ticket to a status, keeping the timestamps and counters the KPIs read."""
    current = ticket.status
    if to == current:
        return False
    if to not in STATUSES:
        raise InvalidTicket(f"unknown status {to!r}", {"status": f"must be one of {', '.join(STATUSES)}"})
    allowed = ("open",) if by_customer and current in ("solved", "pending") else TRANSITIONS[current]
    if to not in allowed:
        raise TransitionError(f"a {current} ticket cannot become {to}", {"status": f"{current} → {to} is not allowed"})
    if current == "solved" and to == "open":
        ticket.reopened_count += 1
        ticket.solved_at = None
    if to == "solved":
        ticket.solved_at = now
    if to == "closed":
        ticket.closed_at = now
    ticket.status = to
    _event(ticket, "status", actor, version, now, **{"from": current, "to": to})
    return True


@_unit_of_work
def agent_message(session, msg: AgentMessage, now=None):
    """Add a public reply or an internal note; a reply notifies the customer."""
    body = (msg.body or "").strip()
    if not body:
        raise InvalidTicket("the message is empty", {"body": "Write a message first."})
    if len(body) > REPLY_MAX:
        raise InvalidTicket("the message is too long", {"body": f"At most {REPLY_MAX} characters."})
    now = now or utcnow()
    ticket = _locked(session, msg.ticket_id, msg.expected_version)
    if ticket.status == "closed":
        raise TransitionError("this ticket is closed", {"status": "closed tickets take no replies"})
    version = _bump(ticket, now)
    kind = "note" if msg.internal else "reply"
    articles = [str(a)[:160] for a in msg.articles][:20]
    ticket.messages.append(Message(kind=kind, author_id=msg.actor.id, author_name=msg.actor.name, body=body,
                                   html=msg.html or "", articles=articles, version=version, created_at=now))
    status = msg.status
    if not msg.internal:
        if ticket.first_reply_at is None:
            ticket.first_reply_at = now
        ticket.agent_replies += 1
        if articles:
            ticket.article_links += 1
        if status is None and ticket.status == "new":
            status = "open"
    if status:
        _set_status(ticket, status, msg.actor, version, now)
    if not msg.internal:
        notify.queue(session, ticket, "solved" if ticket.status == "solved" else "replied", now=now, message=body)
    elif status == "solved":
        notify.queue(session, ticket, "solved", now=now)
    _commit(session, ticket.id, msg.expected_version)
    return ticket


@_unit_of_work
def claim(session, ticket_id, actor: Actor, expected_version, now=None):
    """Assign the ticket to the acting agent (a new ticket becomes open)."""
    now = now or utcnow()
    ticket = _locked(session, ticket_id, expected_version)
    if ticket.status == "closed":
        raise TransitionError("this ticket is closed", {"status": "closed"})
    if ticket.assignee_id == actor.id:
        return ticket
    version = _bump(ticket, now)
    previous = ticket.assignee_id
    ticket.assignee_id = actor.id
    _event(ticket, "claim", actor, version, now, previous=previous)
    if ticket.status == "new":
        _set_status(ticket, "open", actor, version, now)
    _commit(session, ticket.id, expected_version)
    return ticket


@_unit_of_work
def change(session, ch: TicketChange, settings=DEFAULT_SETTINGS, now=None, assignee_name=""):
    """Change status, priority (SLA due times follow), group or assignee in one versioned step."""
    now = now or utcnow()
    ticket = _locked(session, ch.ticket_id, ch.expected_version)
    version = ticket.version + 1
    touched = False
    if ch.priority and ch.priority != ticket.priority:
        if ch.priority not in PRIORITIES:
            raise InvalidTicket("unknown priority", {"priority": f"must be one of {', '.join(PRIORITIES)}"})
        _event(ticket, "priority", ch.actor, version, now, **{"from": ticket.priority, "to": ch.priority})
        ticket.priority = ch.priority
        # Due times follow the new priority, counted from when the ticket was opened.
        ticket.first_reply_due, ticket.resolution_due = sla.due_times(aware(ticket.created_at), ch.priority,
                                                                      settings.sla)
        touched = True
    if ch.group and ch.group != ticket.group:
        if ch.group not in GROUPS:
            raise InvalidTicket("unknown group", {"group": f"must be one of {', '.join(GROUPS)}"})
        _event(ticket, "group", ch.actor, version, now, **{"from": ticket.group, "to": ch.group})
        ticket.group = ch.group
        touched = True
    if ch.assignee_id is not UNSET and ch.assignee_id != ticket.assignee_id:
        _event(ticket, "assign", ch.actor, version, now, to=ch.assignee_id, to_name=assignee_name,
               previous=ticket.assignee_id)
        ticket.assignee_id = ch.assignee_id
        touched = True
    if ch.status and ch.status != ticket.status:
        _set_status(ticket, ch.status, ch.actor, version, now)
        if ch.status == "solved":
            notify.queue(session, ticket, "solved", now=now)
        touched = True
    if not touched:
        session.rollback()
        return ticket
    _bump(ticket, now)
    _commit(session, ticket.id, ch.expected_version)
    return ticket


@_unit_of_work
def escalate(session, esc: Escalation, now=None):
    """Move the ticket up a tier with a reason; it leaves its assignee for the new tier's queue."""
    reason = (esc.reason or "").strip()
    if len(reason) < REASON_MIN:
        raise InvalidTicket("a reason is needed", {"reason": "Say why the ticket goes up a tier."})
    now = now or utcnow()
    ticket = _locked(session, esc.ticket_id, esc.expected_version)
    if not ticket.is_active:
        raise TransitionError(f"a {ticket.status} ticket cannot be escalated", {"status": ticket.status})
    target = esc.group or routing.next_tier(ticket.group)
    if target not in GROUPS or GROUPS.index(target) <= GROUPS.index(ticket.group):
        raise TransitionError(f"{ticket.group} is the top tier" if target is None else
                              f"{target} is not above {ticket.group}", {"group": "choose a higher tier"})
    version = _bump(ticket, now)
    _event(ticket, "escalate", esc.actor, version, now, reason=reason[:1000], previous=ticket.assignee_id,
           **{"from": ticket.group, "to": target})
    ticket.group = target
    ticket.assignee_id = None
    ticket.escalations += 1
    _commit(session, ticket.id, esc.expected_version)
    return ticket


# ---------------------------------------------------------------- customers

def _retrying(session, token, apply, attempts=5):
    """Apply a customer's change, reloading and retrying if an agent committed in between.

    Customers never see a version number, so their message is simply written on top of the
    latest state: the retry is what makes sure it is not lost."""
    for attempt in range(attempts):
        ticket = get_by_token(session, token)
        session.refresh(ticket)
        apply(ticket)
        try:
            session.commit()
            return ticket
        except StaleDataError:
            session.rollback()
            if attempt == attempts - 1:
                raise
    return None  # pragma: no cover


@_unit_of_work
def customer_reply(session, reply: CustomerReply, now=None):
    """Add the customer's message; a solved ticket reopens, a pending one goes back to open."""
    body = (reply.body or "").strip()
    if not 1 <= len(body) <= BODY_MAX:
        raise InvalidTicket("the message is empty or too long",
                            {"body": f"Write between 1 and {BODY_MAX} characters."})
    now = now or utcnow()
    customer = Actor(None, "customer")

    def apply(ticket):
        if ticket.status == "closed":
            raise TransitionError("this ticket is closed; please open a new one",
                                  {"body": "This request is closed: please open a new one."})
        version = _bump(ticket, now)
        ticket.messages.append(Message(kind="customer", author_name=ticket.customer_name or ticket.email,
                                       body=body, version=version, created_at=now))
        ticket.customer_replies += 1
        if ticket.status in ("solved", "pending"):
            _set_status(ticket, "open", customer, version, now, by_customer=True)

    return _retrying(session, reply.token, apply)


@_unit_of_work
def rate(session, rating: Rating, now=None):
    """Record CSAT (1-5) and/or NPS (0-10) once the ticket is solved; each can be given once."""
    errors = {}
    if rating.csat is None and rating.nps is None:
        errors["csat"] = "Choose a rating."
    if rating.csat is not None and not (isinstance(rating.csat, int) and 1 <= rating.csat <= 5):
        errors["csat"] = "The rating goes from 1 to 5."
    if rating.nps is not None and not (isinstance(rating.nps, int) and 0 <= rating.nps <= 10):
        errors["nps"] = "The answer goes from 0 to 10."
    if errors:
        raise InvalidTicket("the rating has errors", errors)
    now = now or utcnow()

    def apply(ticket):
        if ticket.status not in ("solved", "closed"):
            raise TransitionError("a ticket can be rated once it is solved",
                                  {"csat": "You can rate the help once the request is solved."})
        given = {}
        if rating.csat is not None:
            if ticket.csat is not None:
                raise TransitionError("this ticket is already rated", {"csat": "You already rated this request."})
            ticket.csat = given["csat"] = rating.csat
        if rating.nps is not None:
            if ticket.nps is not None:
                raise TransitionError("this question is already answered", {"nps": "You already answered this question."})
            ticket.nps = given["nps"] = rating.nps
        version = _bump(ticket, now)
        ticket.rated_at = now
        _event(ticket, "rated", Actor(None, "customer"), version, now, **given)

    return _retrying(session, rating.token, apply)


# ---------------------------------------------------------------- housekeeping

def close_solved(session, days, now=None):
    """Close the tickets solved more than `days` days ago; return how many were closed."""
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    ids = session.scalars(select(Ticket.id).where(Ticket.status == "solved", Ticket.solved_at <= cutoff)).all()
    closed = 0
    for ticket_id in ids:
        ticket = session.get(Ticket, ticket_id, populate_existing=True)
        if ticket is None or ticket.status != "solved":
            continue
        with session.no_autoflush:
            version = _bump(ticket, now)
            _set_status(ticket, "closed", SYSTEM, version, now)
        try:
            session.commit()
            closed += 1
        except StaleDataError:
            # A customer or agent touched it in the meantime: leave it for the next run.
            session.rollback()
    return closed
