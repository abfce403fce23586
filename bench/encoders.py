"""Which encoder should be the default? Every shared set, every mode, every encoder, one table.

    python -m bench.encoders                                  # minilm and e5-small-nano, all sets
    python -m bench.encoders --encoders minilm --set glossary --by-locale
    python -m bench.encoders --no-throughput

For each encoder it indexes each labelled set once (bench.quality.run_set: the same backends
the portal uses, through search.registry), scores keyword, semantic and hybrid exactly as
shared/eval/score.py does, and prints nDCG@10 / MRR@10 / Recall@5 side by side. Passage vectors
are cached per encoder name and text hash in --cache-dir (shared with bench.quality), so a
re-run after a change to fusion or ranking does not re-embed.

Reindex throughput is measured apart, with no cache, on a fixed sample (the glossary plus the
first squad-it paragraphs), so its cost stays bounded: articles/s and passages/s of the
semantic side, which is what a change of encoder costs a `sportello reindex`.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus import load_documents  # noqa: E402
from bench.quality import _metrics, corpus_locales, sets  # noqa: E402
from search.passages import split_passages  # noqa: E402
from search.registry import create_backend  # noqa: E402

ENCODERS = ("minilm", "e5-small-nano")
SETS = ("glossary", "banking77", "squad-it")
MODES = ("keyword", "semantic", "hybrid")
# Goals for the default hybrid on the dev sets (issue 8), nDCG@10.
GOALS = {"glossary": 0.90, "banking77": 0.91, "squad-it": 0.86}


def score_queries(backend, queries, locales, k=10) -> list[tuple[str, float, float, float]]:
    """(query locale, nDCG@10, MRR@10, Recall@5) for every query, scored like score.py."""
    _, qrels, ndcg, mrr, recall = _metrics()
    out = []
    for _qid, locale, text, judged in queries:
        ranked = [h.slug for h in backend.search(text, limit=k).hits]
        rel = qrels(locale, judged, locales)
        out.append((locale, ndcg(ranked, rel), mrr(ranked, rel), recall(ranked, rel)))
    return out


def mean(rows) -> tuple[float, float, float]:
    """Average of the three metrics over per-query rows."""
    n = len(rows) or 1
    return tuple(sum(r[i] for r in rows) / n for i in (1, 2, 3))


class MemoEncoder:
    """Wraps an encoder so every query is embedded once, in batches, for all modes.

    Same name and dimension as the wrapped encoder, so the vector store takes it as that
    encoder; only the cost of a run changes (one batched pass instead of one call per query
    and mode), not a single vector.
    """

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._memo: dict[str, object] = {}

    def encode_queries(self, texts):
        """Embeds the texts not seen before in one batch; answers from the memo."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo:
            self._memo.update(zip(todo, self.inner.encode_queries(todo)))
        import numpy as np
        return np.stack([self._memo[t] for t in texts]) if texts else self.inner.encode_queries([])

    def encode_passages(self, texts, batch_size=32, show_progress=False):
        """Passages go straight to the wrapped encoder."""
        return self.inner.encode_passages(texts, batch_size=batch_size, show_progress=show_progress)


def evaluate_set(name, corpus, queries_path, encoder, modes, cache_dir) -> dict:
    """Indexes one set with one encoder and returns {mode: per-query rows}."""
    from search.base import clean_query
    from search.encoders import get_encoder
    docs = load_documents(corpus)
    queries = list(_metrics()[0](queries_path))
    locales = corpus_locales(corpus, docs)
    home = tempfile.mkdtemp(prefix=f"sportello-enc-{name}-")
    memo = MemoEncoder(get_encoder(encoder))
    memo.encode_queries([clean_query(q[2])[0] for q in queries])    # the text the backends embed
    opts = {"encoder": memo, "cache_dir": cache_dir}
    create_backend("hybrid", home, **opts).rebuild(docs)
    return {mode: score_queries(create_backend(mode, home, **opts), queries, locales) for mode in modes}


