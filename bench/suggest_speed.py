"""Search-as-you-type speed at 10k articles: /api/suggest's backend call, per keystroke.

    python -m bench.suggest_speed                    # 10,000 articles, 400 typed prefixes
    python -m bench.suggest_speed --sizes 1000,10000 --queries 1000

Builds the keyword index of bench.speed's synthetic KB (it/ro/en articles whose titles are
the first words of real paragraphs), then types: for random articles, one to three words of the
title starting at its first word or at a random later one, the last word cut anywhere (what
the box holds between two keystrokes). Prints the median and p95 of the backend's suggest()
(asked for 16 titles, as the portal asks for 2 x 8 before folding translations), beside a
plain Whoosh query in the same run (the previous implementation: an AND of the earlier words
and a Prefix on the last, scored by Whoosh), and how often the article typed from is among
the first 8 titles.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.speed import synthetic_kb  # noqa: E402
from search import analysis  # noqa: E402
from search.registry import create_backend  # noqa: E402


def typed_prefixes(docs, n: int, seed: int = 5) -> list[tuple[str, str, str]]:
    """(what was typed, the article typed from, its locale)."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        doc = rng.choice(docs)
        words = doc.title.split()[:-1]          # the synthetic title ends with its number
        start = 0 if rng.random() < 0.5 else rng.randrange(len(words))
        chosen = words[start:start + rng.randint(1, 3)]
        last = chosen[-1]
        cut = rng.randint(2 if len(chosen) == 1 else 1, max(2, len(last)))
        out.append((" ".join(chosen[:-1] + [last[:cut]]), doc.slug, doc.locale))
    return out


def whoosh_prefix(backend, text: str, limit: int):
    """The previous suggest(): Whoosh's AND of the earlier words and a Prefix on the last."""
    from whoosh.query import And, Prefix, Term

    typed = analysis.words(text)
    if not typed or len(typed[-1]) < 2 and len(typed) == 1:
        return []
    parts = [Term("title_prefix", w) for w in typed[:-1]] + [Prefix("title_prefix", typed[-1])]
    searcher = backend._get_searcher()
    return [r["slug"] for r in searcher.search(And(parts) if len(parts) > 1 else parts[0], limit=limit)]


def timed(fn, cases) -> tuple[float, float, float]:
    """(median ms, p95 ms, share of cases whose article is in the first 8) of fn(text, locale)."""
    for text, _, loc in cases[:3]:
        fn(text, loc)
    lat, found = [], 0
    for text, slug, loc in cases:
        start = time.perf_counter()
        slugs = fn(text, loc)
        lat.append((time.perf_counter() - start) * 1000)
        found += slug in slugs[:8]
    lat.sort()
    return statistics.median(lat), lat[int(0.95 * (len(lat) - 1))], found / len(cases)


def run(n: int, queries: int) -> None:
    docs = synthetic_kb(n)
    home = tempfile.mkdtemp(prefix="sportello-suggest-speed-")
    try:
        backend = create_backend("keyword", home)
        start = time.perf_counter()
        backend.rebuild(docs)
        print(f"{n} articles indexed in {time.perf_counter() - start:.0f}s", flush=True)
        cases = typed_prefixes(docs, queries)
        new = timed(lambda t, loc: [h.slug for h in backend.suggest(t, None, 16, prefer=loc)], cases)
        old = timed(lambda t, loc: whoosh_prefix(backend, t, 16), cases)
        print(f"{'':<34} {'p50 ms':>7} {'p95 ms':>7} {'typed article in first 8':>25}")
        print(f"{'suggest() (search/titles.py)':<34} {new[0]:>7.2f} {new[1]:>7.2f} {new[2]:>25.3f}")
        print(f"{'Whoosh AND + Prefix (previous)':<34} {old[0]:>7.2f} {old[1]:>7.2f} {old[2]:>25.3f}")
        print(f"ratio new/previous: p50 {new[0] / old[0]:.2f}, p95 {new[1] / old[1]:.2f}", flush=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000")
    ap.add_argument("--queries", type=int, default=400)
    a = ap.parse_args(argv)
    for n in (int(s) for s in a.sizes.split(",")):
        run(n, a.queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
