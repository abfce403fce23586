"""Tunes the hybrid fusion on the dev sets: runs each query once per side, then tries weights.

    python -m bench.tune_fusion --set glossary --set banking77 --set squad-it --encoder minilm

Prints, per set and query language, nDCG@10 of keyword, semantic and the convex fusion for a
grid of dense weights, so the table in search/hybrid.py can be chosen by measurement. Only
the dev query files are used (there is no test split here to peek at).
"""
from __future__ import annotations

import argparse
import collections
import pathlib
import pickle
import sys
import tempfile

from bench.corpus import load_documents
from bench.quality import _metrics, corpus_locales, sets
from search.hybrid import (DENSE_FLOORS, DENSE_POOL, SIBLING_WEIGHT, _lookup, dense_weight, fuse,
                           guess_language)
from search.registry import create_backend


def collect(name, corpus, queries_path, encoder, cache_dir, max_words=None):
    """Per query: (locale, judged, keyword rows, dense scores by slug, guessed language)."""
    load_queries = _metrics()[0]
    docs = load_documents(corpus)
    home = tempfile.mkdtemp(prefix=f"tune-{name}-")
    opts = {"encoder": encoder, "cache_dir": cache_dir}
    if max_words:
        opts["max_words"] = max_words
    hyb = create_backend("hybrid", home, **opts)
    hyb.rebuild(docs)
    out = []
    for qid, locale, text, judged in load_queries(queries_path):
        rows, _, _ = hyb.keyword.scored(text, limit=100)
        snap, idx, scores, _ = hyb.semantic.scored(text)
        dense = {snap.slugs[i]: float(s) for i, s in zip(idx, scores)}
        out.append((locale, judged, [(s, sc) for s, sc, _ in rows], dense, guess_language(text)))
    snap = hyb.semantic._snapshot()
    return out, corpus_locales(corpus, docs), hyb.semantic.encoder.name, snap.concepts, snap.members


def score(data, locales, w_of, pool=DENSE_POOL, floor=-1.0, concepts=None, members=None, sib=0.0):
    """Mean nDCG@10 of the fusion with weight w_of(language) over collected queries."""
    _, qrels, ndcg, _, _ = _metrics()
    total = 0.0
    for locale, judged, rows, dense, lang in data:
        ranked = [s for s, _ in fuse(rows, dense, w_of(lang), floor, pool, concepts, members, sib)][:10]
        total += ndcg(ranked, qrels(locale, judged, locales))
    return total / len(data)


def main(argv=None):
    """Prints the grid."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", dest="sets")
    ap.add_argument("--encoder", default="minilm")
    ap.add_argument("--cache-dir", default=".cache/embeddings")
    ap.add_argument("--max-words", type=int, default=None)
    ap.add_argument("--pools", default="10,30,100")
    ap.add_argument("--sibs", default="0,0.2,0.3,0.5")
    ap.add_argument("--save", help="folder to keep collected runs in (pickles), to re-tune fast")
    a = ap.parse_args(argv)
    grid = [round(x * 0.1, 2) for x in range(0, 11)]
    for name in a.sets:
        saved = pathlib.Path(a.save, f"{name}-{a.encoder.replace('/', '_')}.pkl") if a.save else None
        if saved and saved.exists():
            data, locales, enc, concepts, members = pickle.loads(saved.read_bytes())
        else:
            data, locales, enc, concepts, members = collect(name, *sets()[name], a.encoder, a.cache_dir, a.max_words)
            if saved:
                saved.parent.mkdir(parents=True, exist_ok=True)
                saved.write_bytes(pickle.dumps((data, locales, enc, concepts, members)))
        floor = _lookup(DENSE_FLOORS, enc)
        langs = collections.Counter(d[4] for d in data)
        print(f"== {name} ({enc}) languages guessed: {dict(langs)}")
        for sib in [float(x) for x in a.sibs.split(",")]:
            for pool in [int(p) for p in a.pools.split(",")]:
                row = [score(data, locales, lambda _l, w=w: w, pool, floor, concepts, members, sib) for w in grid]
                best = max(range(len(grid)), key=row.__getitem__)
                print(f"sib={sib} pool={pool:<4} " + " ".join(f"{grid[i]:.1f}:{v:.3f}" for i, v in enumerate(row))
                      + f"  best w={grid[best]} {row[best]:.3f}")
        for lang in langs:
            sub = [d for d in data if d[4] == lang]
            row = [score(sub, locales, lambda _l, w=w: w, DENSE_POOL, floor, concepts, members, SIBLING_WEIGHT) for w in grid]
            print(f"  lang={lang!s:<5} n={len(sub):<4} " + " ".join(f"{grid[i]:.1f}:{v:.3f}" for i, v in enumerate(row)))
        # the shared sets name articles LOCALE-..., which gives each article's language here
        table = score(data, locales, lambda l: (lambda slug: dense_weight(enc, l, slug[:2])), DENSE_POOL, floor,
                      concepts, members, SIBLING_WEIGHT)
        print(f"  with the table in search/hybrid.py: {table:.3f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
