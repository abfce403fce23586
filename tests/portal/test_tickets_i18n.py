"""Every UI string of the ticket pages has an Italian and a Romanian translation."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*(ROOT / "templates" / "tickets").glob("*.html"), *(ROOT / "templates" / "agents").glob("*.html"),
           ROOT / "portal" / "views" / "tickets.py", ROOT / "portal" / "views" / "agents.py"]
CALL = re.compile(r'''\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')''')


def test_catalog_covers_the_ticket_pages():
    catalog = json.loads((ROOT / "portal" / "translations" / "tickets.json").read_text(encoding="utf-8"))
    used = {a or b for path in SOURCES for a, b in CALL.findall(path.read_text(encoding="utf-8"))}
    from portal.ticket_forms import CATEGORY_LABELS
    from ticketing.kpis import DEFINITIONS

    used |= set(CATEGORY_LABELS.values()) | set(DEFINITIONS.values())
    for locale in ("it", "ro"):
        missing = sorted(s for s in used if s not in catalog[locale])
        assert missing == [], (locale, missing)
