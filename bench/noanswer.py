"""Does the portal know when it has no answer? One table per encoder, from one command.

    python -m bench.noanswer                               # e5-small-nano and minilm
    python -m bench.noanswer --encoders e5-small-nano --seeds 11,23 --skip gaps,contact

Rows (bench/protocols.py builds the data from the shared sets only):
  off-topic     the glossary KB: answerable dev queries refused (goal <= 5%), off-topic questions
                refused (SQuAD-it trivia, gibberish, everyday it/ro/en; goal >= 97%)
  near-miss     Banking77 without a quarter of its intents, per seed: answerable phrasings refused
                (goal <= 10%), phrasings of the removed intents refused (goal >= 50%)
  gaps          the removed intents' phrasings searched through the portal by many visitors and
                grouped: adjusted Rand index (goal >= 0.45) and share grouped (goal >= 70%)
  contact       kept intents' phrasings typed as ticket subjects: Recall@3 of the form's
                suggestions (goal >= 0.85)
  nDCG@10       hybrid on every labelled set, as shared/eval/score.py scores it, with the
                plausible cut on (it must stay within 0.005 of the figures before the cut)
  confidence    what computing the confidence costs per search (median, p95 ms)

"refused" means answered=false. The seeds reported are not those the calibration was fitted on
(bench/calibrate.py uses 1, 2, 3).
"""
from __future__ import annotations

import argparse
import importlib
import pathlib
import statistics
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import protocols  # noqa: E402
from bench.quality import evaluate, sets  # noqa: E402
from bench.corpus import load_documents  # noqa: E402
from bench.quality import corpus_locales, _metrics  # noqa: E402
from search.confidence import calibration_for, confidences  # noqa: E402
from search.registry import create_backend  # noqa: E402

ENCODERS = ("e5-small-nano", "minilm")
GOALS = {"off-topic answerable refused": ("<=", 0.05), "off-topic refused": (">=", 0.97),
         "near-miss answerable refused": ("<=", 0.10), "near-miss refused": (">=", 0.50),
         "gaps ARI": (">=", 0.45), "gaps grouped": (">=", 0.70), "contact Recall@3": (">=", 0.85)}


def _backend(documents, encoder, cache_dir):
    home = tempfile.mkdtemp(prefix="sportello-noanswer-")
    backend = create_backend("hybrid", home, encoder=encoder, cache_dir=cache_dir)
    backend.rebuild(list(documents))
    return backend


def refusals(protocol, encoder, cache_dir) -> dict[str, list[bool]]:
    """Per query kind: whether each query got answered=false from hybrid search."""
    backend = _backend(protocol.documents, encoder, cache_dir)
    out: dict[str, list[bool]] = {}
    for q in protocol.queries:
        refused = not backend.search(q.text, limit=10).answered
        key = "answerable" if q.answerable else "unanswerable"
        out.setdefault(key, []).append(refused)
        out.setdefault(q.kind, []).append(refused)
    return out


def _share(flags) -> float:
    return sum(flags) / len(flags) if flags else float("nan")


def confidence_cost(encoder, cache_dir, n=300) -> tuple[float, float]:
    """(median, p95) ms that confidence adds to a hybrid search on the SQuAD-it KB: the keyword
    evidence (word coverage, best possible score), gathering the evidence, and the models."""
    available = sets()
    name = "squad-it" if "squad-it" in available else "glossary"
    corpus, queries = available[name]
    backend = _backend(load_documents(corpus), encoder, cache_dir)
    calibration = calibration_for(backend.semantic.encoder.name, "hybrid")
    keyword = backend.keyword
    times = []
    for _qid, _loc, text, _ in list(_metrics()[0](queries))[:n]:
        r = backend.ranked(text, None, None, 10)
        scorer = keyword._scorer_for(keyword._get_searcher())
        docnums = np.array([f.docnum for _, _, f in r.rows[:50]], np.int64)
        clauses = [(field, term, 1.0) for loc, terms in r.parsed["terms"].items()
                   for term in terms for field in ("title_" + loc, "body_" + loc)]
        snap = r.snap      # the query's own clauses are not kept; these cost the same lookups
        start = time.perf_counter()
        keyword._coverage(scorer, r.parsed, docnums)
        keyword._max_score(scorer.searcher, clauses)
        evidence = backend._evidence(text, None, r.fused, r.rows, r.parsed, snap, r.every, r.evidence.top_dense)
        confidences(evidence, calibration)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def ndcg(encoder, cache_dir) -> dict[str, float]:
    """Hybrid nDCG@10 per labelled set, with the plausible cut."""
    out = {}
    for name, (corpus, queries) in sets().items():
        docs = load_documents(corpus)
        backend = _backend(docs, encoder, cache_dir)
        out[name] = evaluate(backend, list(_metrics()[0](queries)), corpus_locales(corpus, docs))["ndcg@10"]
    return out


