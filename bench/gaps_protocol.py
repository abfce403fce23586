"""The gaps dev protocol: Banking77 without a quarter of its intents, searched through the portal
by many simulated visitors, then grouped into content gaps the way /api/metrics/gaps groups them.

    python -m bench.gaps_protocol --encoder e5-small-nano --seeds 11,23,37,41,53
    python -m bench.gaps_protocol --encoder minilm --fit --seeds 1,2,3     # sweep the cut

run_gaps_protocol(encoder, seed, cache_dir) builds a portal on a temporary home (the encoder
given, rate limits off, events written at once), imports the corpus without the removed intents
(bench.protocols.near_misses) and lets visitors search. Each visitor has its own cookie (and
address and browser), lands on the home page, searches once through GET /api/search and then
behaves as VISITORS says:

* a phrasing of a removed intent is searched by 1 to 3 visitors. Told there is no answer, a
  visitor opens a ticket through POST /api/tickets with probability TICKET_NO_ANSWER, or leaves.
  Given a (wrong) answer, the visitor opens it; then votes it not helpful (NOT_HELPFUL_WRONG),
  or opens a ticket (TICKET_WRONG), or leaves without a word (the rest: the portal never learns
  that this search failed).
* a phrasing of a kept intent is searched by one visitor, who opens the first result when there
  is one, now and then votes it helpful, and opens a ticket anyway with a small probability
  (TICKET_ANSWERED: people do). Told there is no answer, they behave like the others.

The failed queries (no answer, or a ticket or a not-helpful vote after the search) are then
grouped by portal.tracking.content_gaps, the function behind the API, and the grouping of the
removed intents' phrasings is compared with their true intents: the adjusted Rand index (a
phrasing that is not among the failed queries, or alone in its group, is a cluster of its own)
and the share of them that share a group with at least one other phrasing. The kept intents'
phrasings that failed take part in the grouping, as they would in a real period, but are not
scored.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import protocols  # noqa: E402
from bench.quality import sets  # noqa: E402

# How simulated visitors behave (probabilities; see the module docstring).
VISITORS = {
    "TICKET_NO_ANSWER": 0.6,
    "NOT_HELPFUL_WRONG": 0.3,
    "TICKET_WRONG": 0.3,
    "HELPFUL_ANSWERED": 0.3,
    "TICKET_ANSWERED": 0.05,
}
FIT_SEEDS = (1, 2, 3)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@dataclass
class Simulation:
    """A portal after the visitors left: its app, the protocol and what the visitors met."""

    app: object
    home: pathlib.Path
    protocol: protocols.Protocol
    searches: int
    no_answer: int           # searches of removed intents' phrasings told there is no answer
    removed_searches: int
    tickets: int
    votes: int

    def close(self):
        """Dispose of the app's database connections and delete the temporary home."""
        self.app.extensions["sportello.engine"].dispose()
        shutil.rmtree(self.home, ignore_errors=True)


def _kept_files(corpus: pathlib.Path, slugs: set[str], folder: pathlib.Path) -> None:
    """Copy the corpus files of the kept articles into folder."""
    import yaml

    for path in sorted(corpus.rglob("*.md")):
        front = path.read_text(encoding="utf-8").split("---", 2)[1]
        slug = str((yaml.safe_load(front) or {}).get("slug") or path.stem)
        if slug in slugs:
            shutil.copy(path, folder / path.name)


def build_portal(encoder: str, seed: int, cache_dir: str):
    """(app, home, protocol): a fresh portal holding the near-miss split of this seed."""
    from portal import create_app
    from portal.cli import prepare_database
    from portal.db import get_session
    from portal.importer import import_paths
    from portal.indexing import articles_changed

    protocol = protocols.near_misses(seed)
    home = pathlib.Path(tempfile.mkdtemp(prefix=f"sportello-gaps-{seed}-"))
    (home / "search").mkdir()
    if cache_dir:  # the shared embedding cache: passages and queries embedded once for everyone
        os.makedirs(cache_dir, exist_ok=True)
        os.symlink(os.path.abspath(cache_dir), home / "search" / "embedding-cache")
    app = create_app({"HOME": str(home), "SECRET_KEY": "gaps-protocol", "EMBEDDING_MODEL": encoder,
                      "RATE_LIMITS": "off", "TRACKING_FLUSH_SECONDS": 0, "WTF_CSRF_ENABLED": False,
                      "AUTO_REINDEX": False})
    kb = home / "kb"
    kb.mkdir()
    _kept_files(sets()["banking77"][0], {d.slug for d in protocol.documents}, kb)
    with app.app_context():
        prepare_database(app)
        report, changed = import_paths(get_session(), [str(kb)], app.config["LOCALES"])
        if report.failed or len(changed) != len(protocol.documents):
            raise RuntimeError(f"import: {report.summary()}")
        articles_changed(upserted=changed)
    return app, home, protocol


