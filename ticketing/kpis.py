"""Ticket KPIs, computed in one place: the JSON endpoint, the leads' pages and the CSV use these.

The figures describe the tickets created in the range [start, end) as they stand at `now`;
backlog is the number of tickets waiting (new, open or pending) at the end of the range.
A figure whose denominator is zero is None, never an error."""
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ticketing import sla
from ticketing.models import ACTIVE_STATUSES, Event, Ticket, aware, utcnow

DEFINITIONS = {
    "volume": "Tickets created in the period.",
    "backlog": "Tickets waiting on the team or the customer (new, open or pending) at the end of the period.",
    "first_reply_median_s": "Median time from the ticket's creation to the first public agent reply, in "
                            "seconds, over the period's tickets that have one (wall-clock time).",
    "first_reply_mean_s": "Mean of the same first reply times, in seconds.",
    "resolution_median_s": "Median time from creation to the solve, in seconds, over the period's "
                           "tickets that are solved or closed.",
    "resolution_rate": "Tickets created in the period that are solved or closed, divided by the volume.",
    "fcr_rate": "First contact resolution: solved or closed tickets with exactly one public agent reply "
                "and never reopened, divided by the solved or closed tickets.",
    "replies_per_ticket": "Public agent replies per solved or closed ticket (mean).",
    "csat": "Customer satisfaction: ratings of 4 or 5 divided by all ratings (1 to 5).",
    "nps": "Net promoter score: percent of promoters (9-10) minus percent of detractors (0-6), "
           "from -100 to 100.",
    "sla_compliance": "Tickets that met both SLA targets (first reply and resolution) divided by the "
                      "tickets whose SLA outcome is known (met both, or missed at least one).",
    "sla_first_reply_compliance": "First replies on time divided by first replies whose target is known.",
    "sla_resolution_compliance": "Solves on time divided by solves whose target is known.",
    "answered_with_article_rate": "Replied tickets with a knowledge-base article linked in a reply, "
                                  "divided by the tickets with at least one public reply.",
    "escalation_rate": "Tickets escalated to a higher tier at least once, divided by the volume.",
}

FIGURES = ("volume", "backlog", "first_reply_median_s", "first_reply_mean_s", "resolution_median_s",
           "resolution_rate", "fcr_rate", "replies_per_ticket", "csat", "nps", "sla_compliance",
           "sla_first_reply_compliance", "sla_resolution_compliance", "answered_with_article_rate",
           "escalation_rate")


@dataclass(frozen=True)
class Facts:
    """What the KPIs need from one ticket."""

    id: int
    created_at: datetime
    status: str
    priority: str
    category: str
    group: str
    assignee_id: int | None
    first_reply_at: datetime | None
    solved_at: datetime | None
    first_reply_due: datetime | None
    resolution_due: datetime | None
    agent_replies: int
    reopened_count: int
    escalations: int
    article_links: int
    csat: int | None
    nps: int | None


def _ratio(num, den, digits=4):
    return round(num / den, digits) if den else None


def _seconds(later, earlier):
    return (aware(later) - aware(earlier)).total_seconds()


def figures(facts, now, backlog=None):
    """Compute every KPI over a list of Facts (backlog is passed in: it needs status history)."""
    solved = [f for f in facts if f.status in ("solved", "closed") and f.solved_at is not None]
    first_replies = [_seconds(f.first_reply_at, f.created_at) for f in facts if f.first_reply_at]
    resolutions = [_seconds(f.solved_at, f.created_at) for f in solved]
    csats = [f.csat for f in facts if f.csat is not None]
    npss = [f.nps for f in facts if f.nps is not None]
    outcomes = [sla.outcome(f, now) for f in facts]
    first_states = [sla.target_state(f.first_reply_due, f.first_reply_at, now) for f in facts]
    res_states = [sla.target_state(f.resolution_due, f.solved_at, now) for f in facts]
    replied = [f for f in facts if f.agent_replies > 0]
    nps = None
    if npss:
        nps = round(100 * (sum(n >= 9 for n in npss) - sum(n <= 6 for n in npss)) / len(npss), 1)
    return {
        "volume": len(facts),
        "backlog": backlog,
        "first_reply_median_s": round(statistics.median(first_replies), 1) if first_replies else None,
        "first_reply_mean_s": round(statistics.fmean(first_replies), 1) if first_replies else None,
        "resolution_median_s": round(statistics.median(resolutions), 1) if resolutions else None,
        "resolution_rate": _ratio(len(solved), len(facts)),
        "fcr_rate": _ratio(sum(f.agent_replies == 1 and f.reopened_count == 0 for f in solved), len(solved)),
        "replies_per_ticket": _ratio(sum(f.agent_replies for f in solved), len(solved), 2),
        "csat": _ratio(sum(c >= 4 for c in csats), len(csats)),
        "nps": nps,
        "sla_compliance": _ratio(outcomes.count("met"), outcomes.count("met") + outcomes.count("breached")),
        "sla_first_reply_compliance": _ratio(first_states.count("met"),
                                             first_states.count("met") + first_states.count("breached")),
        "sla_resolution_compliance": _ratio(res_states.count("met"),
                                            res_states.count("met") + res_states.count("breached")),
        "answered_with_article_rate": _ratio(sum(f.article_links > 0 for f in replied), len(replied)),
        "escalation_rate": _ratio(sum(f.escalations > 0 for f in facts), len(facts)),
        "ratings": len(csats),
        "nps_responses": len(npss),
        "solved": len(solved),
    }


