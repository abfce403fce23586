"""SLA policies per priority: first reply and resolution targets, optional business hours,
due times and breach flags. Pure functions over plain values."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ticketing.models import aware


@dataclass(frozen=True)
class Policy:
    """The targets for one priority, as durations (wall clock or business time)."""

    priority: str
    first_reply: timedelta
    resolution: timedelta


@dataclass(frozen=True)
class BusinessHours:
    """Working time: the same opening hours on the given weekdays (0 = Monday) in one time zone."""

    start: time = time(9, 0)
    end: time = time(18, 0)
    weekdays: tuple = (0, 1, 2, 3, 4)
    tz: str = "Europe/Rome"


@dataclass(frozen=True)
class SlaConfig:
    """The policies by priority and, when set, the business hours their clocks run in."""

    policies: dict
    hours: BusinessHours | None = None

    def policy(self, priority):
        """Return the policy for a priority (normal's when the priority has none)."""
        return self.policies.get(priority) or self.policies["normal"]


DEFAULT = SlaConfig(policies={
    "urgent": Policy("urgent", timedelta(hours=1), timedelta(hours=8)),
    "high": Policy("high", timedelta(hours=4), timedelta(hours=24)),
    "normal": Policy("normal", timedelta(hours=8), timedelta(hours=72)),
    "low": Policy("low", timedelta(hours=24), timedelta(hours=120)),
})

# A ticket whose due time falls within this window is "breaching soon" in the queue.
SOON = timedelta(hours=1)


def config_from_data(data):
    """Build an SlaConfig from plain data, e.g. JSON:
    {"policies": {"urgent": {"first_reply_h": 1, "resolution_h": 8}, ...},
     "business_hours": {"start": "09:00", "end": "18:00", "weekdays": [0,1,2,3,4], "tz": "Europe/Rome"}}"""
    policies = dict(DEFAULT.policies)
    for priority, p in (data.get("policies") or {}).items():
        policies[priority] = Policy(priority, timedelta(hours=float(p["first_reply_h"])),
                                    timedelta(hours=float(p["resolution_h"])))
    hours = None
    bh = data.get("business_hours")
    if bh:
        hours = BusinessHours(start=time.fromisoformat(bh.get("start", "09:00")),
                              end=time.fromisoformat(bh.get("end", "18:00")),
                              weekdays=tuple(bh.get("weekdays", (0, 1, 2, 3, 4))),
                              tz=bh.get("tz", "UTC"))
    return SlaConfig(policies=policies, hours=hours)


def add_business_time(start, duration, hours):
    """Return the moment `duration` of working time after `start` (UTC in, UTC out)."""
    if hours is None:
        return start + duration
    if not hours.weekdays or hours.end <= hours.start:
        raise ValueError("business hours need at least one weekday and end after start")
    zone = ZoneInfo(hours.tz)
    local = aware(start).astimezone(zone)
    remaining = duration
    while True:
        day = local.date()
        opens = datetime.combine(day, hours.start, zone)
        closes = datetime.combine(day, hours.end, zone)
        if day.weekday() in hours.weekdays and local < closes:
            begin = max(local, opens)
            available = closes - begin
            if remaining <= available:
                return (begin + remaining).astimezone(timezone.utc)
            remaining -= available
        # Jump to the next day's opening time; the loop skips closed days.
        local = datetime.combine(day + timedelta(days=1), hours.start, zone)


def due_times(created_at, priority, config=DEFAULT):
    """Return (first_reply_due, resolution_due) for a ticket opened at created_at."""
    policy = config.policy(priority)
    return (add_business_time(created_at, policy.first_reply, config.hours),
            add_business_time(created_at, policy.resolution, config.hours))


def target_state(due, done_at, now):
    """Return met | breached | pending | none for one target (due time vs when it was done)."""
    due, done_at = aware(due), aware(done_at)
    if due is None:
        return "none"
    if done_at is not None:
        return "met" if done_at <= due else "breached"
    return "breached" if aware(now) > due else "pending"


def ticket_flags(ticket, now):
    """Return the SLA view of a ticket: each target's state, the next due time, and a badge."""
    first = target_state(ticket.first_reply_due, ticket.first_reply_at, now)
    resolution = target_state(ticket.resolution_due, ticket.solved_at, now)
    next_due = None
    if first == "pending":
        next_due = aware(ticket.first_reply_due)
    elif resolution == "pending":
        next_due = aware(ticket.resolution_due)
    if "breached" in (first, resolution):
        badge = "breached"
    elif next_due is not None and next_due - aware(now) <= SOON:
        badge = "soon"
    elif next_due is not None:
        badge = "ok"
    else:
        badge = "met" if "met" in (first, resolution) else "none"
    return {"first_reply": first, "resolution": resolution, "next_due": next_due, "badge": badge}


def outcome(ticket, now):
    """Return met | breached | pending for the ticket as a whole (both targets)."""
    states = (target_state(ticket.first_reply_due, ticket.first_reply_at, now),
              target_state(ticket.resolution_due, ticket.solved_at, now))
    if "breached" in states:
        return "breached"
    if all(s in ("met", "none") for s in states) and "met" in states:
        return "met"
    return "pending"
