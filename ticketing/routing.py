"""Routing rules as data: category, keywords in the subject or body, and locale decide a new
ticket's group (tier L1/L2/L3) and priority."""
import re
import unicodedata
from dataclasses import dataclass, field

from ticketing.models import GROUPS, PRIORITIES


@dataclass(frozen=True)
class Rule:
    """When every given condition holds, the rule proposes a group and/or a priority.

    Conditions left empty match anything; keywords match whole words, case and accents ignored."""

    name: str
    group: str | None = None
    priority: str | None = None
    categories: tuple = ()
    keywords: tuple = ()
    locales: tuple = ()

    def matches(self, category, text, locale):
        """True when the ticket meets every condition of this rule."""
        if self.categories and category not in self.categories:
            return False
        if self.locales and locale not in self.locales:
            return False
        if self.keywords and not any(_has_phrase(text, k) for k in self.keywords):
            return False
        return True


@dataclass(frozen=True)
class Route:
    """Where a ticket goes and why (the names of the rules that decided)."""

    group: str
    priority: str
    rules: tuple = field(default=())


# The seeds' tiered support: L1 takes everything by default; product defects go to L2;
# security and data loss go straight to L3. Keywords cover it, ro and en.
DEFAULT_RULES = (
    Rule("security-l3", group="L3", priority="urgent",
         keywords=("data breach", "security", "sicurezza", "securitate", "hacked", "violazione",
                   "data loss", "perdita di dati", "dati persi", "pierdere de date")),
    Rule("outage-urgent", priority="urgent",
         keywords=("down", "outage", "offline", "non funziona niente", "bloccato", "blocat",
                   "urgent", "urgente", "nu funcționează deloc")),
    Rule("bug-l2", group="L2", priority="high",
         keywords=("bug", "crash", "error", "errore", "eroare", "exception")),
    Rule("technical-l2", group="L2", categories=("technical",)),
    Rule("integration-l2", group="L2", keywords=("api", "webhook", "sso", "integrazione", "integrare")),
    Rule("billing-high", priority="high", categories=("billing",),
         keywords=("refund", "rimborso", "rambursare", "double charge", "addebito doppio")),
    Rule("feedback-low", priority="low", categories=("feedback",)),
)


def fold(text):
    """Lowercase and strip accents, so that 'Sicurezzà' and 'sicurezza' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _has_phrase(folded_text, phrase):
    return re.search(r"(?<!\w)" + re.escape(fold(phrase)) + r"(?!\w)", folded_text) is not None


def route(category, subject, body, locale, rules=DEFAULT_RULES, default_group="L1",
          default_priority="normal"):
    """Return the Route of a new ticket: each field comes from the first matching rule that sets it."""
    text = fold(f"{subject}\n{body}")
    group = priority = None
    used = []
    for rule in rules:
        if (rule.group and group is None) or (rule.priority and priority is None):
            if rule.matches(category, text, locale):
                decided = False
                if rule.group and group is None:
                    group, decided = rule.group, True
                if rule.priority and priority is None:
                    priority, decided = rule.priority, True
                if decided:
                    used.append(rule.name)
    return Route(group or default_group, priority or default_priority, tuple(used))


def rules_from_data(items):
    """Build rules from plain data (e.g. a JSON list of objects with Rule's fields); validate them."""
    rules = []
    for i, item in enumerate(items):
        rule = Rule(name=str(item.get("name") or f"rule-{i + 1}"), group=item.get("group"),
                    priority=item.get("priority"), categories=tuple(item.get("categories") or ()),
                    keywords=tuple(item.get("keywords") or ()), locales=tuple(item.get("locales") or ()))
        if rule.group is not None and rule.group not in GROUPS:
            raise ValueError(f"rule {rule.name}: group must be one of {', '.join(GROUPS)}")
        if rule.priority is not None and rule.priority not in PRIORITIES:
            raise ValueError(f"rule {rule.name}: priority must be one of {', '.join(PRIORITIES)}")
        rules.append(rule)
    return tuple(rules)


def next_tier(group):
    """Return the tier above this one, or None at the top."""
    i = GROUPS.index(group) if group in GROUPS else 0
    return GROUPS[i + 1] if i + 1 < len(GROUPS) else None