def load_facts(session, start, end):
    """Return Facts for the tickets created in [start, end)."""
    cols = [getattr(Ticket, name) for name in Facts.__dataclass_fields__]
    rows = session.execute(select(*cols).where(Ticket.created_at >= start, Ticket.created_at < end)
                           .order_by(Ticket.id)).all()
    return [Facts(*row) for row in rows]


class Backlog:
    """Which tickets were waiting at a given moment, rebuilt from the status-change events."""

    def __init__(self, session, until):
        tickets = session.execute(select(Ticket.id, Ticket.created_at, Ticket.assignee_id, Ticket.group,
                                         Ticket.category).where(Ticket.created_at < until)).all()
        self.tickets = {t.id: t for t in tickets}
        self.changes = defaultdict(list)  # ticket id -> [(when, to_status)], oldest first
        rows = session.execute(select(Event.ticket_id, Event.created_at, Event.data)
                               .where(Event.kind == "status", Event.created_at < until)
                               .order_by(Event.created_at, Event.id)).all()
        for ticket_id, when, data in rows:
            self.changes[ticket_id].append((aware(when), (data or {}).get("to")))

    def at(self, moment):
        """Return the rows (id, created_at, assignee_id, group, category) waiting at `moment`."""
        waiting = []
        for t in self.tickets.values():
            if aware(t.created_at) >= moment:
                continue
            status = "new"
            for when, to in self.changes.get(t.id, ()):
                if when >= moment:
                    break
                status = to
            if status in ACTIVE_STATUSES:
                waiting.append(t)
        return waiting


DIMENSIONS = {"agent": "assignee_id", "group": "group", "category": "category", "priority": "priority"}


def report(session, start, end, now=None, by=("agent", "group", "category"), interval=None):
    """Return the KPIs for [start, end), optionally broken down by dimension and over time."""
    now = now or utcnow()
    facts = load_facts(session, start, end)
    moment = min(end, now)
    backlog = Backlog(session, moment)
    waiting = backlog.at(moment)
    result = figures(facts, now, backlog=len(waiting))
    for dim in by:
        attr = DIMENSIONS[dim]
        groups = defaultdict(list)
        for f in facts:
            groups[getattr(f, attr)].append(f)
        waiting_by = defaultdict(int)
        for t in waiting:
            waiting_by[getattr(t, "assignee_id" if dim == "agent" else attr, None)] += 1
        keys = sorted(set(groups) | set(waiting_by), key=lambda k: (k is None, str(k)))
        result[f"by_{dim}"] = [{"key": k, **figures(groups.get(k, []), now, backlog=waiting_by.get(k, 0))}
                               for k in keys]
    if interval:
        result["over_time"] = [
            {"start": b_start.date().isoformat(), "end": (b_end - timedelta(days=1)).date().isoformat(),
             **figures([f for f in facts if b_start <= aware(f.created_at) < b_end], now,
                       backlog=len(backlog.at(min(b_end, moment))))}
            for b_start, b_end in buckets(start, end, interval)]
    return result


def buckets(start, end, interval):
    """Split [start, end) into day, week (from Monday) or month buckets, clipped to the range."""
    if interval not in ("day", "week", "month"):
        raise ValueError("interval must be day, week or month")
    out = []
    cursor = start
    while cursor < end:
        if interval == "day":
            nxt = cursor + timedelta(days=1)
        elif interval == "week":
            nxt = cursor + timedelta(days=7 - cursor.weekday())
        else:
            nxt = (cursor.replace(day=1) + timedelta(days=32)).replace(day=1)
        nxt = min(nxt.replace(hour=0, minute=0, second=0, microsecond=0), end)
        out.append((cursor, nxt))
        cursor = nxt
    return out