def _optional(module: str, function: str):
    """A protocol another module provides (gaps, contact form), or None when it is absent."""
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError):
        return None


def run(encoder, seeds, cache_dir, skip) -> list[tuple[str, str, float | str]]:
    """Every row of the table for one encoder: (row, detail, value)."""
    rows = []
    if "off-topic" not in skip:
        off = refusals(protocols.offtopic(), encoder, cache_dir)
        rows.append(("off-topic answerable refused", "glossary dev", _share(off["answerable"])))
        rows.append(("off-topic refused", "all", _share(off["unanswerable"])))
        for kind in ("squad-it", "gibberish", "everyday"):
            rows.append(("  off-topic refused", kind, _share(off.get(kind, []))))
    if "near-miss" not in skip:
        for seed in seeds:
            near = refusals(protocols.near_misses(seed), encoder, cache_dir)
            rows.append(("near-miss answerable refused", f"seed {seed}", _share(near["answerable"])))
            rows.append(("near-miss refused", f"seed {seed}", _share(near["unanswerable"])))
    gaps = _optional("bench.gaps_protocol", "run_gaps_protocol")
    if "gaps" not in skip and gaps:
        for seed in seeds:
            found = gaps(encoder, seed, cache_dir)
            rows.append(("gaps ARI", f"seed {seed}", found["ari"]))
            rows.append(("gaps grouped", f"seed {seed}", found["grouped"]))
    contact = _optional("bench.contact_protocol", "run_contact_protocol")
    if "contact" not in skip and contact:
        for seed in seeds:
            rows.append(("contact Recall@3", f"seed {seed}", contact(encoder, seed, cache_dir)["recall@3"]))
    if "ndcg" not in skip:
        for name, value in ndcg(encoder, cache_dir).items():
            rows.append(("hybrid nDCG@10", name, value))
    if "cost" not in skip:
        median, p95 = confidence_cost(encoder, cache_dir)
        rows.append(("confidence ms", "median / p95", f"{median:.3f} / {p95:.3f}"))
    return rows


def _means(rows) -> list[tuple[str, str, float]]:
    """The mean over seeds of every per-seed row (the goals are met on average, seed by seed above)."""
    by_row: dict[str, list[float]] = {}
    for row, detail, value in rows:
        if detail.startswith("seed ") and not isinstance(value, str):
            by_row.setdefault(row, []).append(value)
    return [(row, f"mean of {len(v)} seeds", sum(v) / len(v)) for row, v in by_row.items() if len(v) > 1]


def _verdict(row, value) -> str:
    goal = GOALS.get(row.strip())
    if goal is None or isinstance(value, str):
        return ""
    op, bound = goal
    ok = value <= bound if op == "<=" else value >= bound
    return f"{op} {bound:.2f} {'PASS' if ok else 'MISS'}"


def main(argv=None) -> int:
    """Prints one table per encoder."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoders", default=",".join(ENCODERS))
    ap.add_argument("--seeds", default=",".join(str(s) for s in protocols.NEAR_MISS_SEEDS))
    ap.add_argument("--cache-dir", default=str(ROOT / ".cache" / "embeddings"))
    ap.add_argument("--skip", default="", help="rows to leave out: off-topic,near-miss,gaps,contact,ndcg,cost")
    a = ap.parse_args(argv)
    seeds = [int(s) for s in a.seeds.split(",") if s]
    for encoder in a.encoders.split(","):
        print(f"\nencoder={encoder}")
        print(f"{'row':<32} {'detail':<16} {'value':>16}  goal")
        rows = run(encoder, seeds, a.cache_dir, set(a.skip.split(",")))
        for row, detail, value in rows + _means(rows):
            shown = value if isinstance(value, str) else f"{value:.3f}"
            print(f"{row:<32} {detail:<16} {shown:>16}  {_verdict(row, value)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
