"""The contact-form dev protocol: do the ticket form's suggestions name the article that answers?

    python -m bench.contact_protocol --encoder e5-small-nano --encoder minilm      # seeds 11,23,37,41,53
    python -m bench.contact_protocol --encoder minilm --seeds 5,7 --combine        # and the subject/body variants

A portal app on a temporary home with that encoder imports Banking77 without a quarter of its
intents (bench.protocols.near_misses(seed)); the kept intents' dev phrasings are then sent as
ticket subjects to GET /api/tickets/suggest. Reported per seed:

  recall@3      share of those phrasings whose answering article is among the first 3 suggestions
  empty         share of them with no suggestion at all
  removed_shown share of the removed intents' phrasings (no article answers them) that still get
                a suggestion: near misses, shown as "may answer"
  p50_ms p95_ms latency of the calls, first-time queries (the app asking has an empty query cache)

--combine also compares ways of searching a subject and a body on made-up tickets (a generic
subject over the phrasing, the phrasing over a second phrasing of the same intent, the phrasing
over greetings, its first three words over the whole phrasing or over the rest of it): the
subject alone, subject + body, the better of subject and body per article, the best of the
three, and what /api/tickets/suggest does.
Tune on seeds other than bench.protocols.NEAR_MISS_SEEDS.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import random
import shutil
import sys
import tempfile
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import protocols  # noqa: E402

GENERIC_SUBJECTS = ["Help", "Question", "Problem with my account", "Need assistance please", "Urgent issue",
                    "Support request"]
GREETINGS = ["Thanks in advance for your help.", "Best regards, Anna.",
             "I have been a customer for years and this never happened before. Thank you."]


def write_articles(docs, folder: pathlib.Path) -> None:
    """The protocol's documents as article files in the contract's format."""
    folder.mkdir(parents=True, exist_ok=True)
    for d in docs:
        meta = {"title": d.title, "slug": d.slug, "locale": d.locale, "category": d.category or "general",
                "tags": list(d.tags), "status": "published"}
        meta.update({k: v for k, v in (("concept", d.concept), ("summary", d.summary)) if v})
        text = "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + d.body + "\n"
        (folder / f"{d.slug}.md").write_text(text, encoding="utf-8")


def _app(home: pathlib.Path, encoder: str, cache_dir: str):
    from portal import create_app

    return create_app({"HOME": str(home), "EMBEDDING_MODEL": encoder, "RATE_LIMITS": "off", "SECRET_KEY": "bench",
                       "AUTO_REINDEX": False, "EMBEDDING_CACHE_DIR": cache_dir, "TRACKING_FLUSH_SECONDS": 0})


def build_portal(protocol, encoder: str, cache_dir: str, workdir: pathlib.Path):
    """A portal holding the protocol's articles, whose query vectors start uncached.

    The articles are imported by an app sharing `cache_dir` (passages embedded before are not
    embedded again); the app returned opens the same home with an empty cache of its own, so
    every query is encoded as a customer's new sentence would be."""
    from portal.cli import prepare_database

    write_articles(protocol.documents, workdir / "articles")
    importer = _app(workdir / "home", encoder, cache_dir)
    with importer.app_context():
        prepare_database(importer)
    result = importer.test_cli_runner().invoke(args=["import", str(workdir / "articles")])
    if result.exit_code != 0:
        raise RuntimeError(f"import failed: {result.output[-500:]}")
    importer.extensions["sportello.engine"].dispose()
    return _app(workdir / "home", encoder, str(workdir / "query-cache"))


def _ask(client, subject: str, body: str = "") -> tuple[list[str], float]:
    start = time.perf_counter()
    res = client.get("/api/tickets/suggest", query_string={"subject": subject, "body": body, "locale": "en"})
    took = (time.perf_counter() - start) * 1000
    if res.status_code != 200:
        raise RuntimeError(f"/api/tickets/suggest answered {res.status_code}: {res.get_data(as_text=True)[:200]}")
    return [s["slug"] for s in res.get_json()["suggestions"]], took


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] if ordered else 0.0


def run_contact_protocol(encoder: str, seed: int, cache_dir: str) -> dict:
    """Recall@3, empty share and latency of /api/tickets/suggest on the near-miss split `seed`."""
    protocol = protocols.near_misses(seed)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix=f"sportello-contact-{seed}-"))
    try:
        app = build_portal(protocol, encoder, cache_dir, workdir)
        client = app.test_client()
        _ask(client, "warm up the model")        # loading the encoder is not a customer's wait
        hits, empty, shown_removed, lat = [], [], [], []
        for q in protocol.queries:
            slugs, took = _ask(client, q.text)
            if q.answerable:
                hits.append(any(s in q.relevant for s in slugs[:3]))
                empty.append(not slugs)
                lat.append(took)
            else:
                shown_removed.append(bool(slugs))
        app.extensions["sportello.engine"].dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    n = max(len(hits), 1)
    return {"recall@3": sum(hits) / n, "empty": sum(empty) / n,
            "removed_shown": sum(shown_removed) / max(len(shown_removed), 1), "queries": len(hits),
            "p50_ms": _quantile(lat, 0.5), "p95_ms": _quantile(lat, 0.95)}


