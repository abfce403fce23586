"""Every UI string of the feedback box and the leads' pages has Italian and Romanian text."""
import json
import re
from pathlib import Path

from portal.metrics import DEFINITIONS

ROOT = Path(__file__).resolve().parents[2]
EXTRA = ["Self-service", "Visits by outcome", "Self-served", "Other visits", "With inferred", "day", "week",
         "month", "no results", "no click", "ticket", "Deflection rate", "Self-service ratio", "Escalated",
         "Tickets", "Top queries", "Queries with no results", "Queries with no click",
         "Self-served (explicit)", "Self-served (inferred)", "Self-service ratio with inferred",
         "Undefined: the denominator is zero", "no answer", "not helpful", "Answered", "No answer",
         "Searches with and without an answer", "Queries with no answer"]


def test_catalogs_cover_the_templates():
    catalog = json.loads((ROOT / "portal/translations/leads.json").read_text(encoding="utf-8"))
    used = set(EXTRA) | set(DEFINITIONS.values())
    for folder in ("templates/leads", "templates/tracking"):
        for path in (ROOT / folder).glob("*.html"):
            used |= set(re.findall(r'_\("([^"]+)"', path.read_text(encoding="utf-8")))
    for locale in ("it", "ro"):
        assert not used - set(catalog[locale]), (locale, sorted(used - set(catalog[locale])))
