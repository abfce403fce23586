"""Replays the attack on the self-service figures from one address, with the default rate limits,
and prints what it gained: invented visitor ids, fresh ids fetched with a browser's user agent
(which also fetch the page's beacon, as a browser would), and votes without a view.

    python bench/forge.py [--seconds 60]

It drives the app in-process (Flask's test client, one client address) on a fresh home with two
articles and a few honest visits, and reads the figures before and after from
GET /api/metrics/self-service. tests/tracking/test_forgery.py runs it and checks the gains; run it
with PYTHONPATH pointing at another checkout to measure that code the same way."""
from __future__ import annotations

import argparse
import itertools
import secrets
import sys
import tempfile
import time
from pathlib import Path

try:
    import portal  # noqa: F401  (the checkout on PYTHONPATH, when one is given)
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36"
ADDRESS = "203.0.113.66"
SLUGS = ("en-reset", "en-invoice")
ARTICLE = "---\ntitle: {title}\nslug: {slug}\nlocale: en\ncategory: faq\n---\n# {title}\n\n{body}\n"
LEAD, PASSWORD = "lead@example.com", "Quiet-Harbor-Lantern-42"


def build_app(home: Path, **config):
    """A fresh portal on home with the default limits, two articles and a lead's API token."""
    from portal import accounts, create_app
    from portal.cli import prepare_database
    from portal.db import get_session
    from portal.importer import import_paths

    app = create_app({"HOME": str(home), "SECRET_KEY": "forge-bench", "EMBEDDING_MODEL": "fake",
                      "AUTO_REINDEX": False, **config})
    folder = home / "kb"
    folder.mkdir(parents=True)
    for slug, title in zip(SLUGS, ("Reset your password", "Download an invoice")):
        (folder / f"{slug}.md").write_text(ARTICLE.format(title=title, slug=slug, body=f"How to: {title}."))
    with app.app_context():
        prepare_database(app)
        import_paths(get_session(), [str(folder)], app.config["LOCALES"])
        accounts.create_user(get_session(), accounts.NewUser(LEAD, "lead", PASSWORD))
        token = accounts.create_token(get_session(), LEAD)
    return app, token


def client(app, address=ADDRESS, agent=BROWSER):
    """A test client that speaks from one address with one user agent."""
    c = app.test_client()
    c.environ_base.update(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    return c


def honest_visits(app):
    """What real customers did before the attack: two read an article (one voted), two opened tickets."""
    for n, helpful in enumerate((True, None)):
        c = client(app, address=f"198.51.100.{n + 1}")
        c.get(f"/articles/{SLUGS[0]}")
        c.get("/v.gif")
        if helpful:
            c.post(f"/api/articles/{SLUGS[0]}/feedback", json={"helpful": True})
    for n in range(2):
        c = client(app, address=f"198.51.100.{n + 10}")
        c.get(f"/articles/{SLUGS[1]}")
        c.post("/api/tickets", json={"email": f"customer{n}@example.com", "subject": "Invoice is wrong",
                                     "body": "The amount on my invoice does not match my order."})


def figures(app, token):
    """The self-service figures of today, after writing what the buffer still holds."""
    if "sportello.tracking" in app.extensions:
        app.extensions["sportello.tracking"].flush()
    resp = app.test_client().get("/api/metrics/self-service", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.data
    return resp.get_json()


def _invented(app, slug):
    """A visitor id made up by the script, a new one per request."""
    c = client(app)
    for path, body in ((f"/api/articles/{slug}", None), (f"/api/articles/{slug}/feedback", {"helpful": True})):
        c.set_cookie("sportello_visitor", secrets.token_urlsafe(18))
        (c.get(path) if body is None else c.post(path, json=body)).status_code  # noqa: B018
    return 2


def _fresh(app, slug):
    """A fresh id the server issued, kept like a browser keeps it, the beacon fetched too."""
    c = client(app)
    c.get("/")
    c.get(f"/articles/{slug}")
    c.get("/v.gif")
    c.post(f"/api/articles/{slug}/feedback", json={"helpful": True})
    return 4


def _vote_only(app, slug):
    """A fresh id that votes on an article it never opened."""
    c = client(app)
    c.get("/")
    c.post(f"/api/articles/{slug}/feedback", json={"helpful": True})
    return 2


def attack(app, seconds: float) -> int:
    """Run the three tactics in turn for `seconds`; return how many requests were sent."""
    sent, deadline = 0, time.monotonic() + seconds
    for tactic, slug in zip(itertools.cycle((_invented, _fresh, _vote_only)), itertools.cycle(SLUGS * 3)):
        if time.monotonic() >= deadline:
            return sent
        sent += tactic(app, slug)
    return sent


def run(seconds: float, home: Path | None = None) -> dict:
    """Build the app, record honest visits, attack; return the figures before and after."""
    home = home or Path(tempfile.mkdtemp(prefix="sportello-forge-"))
    app, token = build_app(home)
    honest_visits(app)
    before = figures(app, token)
    sent = attack(app, seconds)
    after = figures(app, token)
    return {"before": before, "after": after, "requests": sent, "seconds": seconds}


def gains(result: dict) -> dict:
    """What the attack added to each figure (None where this code has no such figure)."""
    before, after = result["before"], result["after"]
    out = {}
    for name in ("visits", "self_served", "self_served_inferred", "tickets", "excluded_visits"):
        out[name] = after[name] - before[name] if name in after and name in before else None
    for name in ("self_service_ratio", "self_service_ratio_with_inferred", "deflection_rate"):
        out[name] = (before.get(name), after.get(name))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    result = run(args.seconds)
    print(f"attack: {result['requests']} requests in {args.seconds:.0f} s from {ADDRESS}, default limits")
    for name, value in gains(result).items():
        print(f"  {name:34} {value}")


if __name__ == "__main__":
    main()