class _Visitor:
    """One browser: its own cookie jar (so its own visitor id), address and user agent."""

    def __init__(self, app, number: int):
        self.client = app.test_client()
        self.environ = {"REMOTE_ADDR": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"}
        self.headers = {"User-Agent": BROWSER, "Accept-Language": "en"}
        self.number = number
        self.get("/")  # lands on the portal: the visitor cookie it then sends back, as a browser does

    def get(self, url, **kw):
        return self.client.get(url, headers=self.headers, environ_base=self.environ, **kw)

    def post(self, url, body):
        return self.client.post(url, json=body, headers=self.headers, environ_base=self.environ)

    def search(self, text):
        resp = self.get("/api/search", query_string={"q": text})
        if resp.status_code != 200:
            raise RuntimeError(f"search {text!r}: {resp.status_code} {resp.get_data(as_text=True)[:200]}")
        return resp.get_json()

    def open(self, text, slug):
        self.get(f"/articles/{slug}", query_string={"q": text, "pos": 1})

    def vote(self, text, slug, helpful):
        resp = self.post(f"/api/articles/{slug}/feedback", {"helpful": helpful, "query": text[:200]})
        if resp.status_code != 201:
            raise RuntimeError(f"vote: {resp.status_code} {resp.get_data(as_text=True)[:200]}")

    def ticket(self, text):
        resp = self.post("/api/tickets", {"email": f"customer{self.number}@example.com", "subject": text[:150],
                                          "body": f"I searched the help pages for this and found no answer: {text}",
                                          "query": text})
        if resp.status_code != 201:
            raise RuntimeError(f"ticket: {resp.status_code} {resp.get_data(as_text=True)[:200]}")


def _behave(visitor: _Visitor, text: str, removed: bool, rng: random.Random) -> tuple[bool, int, int]:
    """One visitor's search and what follows; returns (told no answer, tickets, votes)."""
    answer = visitor.search(text)
    first = answer["results"][0]["slug"] if answer["results"] else None
    if not answer["answered"] or first is None:
        if rng.random() < VISITORS["TICKET_NO_ANSWER"]:
            visitor.ticket(text)
            return True, 1, 0
        return True, 0, 0
    visitor.open(text, first)
    roll = rng.random()
    if removed:  # the answer shown is not the one they need
        if roll < VISITORS["NOT_HELPFUL_WRONG"]:
            visitor.vote(text, first, False)
            return False, 0, 1
        if roll < VISITORS["NOT_HELPFUL_WRONG"] + VISITORS["TICKET_WRONG"]:
            visitor.ticket(text)
            return False, 1, 0
        return False, 0, 0
    if roll < VISITORS["TICKET_ANSWERED"]:
        visitor.ticket(text)
        return False, 1, 0
    if roll < VISITORS["TICKET_ANSWERED"] + VISITORS["HELPFUL_ANSWERED"]:
        visitor.vote(text, first, True)
        return False, 0, 1
    return False, 0, 0


def simulate(encoder: str, seed: int, cache_dir: str) -> Simulation:
    """Build the portal and let the visitors of this seed search it (module docstring)."""
    app, home, protocol = build_portal(encoder, seed, cache_dir)
    rng = random.Random(seed)
    plan = []
    for q in protocol.queries:
        plan += [(q.text, not q.answerable)] * (rng.randint(1, 3) if not q.answerable else 1)
    rng.shuffle(plan)
    sim = Simulation(app, home, protocol, 0, 0, 0, 0, 0)
    try:
        for number, (text, removed) in enumerate(plan, start=1):
            told, tickets, votes = _behave(_Visitor(app, number), text, removed, rng)
            sim.searches += 1
            sim.removed_searches += removed
            sim.no_answer += told and removed
            sim.tickets += tickets
            sim.votes += votes
    except BaseException:
        sim.close()  # a failed run leaves no temporary home behind
        raise
    return sim


def score(sim: Simulation, cut: float | None = None) -> dict:
    """Group the failed queries as the API does (with the calibrated cut, or this one) and score them."""
    from sklearn.metrics import adjusted_rand_score

    from portal import tracking
    from portal.tracking.service import normalize_query

    with sim.app.app_context():
        today = tracking.now().date()
        if cut is not None:
            sim.app.config["GAP_SIMILARITY"] = cut
        start = time.perf_counter()
        groups = tracking.content_gaps(today, today)
        seconds = time.perf_counter() - start
        sim.app.config["GAP_SIMILARITY"] = ""
    group_of = {q: (n, len(g.queries)) for n, g in enumerate(groups) for q, _ in g.queries}
    intents = {}
    for q in sim.protocol.queries:
        if not q.answerable:
            intents.setdefault(normalize_query(q.text), q.intent)
    truth, found, grouped = [], [], 0
    for n, (norm, intent) in enumerate(sorted(intents.items())):
        label, members = group_of.get(norm, (f"alone-{n}", 1))
        truth.append(intent)
        found.append(label if members > 1 else f"alone-{n}")
        grouped += members > 1
    failed = sum(norm in group_of for norm in intents)
    return {"ari": round(adjusted_rand_score(truth, found), 4), "grouped": round(grouped / len(intents), 4),
            "groups": len(groups), "seconds": round(seconds, 3), "failed": round(failed / len(intents), 4),
            "told_no_answer": round(sim.no_answer / max(sim.removed_searches, 1), 4),
            "searches": sim.searches, "tickets": sim.tickets, "votes": sim.votes, "queries": len(intents)}


def run_gaps_protocol(encoder: str, seed: int, cache_dir: str) -> dict:
    """The protocol for one encoder and seed: {"ari", "grouped", "groups", "seconds", ...}."""
    sim = simulate(encoder, seed, cache_dir)
    try:
        return score(sim)
    finally:
        sim.close()


def fit(encoder: str, seeds, cache_dir: str, cuts) -> list[tuple[float, float, float]]:
    """[(cut, mean ARI, mean grouped)] over the seeds, one simulation per seed."""
    sims = [simulate(encoder, seed, cache_dir) for seed in seeds]
    try:
        rows = []
        for cut in cuts:
            scored = [score(sim, cut) for sim in sims]
            rows.append((cut, statistics.mean(s["ari"] for s in scored), statistics.mean(s["grouped"] for s in scored)))
            print(f"cut {cut:.3f}  ARI {rows[-1][1]:.3f}  grouped {rows[-1][2]:.3f}  "
                  + "  ".join(f"{s['ari']:.3f}/{s['grouped']:.2f}" for s in scored), flush=True)
        return rows
    finally:
        for sim in sims:
            sim.close()


def main(argv=None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", default="e5-small-nano")
    ap.add_argument("--seeds", default=",".join(map(str, protocols.NEAR_MISS_SEEDS)))
    ap.add_argument("--cache-dir", default=str(ROOT / ".cache" / "embeddings"))
    ap.add_argument("--fit", action="store_true", help="sweep the cut on these seeds (use seeds other than the report's)")
    ap.add_argument("--cuts", default="", help="cuts to sweep, lo:hi:step (default 0.3:0.95:0.025)")
    ap.add_argument("--method", default="", help="another scipy linkage method to try (single, complete, weighted)")
    a = ap.parse_args(argv)
    if a.method:
        from portal.tracking import gaps

        gaps.METHOD = a.method
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    if a.fit:
        lo, hi, step = (float(x) for x in a.cuts.split(":")) if a.cuts else (0.3, 0.95, 0.025)
        cuts = [round(lo + i * step, 4) for i in range(int(round((hi - lo) / step)) + 1)]
        rows = fit(a.encoder, seeds, a.cache_dir, cuts)
        eligible = [r for r in rows if r[2] >= 0.75] or rows
        best = max(eligible, key=lambda r: r[1])
        print(f"best cut for {a.encoder}: {best[0]:.3f} (ARI {best[1]:.3f}, grouped {best[2]:.3f})")
        return 0
    print(f"{'encoder':<16}{'seed':>5}{'ARI':>8}{'grouped':>9}{'groups':>8}{'failed':>8}{'no-ans':>8}"
          f"{'tickets':>8}{'seconds':>9}")
    results = []
    for seed in seeds:
        r = run_gaps_protocol(a.encoder, seed, a.cache_dir)
        results.append(r)
        print(f"{a.encoder:<16}{seed:>5}{r['ari']:>8.3f}{r['grouped']:>9.3f}{r['groups']:>8}{r['failed']:>8.3f}"
              f"{r['told_no_answer']:>8.3f}{r['tickets']:>8}{r['seconds']:>9.3f}", flush=True)
    print(f"{a.encoder:<16}{'mean':>5}{statistics.mean(r['ari'] for r in results):>8.3f}"
          f"{statistics.mean(r['grouped'] for r in results):>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