def throughput(encoder: str, sample: int) -> dict:
    """Semantic reindex speed with no cache: articles/s and passages/s on a fixed sample."""
    available = sets()
    docs = []
    if "glossary" in available:
        docs += load_documents(available["glossary"][0])
    if "squad-it" in available:
        docs += load_documents(available["squad-it"][0])[:sample]
    from search.encoders import get_encoder
    get_encoder(encoder)                    # load time is not indexing time
    backend = create_backend("semantic", tempfile.mkdtemp(prefix="sportello-tp-"), encoder=encoder)
    t = time.perf_counter()
    backend.rebuild(docs)
    took = time.perf_counter() - t
    passages = sum(len(split_passages(d)) for d in docs)
    return {"articles": len(docs), "passages": passages, "seconds": took,
            "articles_s": len(docs) / took, "passages_s": passages / took}


def _cell(m) -> str:
    return f"{m[0]:.3f} {m[1]:.3f} {m[2]:.3f}"


def main(argv=None) -> int:
    """Command line entry point: prints the encoders x modes x sets table and throughput."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoders", default=",".join(ENCODERS))
    ap.add_argument("--set", action="append", dest="sets", help=", ".join(SETS))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--cache-dir", default=os.environ.get("SPORTELLO_BENCH_CACHE", str(ROOT / ".cache" / "embeddings")))
    ap.add_argument("--by-locale", action="store_true", help="also split each set by query locale")
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument("--sample", type=int, default=100, help="squad-it paragraphs in the throughput sample")
    a = ap.parse_args(argv)
    encoders, modes = a.encoders.split(","), a.modes.split(",")
    available = sets()
    chosen = [s for s in (a.sets or SETS) if s in available]
    missing = [s for s in (a.sets or SETS) if s not in available]
    if missing:
        print(f"sets not found (is ../shared/eval there?): {', '.join(missing)}", file=sys.stderr)

    results = {}            # (encoder, set) -> {mode: rows}
    for enc in encoders:
        for name in chosen:
            t = time.perf_counter()
            results[enc, name] = evaluate_set(name, *available[name], enc, modes, a.cache_dir)
            print(f"  ... {enc} on {name}: {time.perf_counter() - t:.0f}s", file=sys.stderr, flush=True)

    width = 20
    print("nDCG@10 MRR@10 Recall@5 per encoder; * = default-hybrid goal met "
          f"({', '.join(f'{k} {v}' for k, v in GOALS.items())})")
    print(f"{'set':<14} {'mode':<9} " + " ".join(f"{e:<{width}}" for e in encoders))
    for name in chosen:
        groups = [(name, None)]
        if a.by_locale:
            locs = sorted({r[0] for r in next(iter(results[encoders[0], name].values()))})
            groups += [(f"{name}/{loc}", loc) for loc in locs] if len(locs) > 1 else []
        for label, loc in groups:
            for mode in modes:
                cells = []
                for enc in encoders:
                    rows = [r for r in results[enc, name][mode] if loc is None or r[0] == loc]
                    m = mean(rows)
                    star = "*" if mode == "hybrid" and loc is None and m[0] >= GOALS.get(name, 2) else " "
                    cells.append(f"{_cell(m)}{star}".ljust(width))
                n = len([r for r in results[encoders[0], name][mode] if loc is None or r[0] == loc])
                print(f"{label + f' ({n})':<14} {mode:<9} " + " ".join(cells), flush=True)

    if not a.no_throughput:
        print(f"\nsemantic reindex throughput, no cache, {os.cpu_count()} CPU cores")
        print(f"{'encoder':<16} {'articles':>8} {'passages':>8} {'seconds':>8} {'articles/s':>10} {'passages/s':>10}")
        for enc in encoders:
            tp = throughput(enc, a.sample)
            print(f"{enc:<16} {tp['articles']:>8} {tp['passages']:>8} {tp['seconds']:>8.1f} "
                  f"{tp['articles_s']:>10.1f} {tp['passages_s']:>10.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
