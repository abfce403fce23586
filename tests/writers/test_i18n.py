"""Every UI string of the writers' and accounts' pages has an Italian and a Romanian translation."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*ROOT.glob("templates/writers/*.html"), *ROOT.glob("templates/admin/*.html"),
           ROOT / "portal/views/writers.py", ROOT / "portal/views/users.py", ROOT / "portal/views/account.py"]
CALL = re.compile(r'''_\(\s*(["'])((?:\\.|(?!\1).)*)\1''')


def _catalog():
    merged = {}
    for path in (ROOT / "portal/translations").glob("*.json"):
        for locale, entries in json.loads(path.read_text(encoding="utf-8")).items():
            merged.setdefault(locale, {}).update(entries)
    return merged


def test_every_string_is_translated():
    catalog = _catalog()
    strings = {m.group(2).replace('\\"', '"').replace("\\'", "'")
               for path in SOURCES for m in CALL.finditer(path.read_text(encoding="utf-8"))}
    assert len(strings) > 100
    strings |= {"Writing", "Users", "My password"}  # the menu entries of portal/writing/__init__.py
    for locale in ("it", "ro"):
        missing = sorted(s for s in strings if s not in catalog[locale])
        assert not missing, f"{locale}: {missing}"


def test_pages_render_in_italian(client, login, create_draft):
    login("admin")
    article_id = create_draft()
    for url in ("/write/?lang=it", f"/write/{article_id}?lang=it", f"/write/{article_id}/edit?lang=it",
                f"/write/{article_id}/history?lang=it", "/admin/users/?lang=it", "/account/password?lang=it"):
        resp = client.get(url)
        assert resp.status_code == 200, url
    assert "Le mie bozze" in client.get("/write/?lang=it").get_data(as_text=True)
    assert "Aprobă și publică" in client.get(f"/write/{article_id}?lang=ro").get_data(as_text=True)