def made_up_tickets(protocol, seed: int) -> dict[str, list[tuple[str, str, tuple]]]:
    """(subject, body, answering slugs) per kind of ticket, from the kept intents' phrasings."""
    rng = random.Random(seed)
    kept = [q for q in protocol.queries if q.answerable]
    by_intent: dict[str, list[str]] = {}
    for q in kept:
        by_intent.setdefault(q.intent, []).append(q.text)

    def sibling(q):
        others = [t for t in by_intent[q.intent] if t != q.text]
        return rng.choice(others) if others else q.text

    return {
        "generic subject, phrasing body": [(rng.choice(GENERIC_SUBJECTS), q.text, q.relevant) for q in kept],
        "phrasing, same-intent body": [(q.text, sibling(q), q.relevant) for q in kept],
        "phrasing, greetings body": [(q.text, rng.choice(GREETINGS), q.relevant) for q in kept],
        "3 words, phrasing body": [(" ".join(q.text.split()[:3]), q.text, q.relevant) for q in kept],
        "3 words, the rest as body": [(" ".join(q.text.split()[:3]), " ".join(q.text.split()[3:]), q.relevant)
                                      for q in kept if len(q.text.split()) > 4],
    }


def compare_combinations(encoder: str, seed: int, cache_dir: str) -> dict[str, dict[str, float]]:
    """Recall@3 per kind of made-up ticket and per way of combining subject and body."""
    from portal import contact_suggest

    protocol = protocols.near_misses(seed)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix=f"sportello-combine-{seed}-"))
    out = {}
    try:
        app = build_portal(protocol, encoder, cache_dir, workdir)
        with app.test_request_context():
            service = app.extensions["sportello.search"]

            def ranked(*texts):     # each text searched alone, merged as contact_suggest does
                return [r.slug for r in contact_suggest.select(
                    [service.search(t, None, None, None, contact_suggest.FETCH, 1, prefer="en") for t in texts],
                    "en").rows]

            ways = {
                "subject": lambda s, b: ranked(s),
                "subject+body": lambda s, b: ranked(f"{s} {b}"),
                "max(subject, body)": lambda s, b: ranked(s, b),
                "max(all three)": lambda s, b: ranked(s, b, f"{s} {b}"),
                "shipped": lambda s, b: [r.slug for r in contact_suggest.suggest(service, s, b, "en").rows],
            }
            for kind, tickets in made_up_tickets(protocol, seed).items():
                out[kind] = {name: sum(any(x in rel for x in way(s, b)[:3]) for s, b, rel in tickets) / len(tickets)
                             for name, way in ways.items()}
        app.extensions["sportello.engine"].dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def main(argv=None) -> int:
    """Prints one row per encoder and seed, and the mean per encoder."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", action="append", dest="encoders")
    ap.add_argument("--seeds", default=",".join(map(str, protocols.NEAR_MISS_SEEDS)))
    ap.add_argument("--cache-dir", default=str(ROOT / ".cache" / "embeddings"))
    ap.add_argument("--combine", action="store_true", help="also compare ways of combining subject and body")
    a = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    seeds = [int(s) for s in a.seeds.split(",")]
    print(f"{'encoder':<15} {'seed':>4} {'queries':>7} {'R@3':>6} {'empty':>6} {'removed shown':>13} "
          f"{'p50 ms':>7} {'p95 ms':>7}")
    for encoder in a.encoders or ["e5-small-nano"]:
        rows = []
        for seed in seeds:
            r = run_contact_protocol(encoder, seed, a.cache_dir)
            rows.append(r)
            print(f"{encoder:<15} {seed:>4} {r['queries']:>7} {r['recall@3']:>6.3f} {r['empty']:>6.3f} "
                  f"{r['removed_shown']:>13.3f} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f}", flush=True)
        mean = {k: sum(r[k] for r in rows) / len(rows) for k in ("recall@3", "empty", "removed_shown", "p50_ms", "p95_ms")}
        print(f"{encoder:<15} {'mean':>4} {'':>7} {mean['recall@3']:>6.3f} {mean['empty']:>6.3f} "
              f"{mean['removed_shown']:>13.3f} {mean['p50_ms']:>7.1f} {mean['p95_ms']:>7.1f}", flush=True)
        if a.combine:
            for seed in seeds:
                for kind, by_way in compare_combinations(encoder, seed, a.cache_dir).items():
                    print(f"  {encoder} seed {seed} {kind:<32} " + "  ".join(f"{k} {v:.3f}" for k, v in by_way.items()),
                          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
