"""Search quality harness: indexes a labelled corpus in a temp folder and scores every mode.

    python -m bench.quality                       # every set found, every mode, the default encoder
    python -m bench.quality --set glossary --set banking77 --encoder minilm --modes hybrid
    python -m bench.quality --set starter --encoder fake

Prints nDCG@10, MRR@10 and Recall@5 per set and mode, computed exactly as
shared/eval/score.py does (that file is imported when it is beside the repo; a copy of its
three metric functions is used otherwise). Embeddings are cached per encoder and passage text
in --cache-dir, so re-running after a change to fusion or ranking does not re-embed.
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus import load_documents  # noqa: E402
from search.registry import create_backend  # noqa: E402


def shared_eval() -> pathlib.Path | None:
    """The shared eval folder (SPORTELLO_SHARED_EVAL, or shared/eval beside or inside the repo)."""
    for cand in (os.environ.get("SPORTELLO_SHARED_EVAL"), ROOT.parent / "shared" / "eval", ROOT / "shared" / "eval"):
        if cand and pathlib.Path(cand, "score.py").exists():
            return pathlib.Path(cand)
    return None


def _metrics():
    """score.py's own functions when available, so the figures are the same by construction."""
    ev = shared_eval()
    if ev:
        spec = importlib.util.spec_from_file_location("shared_score", ev / "score.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod.load_queries, mod.qrels, mod.ndcg, mod.mrr, mod.recall
    return _load_queries, _qrels, _ndcg, _mrr, _recall


# ---- a copy of score.py's logic (used only when shared/ is not there, e.g. in a bare CI) ----
def _load_queries(path):
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            qid, locale, text, judged = line.split("\t")
            yield qid, locale, text, [(c, int(g)) for c, g in (j.split(":") for j in judged.split(","))]


def _qrels(locale, judged, locales):
    rel = {}
    for concept, grade in judged:
        if concept.startswith("@"):
            rel[concept[1:]] = max(grade, rel.get(concept[1:], 0))
            continue
        for loc in locales:
            g = grade if locale in ("en", loc) else grade - 1
            if g > 0:
                rel[f"{loc}-{concept}"] = max(g, rel.get(f"{loc}-{concept}", 0))
    return rel


def _ndcg(ranked, rel, k=10):
    dcg = sum((2 ** rel.get(s, 0) - 1) / math.log2(i + 2) for i, s in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def _mrr(ranked, rel, k=10):
    best = max(rel.values())
    return next((1 / (i + 1) for i, s in enumerate(ranked[:k]) if rel.get(s, 0) == best), 0.0)


def _recall(ranked, rel, k=5):
    best = {s for s, g in rel.items() if g == max(rel.values())}
    return len(best & set(ranked[:k])) / len(best)


def sets() -> dict[str, tuple[pathlib.Path, pathlib.Path]]:
    """Known labelled sets: name -> (corpus folder, queries file), those present only."""
    found = {"starter": (ROOT / "articles", ROOT / "tests" / "quality" / "starter-queries.tsv")}
    ev = shared_eval()
    if ev:
        found["glossary"] = (ev / "corpus", ev / "queries-dev.tsv")
        for name in ("banking77", "squad-it"):
            found[name] = (ev / "external" / name / "corpus", ev / "external" / name / "queries-dev.tsv")
    return {k: v for k, v in found.items() if v[0].is_dir() and v[1].exists()}


def corpus_locales(corpus: pathlib.Path, docs) -> list[str]:
    """The locales score.py would see: subfolders of the corpus, else the documents' locales."""
    dirs = sorted(p.name for p in corpus.iterdir() if p.is_dir() and len(p.name) == 2)
    return dirs or sorted({d.locale for d in docs})


def evaluate(backend, queries, locales, k=10) -> dict:
    """Runs every query through backend.search and averages the three metrics."""
    load_queries, qrels, ndcg, mrr, recall = _metrics()
    scores, lat = [], []
    for qid, locale, text, judged in queries:
        t = time.perf_counter()
        ranked = [h.slug for h in backend.search(text, limit=k).hits]
        lat.append((time.perf_counter() - t) * 1000)
        rel = qrels(locale, judged, locales)
        scores.append((ndcg(ranked, rel), mrr(ranked, rel), recall(ranked, rel)))
    n = len(scores) or 1
    lat.sort()
    return {"queries": len(scores), "ndcg@10": sum(s[0] for s in scores) / n,
            "mrr@10": sum(s[1] for s in scores) / n, "recall@5": sum(s[2] for s in scores) / n,
            "p50_ms": lat[len(lat) // 2] if lat else 0.0, "p95_ms": lat[int(0.95 * (len(lat) - 1))] if lat else 0.0}


def run_set(name, corpus, queries_path, modes, encoder, cache_dir, home=None, progress=None) -> dict:
    """Indexes one corpus once (hybrid holds both sides) and scores each mode on it."""
    load_queries = _metrics()[0]
    docs = load_documents(corpus)
    queries = list(load_queries(queries_path))
    locales = corpus_locales(corpus, docs)
    home = home or tempfile.mkdtemp(prefix=f"sportello-quality-{name}-")
    opts = {"encoder": encoder, "cache_dir": cache_dir}
    t = time.perf_counter()
    create_backend("hybrid", home, **opts).rebuild(docs, progress)
    out = {"_index_s": time.perf_counter() - t, "_docs": len(docs)}
    for mode in modes:
        out[mode] = evaluate(create_backend(mode, home, **opts), queries, locales)
    return out


def main(argv=None) -> int:
    """Command line entry point; prints one table row per set and mode."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", dest="sets", help="starter, glossary, banking77, squad-it")
    ap.add_argument("--modes", default="keyword,semantic,hybrid")
    ap.add_argument("--encoder", default=os.environ.get("SPORTELLO_EMBEDDING_MODEL", "minilm"))
    ap.add_argument("--cache-dir", default=str(ROOT / ".cache" / "embeddings"))
    a = ap.parse_args(argv)
    available = sets()
    chosen = a.sets or list(available)
    print(f"encoder={a.encoder}")
    print(f"{'set':<10} {'mode':<9} {'queries':>7} {'nDCG@10':>8} {'MRR@10':>7} {'R@5':>6} {'p50 ms':>7} {'p95 ms':>7}")
    for name in chosen:
        if name not in available:
            print(f"{name:<10} (not found)")
            continue
        res = run_set(name, *available[name], a.modes.split(","), a.encoder, a.cache_dir)
        for mode in a.modes.split(","):
            r = res[mode]
            print(f"{name:<10} {mode:<9} {r['queries']:>7} {r['ndcg@10']:>8.3f} {r['mrr@10']:>7.3f} "
                  f"{r['recall@5']:>6.3f} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
