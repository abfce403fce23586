"""How long the content gaps take for a period holding many failed queries.

    python -m bench.gaps_bench --encoder e5-small-nano --cache-dir /work/main/.cache/embeddings
    python -m bench.gaps_bench --encoder fake --queries 10000 --cold-calls 3

Fills a temporary portal with one day of searches: QUERIES distinct failed queries (the shared
sets' questions, the protocols' everyday and gibberish ones, and variants of them with a
greeting or a closing, as customers repeat a question), each searched 1 to 5 times with no
answer, some of them answered and followed by a ticket or a not-helpful vote instead, and twice
as many answered searches. Then it times:

  clustering   the former numpy loop against scipy's linkage on the same vectors (--baseline N
               queries; the loop is cubic, so not on all of them) and checks both group alike;
               then, past EXACT_MAX queries, how the head-and-tail grouping compares with one
               clustering of every query (adjusted Rand index)
  warm         build_gaps with every vector in the embedding cache (median and p95 of --calls)
  api, page    GET /api/metrics/gaps and the leads' gaps page, warm
  cold         build_gaps with an empty embedding cache: every query embedded (--cold-calls)
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
from datetime import datetime, timedelta

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.protocols import EVERYDAY, gibberish  # noqa: E402
from bench.quality import sets  # noqa: E402

PREFIXES = ["", "please ", "hi, ", "help: ", "urgent: ", "question - ", "hello ", "can you tell me ",
            "i need to know ", "quick question: "]
SUFFIXES = ["", "?", " please", " thanks", " asap", " again", " today", " help", " !!", " thank you"]
DAY = datetime(2026, 3, 10)


def base_queries() -> list[str]:
    """The shared sets' dev questions and the protocols' everyday and gibberish ones, once each."""
    out = []
    for name in ("banking77", "squad-it", "glossary"):
        if name in sets():
            for line in sets()[name][1].read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.startswith("#"):
                    out.append(line.split("\t")[2].strip())
    out += [t for texts in EVERYDAY.values() for t in texts] + gibberish(80)
    return list(dict.fromkeys(out))


def failed_texts(n: int, seed: int = 0) -> list[str]:
    """n distinct queries: the base questions, then variants of them with a greeting or a closing."""
    from portal.tracking.service import normalize_query

    rng, bases = random.Random(seed), base_queries()
    seen, out = set(), []
    while len(out) < n:
        for base in bases:
            text = base if len(out) < len(bases) else rng.choice(PREFIXES) + base + rng.choice(SUFFIXES)
            key = normalize_query(text)  # as the reports fold queries
            if key not in seen:
                seen.add(key)
                out.append(text)
            if len(out) >= n:
                break
    return out


def fill(app, texts: list[str], seed: int = 0) -> int:
    """Record a day of searches around the failed queries; return the searches recorded."""
    from portal.db import get_session
    from portal.tracking.service import EventData, Step, record_batch, record_events

    rng, steps, later, visitor = random.Random(seed), [], [], 0
    for text in texts:
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 5))):
            visitor += 1
            who, at = f"bench-visitor-{visitor:08d}", DAY + timedelta(seconds=rng.randrange(80_000))
            signal = rng.random()
            answered = signal < 0.2  # answered, then a ticket or a not-helpful vote says it was not
            steps.append(Step(who, (EventData(kind="search", query=text, results=3, mode="hybrid", locale="en",
                                              answered=answered),), at))
            if answered:  # read the answer, then said it was not one
                later.append((who, at + timedelta(minutes=1), [EventData(kind="view", article="a")]))
                later.append((who, at + timedelta(minutes=2), [EventData(kind="ticket_opened", ticket_ref="SP-1")
                              if signal < 0.1 else EventData(kind="feedback", article="a", helpful=False)]))
    for n in range(2 * len(steps)):
        steps.append(Step(f"bench-answered-{n:08d}", (EventData(
            kind="search", query=rng.choice(texts[:1500]), results=5, mode="hybrid", locale="en", answered=True),),
            DAY + timedelta(seconds=rng.randrange(80_000))))
    steps.sort(key=lambda s: s.at)
    with app.app_context():
        session = get_session()
        for start in range(0, len(steps), 2000):
            record_batch(session, steps[start:start + 2000])
        for who, at, events in later:
            record_events(session, who, events, at)
    return len(steps)


def numpy_loop(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """The grouping the portal used before scipy: average linkage as a numpy loop (for comparison)."""
    n = len(vectors)
    sim = np.asarray(vectors, np.float64) @ np.asarray(vectors, np.float64).T
    groups, sizes, link, alive = [[i] for i in range(n)], np.ones(n), sim.copy(), np.ones(n, bool)
    while True:
        avg = link / np.outer(sizes, sizes)
        mask = np.outer(alive, alive)
        np.fill_diagonal(mask, False)
        avg = np.where(mask, avg, -np.inf)
        i, j = divmod(int(np.argmax(avg)), n)
        if avg[i, j] < threshold:
            break
        groups[i].extend(groups[j])
        groups[j] = []
        link[i, :] += link[j, :]
        link[:, i] += link[:, j]
        sizes[i] += sizes[j]
        alive[j] = False
        link[j, :] = 0
        link[:, j] = 0
    return [g for g in groups if g]


def _timed(fn, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _line(name: str, seconds: list[float], note: str = "") -> None:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    print(f"{name:<34} median {statistics.median(seconds):7.3f} s   p95 {p95:7.3f} s   "
          f"({len(seconds)} calls){'   ' + note if note else ''}", flush=True)


def _app(home: pathlib.Path, encoder: str, cache_dir: str | None):
    from portal import create_app
    from portal.cli import prepare_database

    (home / "search").mkdir(parents=True, exist_ok=True)
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
        os.symlink(os.path.abspath(cache_dir), home / "search" / "embedding-cache")
    app = create_app({"HOME": str(home), "SECRET_KEY": "gaps-bench", "EMBEDDING_MODEL": encoder,
                      "RATE_LIMITS": "off", "TRACKING_FLUSH_SECONDS": 0, "AUTO_REINDEX": False,
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        prepare_database(app)
    return app


def compare_clustering(vectors: np.ndarray, cut: float) -> None:
    """The former loop against scipy on the same vectors; both must give the same groups. At the
    former fixed cut of 0.6 the loop merges nearly everything, one merge per step."""
    from portal.tracking.gaps import cluster

    for at in (cut, 0.6):
        loop_s, loop = _timed(lambda: numpy_loop(vectors, at), 1), numpy_loop(vectors, at)
        fast_s = _timed(lambda: cluster(vectors, at), 5)
        same = sorted(map(sorted, loop)) == sorted(map(sorted, cluster(vectors, at)))
        print(f"clustering {len(vectors)} queries at cut {at}: numpy loop {loop_s[0]:.2f} s, scipy "
              f"{statistics.median(fast_s):.3f} s (median of 5), {loop_s[0] / statistics.median(fast_s):.0f}x; "
              f"{len(loop)} groups; same groups: {same}", flush=True)


def agreement(vectors: np.ndarray, cut: float) -> None:
    """How far the head-and-tail grouping of a large period is from one clustering of all."""
    from sklearn.metrics import adjusted_rand_score

    from portal.tracking import gaps

    def labels(groups):
        out = np.empty(len(vectors), np.int64)
        for n, members in enumerate(groups):
            out[members] = n
        return out

    start = time.perf_counter()
    exact = gaps._linkage(vectors, cut, "average")
    exact_s = time.perf_counter() - start
    ours = gaps.cluster(vectors, cut)
    print(f"one clustering of all {len(vectors)} queries: {exact_s:.1f} s, {len(exact)} groups; head and tail: "
          f"{len(ours)} groups; adjusted Rand index between them {adjusted_rand_score(labels(exact), labels(ours)):.3f}",
          flush=True)


def main(argv=None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", default="e5-small-nano")
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--calls", type=int, default=7)
    ap.add_argument("--cold-calls", type=int, default=1)
    ap.add_argument("--baseline", type=int, default=1000, help="queries for the loop-vs-scipy comparison (0: skip)")
    ap.add_argument("--cache-dir", default=str(ROOT / ".cache" / "embeddings"))
    ap.add_argument("--no-agreement", dest="agreement", action="store_false",
                    help="skip clustering every query at once (seconds, gigabytes) to compare")
    a = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from search.encoders import get_encoder

    encoder = get_encoder(a.encoder)
    work = pathlib.Path(tempfile.mkdtemp(prefix="sportello-gaps-bench-"))
    try:
        app = _app(work / "home", a.encoder, a.cache_dir)
        start = time.perf_counter()
        searches = fill(app, failed_texts(a.queries))
        print(f"{searches} searches recorded in {time.perf_counter() - start:.0f} s; encoder {encoder.name}", flush=True)
        with app.app_context():
            _in_process(encoder, str(work / "home" / "search" / "embedding-cache"), a)
        _http(app, a.calls)
        if a.cold_calls:
            _cold(app, encoder, work, a.cold_calls)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _in_process(encoder, cache: str, a) -> None:
    """Inside an app context: the first call, the clustering comparisons and the warm timings."""
    from portal import tracking
    from portal.db import get_session
    from portal.tracking.failed import failed_queries
    from portal.tracking.gaps import EXACT_MAX, group
    from portal.tracking.report import gap_cut
    from portal.tracking.vectors import query_vectors
    from search.base import clean_query
    from search.semantic import EmbeddingCache, passage_key

    session, day = get_session(), DAY.date()
    items = failed_queries(session, day, day)
    missing = len(items) - len(EmbeddingCache(cache, encoder.name, encoder.dim).get(
        [passage_key(clean_query(i.text)[0], asked=True) for i in items]))
    start = time.perf_counter()
    vectors = query_vectors([i.text for i in items], encoder, cache)
    print(f"{len(items)} failed queries, {sum(i.searches for i in items)} failed searches; the first call embeds "
          f"the {missing} missing from the embedding cache: {time.perf_counter() - start:.1f} s", flush=True)
    cut = gap_cut(encoder)
    if a.baseline:
        compare_clustering(vectors[:a.baseline], cut)
    if a.agreement and len(vectors) > EXACT_MAX:
        agreement(vectors, cut)
    _line("warm: tracking.content_gaps", _timed(lambda: tracking.content_gaps(day, day), a.calls),
          f"{len(tracking.content_gaps(day, day))} groups")
    _line("  of which failed_queries (SQL)", _timed(lambda: failed_queries(session, day, day), a.calls))
    _line("  of which query_vectors (cache)", _timed(lambda: query_vectors([i.text for i in items], encoder, cache),
                                                      a.calls))
    _line("  of which grouping (scipy)", _timed(lambda: group(items, vectors, cut), a.calls))


def _cold(app, encoder, work: pathlib.Path, calls: int) -> None:
    """build_gaps with an empty embedding cache each time: every query embedded."""
    from portal.db import get_session
    from portal.tracking.report import build_gaps

    cold, queries = [], 0
    for n in range(calls):
        with app.app_context():
            start = time.perf_counter()
            queries = sum(len(g.queries) for g in build_gaps(get_session(), DAY.date(), DAY.date(), encoder,
                                                              str(work / f"cold-{n}")))
            cold.append(time.perf_counter() - start)
    _line("cold: empty embedding cache", cold, f"{queries / statistics.median(cold):.0f} queries/s embedded")


def _http(app, calls: int) -> None:
    """Time GET /api/metrics/gaps (Bearer token) and the leads' gaps page, warm."""
    from portal import accounts
    from portal.db import get_session

    with app.app_context():
        accounts.create_user(get_session(), accounts.NewUser(email="lead@example.com", role="lead",
                                                             password="Amber-Falcon-Ledger-91"))
        token = accounts.create_token(get_session(), "lead@example.com")
    api = app.test_client()
    url = f"/api/metrics/gaps?from={DAY.date()}&to={DAY.date()}"
    resp = api.get(url, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.status_code
    _line("warm: GET /api/metrics/gaps", _timed(lambda: api.get(url, headers={"Authorization": f"Bearer {token}"}),
                                                 calls), f"{len(resp.get_data()) / 1e6:.1f} MB of JSON")
    page = app.test_client()
    assert page.post("/auth/login", data={"email": "lead@example.com", "password": "Amber-Falcon-Ledger-91"}).status_code == 302
    url = f"/leads/gaps?from={DAY.date()}&to={DAY.date()}"
    assert page.get(url).status_code == 200
    _line("warm: GET /leads/gaps", _timed(lambda: page.get(url), calls))


if __name__ == "__main__":
    sys.exit(main())
