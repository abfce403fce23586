"""The agents' queue: filters, sorts and the counts per view (unassigned, mine, breaching soon)."""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, case, func, or_, select

from ticketing import sla
from ticketing.models import ACTIVE_STATUSES, CATEGORIES, GROUPS, PRIORITIES, STATUSES, Ticket

SORTS = ("due", "priority", "created", "updated")
VIEWS = ("active", "unassigned", "mine", "soon", "breached", "all")
PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    """What the agent asked the queue for; empty strings mean "any"."""

    view: str = "active"
    status: str = ""
    priority: str = ""
    category: str = ""
    group: str = ""
    assignee: str = ""  # "", "me", "none" or a user id
    q: str = ""
    sort: str = "due"
    page: int = 1

    def cleaned(self):
        """Return a copy with unknown values dropped, so a crafted URL cannot break the query."""
        def pick(value, allowed):
            return value if value in allowed else ""

        assignee = self.assignee if self.assignee in ("me", "none") or str(self.assignee).isdigit() else ""
        return Filters(view=self.view if self.view in VIEWS else "active", status=pick(self.status, STATUSES),
                       priority=pick(self.priority, PRIORITIES), category=pick(self.category, CATEGORIES),
                       group=pick(self.group, GROUPS), assignee=assignee, q=(self.q or "").strip()[:100],
                       sort=self.sort if self.sort in SORTS else "due", page=max(1, min(int(self.page or 1), 10_000)))


def _next_due():
    """The due time that matters now: first reply while there is none, then resolution."""
    return case((Ticket.first_reply_at.is_(None), Ticket.first_reply_due), else_=Ticket.resolution_due)


def _view_clause(view, user_id, now):
    active = Ticket.status.in_(ACTIVE_STATUSES)
    due = _next_due()
    return {
        "active": active,
        "unassigned": and_(active, Ticket.assignee_id.is_(None)),
        "mine": and_(active, Ticket.assignee_id == user_id),
        "soon": and_(active, due > now, due <= now + sla.SOON),
        "breached": and_(active, due <= now),
        "all": None,
    }[view]


def view_counts(session, user_id, now):
    """Return {view: count} for every queue view but "all"."""
    cols = [func.count(case((_view_clause(v, user_id, now), 1))).label(v) for v in VIEWS if v != "all"]
    row = session.execute(select(*cols)).one()
    return dict(row._mapping)


PRIORITY_ORDER = case({p: i for i, p in enumerate(reversed(PRIORITIES))}, value=Ticket.priority)


def search(session, filters: Filters, user_id, now):
    """Return (tickets, total) for the filters, one page of PAGE_SIZE."""
    f = filters.cleaned()
    query = select(Ticket)
    clause = _view_clause(f.view, user_id, now)
    if clause is not None:
        query = query.where(clause)
    for column, value in ((Ticket.status, f.status), (Ticket.priority, f.priority),
                          (Ticket.category, f.category), (Ticket.group, f.group)):
        if value:
            query = query.where(column == value)
    if f.assignee == "me":
        query = query.where(Ticket.assignee_id == user_id)
    elif f.assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif f.assignee:
        query = query.where(Ticket.assignee_id == int(f.assignee))
    if f.q:
        like = f"%{f.q.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Ticket.reference.ilike(like), Ticket.subject.ilike(like), Ticket.email.ilike(like)))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    order = {
        "due": (_next_due().is_(None), _next_due(), PRIORITY_ORDER),
        "priority": (PRIORITY_ORDER, Ticket.created_at),
        "created": (Ticket.created_at.desc(),),
        "updated": (Ticket.updated_at.desc(),),
    }[f.sort]
    rows = session.scalars(query.order_by(*order, Ticket.id).limit(PAGE_SIZE)
                           .offset((f.page - 1) * PAGE_SIZE)).all()
    return rows, total


def breaching(session, now, within=timedelta(hours=1)):
    """Return active tickets whose next due time has passed or falls within `within`."""
    due = _next_due()
    return session.scalars(select(Ticket).where(Ticket.status.in_(ACTIVE_STATUSES), due <= now + within)
                           .order_by(due)).all()
