"""Search speed benchmark on synthetic knowledge bases (a script that prints figures, not a test).

    python -m bench.speed                          # 1k and 10k articles
    python -m bench.speed --sizes 1000,10000,50000 --queries 300 --encoder minilm

For each size it builds a synthetic KB (articles stitched from real paragraphs of the shared
eval corpora, or generated words when those are absent: it/ro/en, 1-3 sections, ~150-450
words), then prints:
  * keyword indexing throughput (articles/s, full rebuild) and index size on disk;
  * semantic indexing throughput with the real encoder, measured on a sample of --embed-sample
    articles (embedding 10k+ articles on a 2-core CPU takes far too long for a benchmark run);
  * for the latency part, the vector store of the whole KB is filled with random unit vectors
    of the encoder's dimension ("synthetic vectors", clearly not for quality), while queries
    are embedded by the real model, so latency includes query encoding;
  * search latency (server side: the backend call, snippets included) median and p95 per mode
    over --queries varied queries, beside the brute-force baselines measured in the same run:
    a numpy dot product over all passage vectors, and one plain Whoosh query;
  * publish -> searchable: indexing one new article into both sides until a search finds it;
  * process memory (RSS) with the model and the indexes loaded.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.corpus import load_documents  # noqa: E402
from bench.quality import _metrics, sets  # noqa: E402
from search.base import Document  # noqa: E402
from search.passages import split_passages  # noqa: E402
from search.registry import create_backend  # noqa: E402

LOCALES = ("it", "ro", "en")
CATEGORIES = [f"cat-{i}" for i in range(12)]


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def dir_mb(path: str) -> float:
    """Size of a folder on disk in MB."""
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs) / 1e6


def paragraph_pool() -> dict[str, list[str]]:
    """Real paragraphs by locale from the shared corpora (falls back to generated words)."""
    pool = {loc: [] for loc in LOCALES}
    for name in ("glossary", "banking77", "squad-it"):
        if name in sets():
            for doc in load_documents(sets()[name][0]):
                for para in re.split(r"\n\s*\n", doc.body):
                    # a list (banking77's example phrasings) becomes prose: a KB made of lists
                    # would have many more passages per article than real ones do
                    para = " ".join(re.sub(r"^\s*[-*]\s+", "", line).strip() for line in para.splitlines()).strip()
                    if len(para.split()) >= 12 and not para.startswith("#") and doc.locale in pool:
                        pool[doc.locale].append(para)
    rng = random.Random(1)
    for loc in LOCALES:
        if len(pool[loc]) < 50:       # no corpus: pseudo-words with a Zipf-like spread
            vocab = ["".join(rng.choice("aeioubcdfglmnprst") for _ in range(rng.randint(3, 10))) for _ in range(3000)]
            pool[loc] += [" ".join(rng.choice(vocab[: rng.randint(50, 3000)]) for _ in range(60)) + "." for _ in range(300)]
    return pool


def synthetic_kb(n: int, seed: int = 7) -> list[Document]:
    """n articles: titles, tags, a summary and 1-3 sections of real paragraphs per article."""
    rng = random.Random(seed)
    pool = paragraph_pool()
    docs = []
    for i in range(n):
        loc = LOCALES[i % 3] if rng.random() < 0.8 else rng.choice(LOCALES)
        paras = pool[loc]
        first = rng.choice(paras)
        title = " ".join(first.split()[: rng.randint(3, 7)]).strip(".,;:")
        sections = []
        for s in range(rng.randint(1, 3)):
            body = "\n\n".join(rng.choice(paras) for _ in range(rng.randint(1, 2)))
            sections.append((f"## {' '.join(rng.choice(paras).split()[:3])}\n\n" if s else "") + body)
        words = first.split()
        docs.append(Document(
            slug=f"{loc}-synthetic-{i}", title=f"{title} {i}", locale=loc, category=rng.choice(CATEGORIES),
            tags=tuple(rng.sample(words, min(3, len(words)))), summary=" ".join(words[:15]),
            body="\n\n".join(sections), concept=f"c{i // 3}", stamp="1"))
    return docs


def query_mix(docs: list[Document], n: int, seed: int = 3) -> list[str]:
    """Varied queries: labelled dev questions, title words, typos, and one-word lookups."""
    rng = random.Random(seed)
    labelled = []
    for name in ("glossary", "banking77", "squad-it"):
        if name in sets():
            labelled += [q[2] for q in _metrics()[0](sets()[name][1])]
    out = []
    while len(out) < n:
        kind = rng.random()
        doc = rng.choice(docs)
        if kind < 0.4 and labelled:
            out.append(rng.choice(labelled))
        elif kind < 0.7:
            out.append(" ".join(doc.title.split()[:3]))
        elif kind < 0.85:
            word = max(doc.title.split(), key=len)
            pos = rng.randrange(len(word))
            out.append(word[:pos] + word[pos + 1:] + " " + rng.choice(doc.body.split()))
        else:
            out.append(rng.choice(doc.body.split()))
    return out


class SyntheticPassages:
    """The real encoder for queries; random unit vectors for passages (latency runs only)."""

    def __init__(self, real, seed=0):
        self.real, self.name, self.dim = real, real.name, real.dim
        self.rng = np.random.default_rng(seed)

    def encode_queries(self, texts):
        return self.real.encode_queries(texts)

    def encode_passages(self, texts, batch_size=32, show_progress=False):
        v = self.rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def timed(fn, queries) -> tuple[float, float]:
    """(median, p95) in ms of fn(q) over the queries (after two warm-up calls)."""
    for q in queries[:2]:
        fn(q)
    lat = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    return statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]


def run_size(n, args, encoder) -> None:
    """Builds one KB size and prints its figures."""
    from whoosh.query import Or, Term

    from search.analysis import terms
    from search.semantic import SemanticBackend

    docs = synthetic_kb(n)
    home = tempfile.mkdtemp(prefix=f"sportello-speed-{n}-")
    print(f"\n== {n} articles ({sum(len(d.body.split()) for d in docs) / n:.0f} words each on average)")
    kw = create_backend("keyword", home)
    t = time.perf_counter()
    kw.rebuild(docs)
    kw_s = time.perf_counter() - t
    print(f"keyword index:   {n / kw_s:8.0f} articles/s  ({kw_s:.1f}s), {dir_mb(os.path.join(home, 'keyword')):.1f} MB on disk")

    sample = docs[: min(args.embed_sample, n)]
    passages = sum(len(split_passages(d)) for d in sample)
    probe = SemanticBackend(tempfile.mkdtemp(prefix="probe-"), encoder=encoder)
    t = time.perf_counter()
    probe.index(sample)
    emb_s = time.perf_counter() - t
    print(f"semantic index:  {len(sample) / emb_s:8.1f} articles/s, {passages / emb_s:.1f} passages/s "
          f"(real encoder {encoder.name}, sample of {len(sample)}; full KB would take ~{n / (len(sample) / emb_s) / 60:.1f} min)")
    shutil.rmtree(probe.path, ignore_errors=True)

    sem = SemanticBackend(os.path.join(home, "vectors"), encoder=SyntheticPassages(encoder))
    t = time.perf_counter()
    sem.rebuild(docs)
    store_s = time.perf_counter() - t
    total_passages = sum(len(split_passages(d)) for d in docs)
    print(f"vector store:    {total_passages} passages, {dir_mb(os.path.join(home, 'vectors')):.1f} MB on disk, "
          f"written in {store_s:.1f}s (synthetic vectors, dim {encoder.dim})")

    hyb = create_backend("hybrid", home, encoder="unused")
    hyb.semantic = sem
    backends = {"keyword": kw, "semantic": sem, "hybrid": hyb}
    queries = query_mix(docs, args.queries)
    snap = sem._snapshot()
    vectors = np.ascontiguousarray(snap.vectors)
    qvec = encoder.encode_queries(["warm up"])[0]

    def brute(q):
        scores = vectors @ encoder.encode_queries([q])[0]
        np.argpartition(-scores, 10)[:10]

    def dot_only(_q):
        scores = vectors @ qvec
        np.argpartition(-scores, 10)[:10]
    searcher = kw._get_searcher()

    def plain_whoosh(q):
        ts = terms(q, "it")
        if ts:
            searcher.search(Or([Term("body_it", x) for x in ts]), limit=10)
    print(f"{'latency (ms)':<34} {'median':>8} {'p95':>8}")
    for name, fn in [("keyword", None), ("semantic", None), ("hybrid", None),
                     ("baseline: numpy dot, all passages", dot_only),
                     ("baseline: encode query + numpy dot", brute),
                     ("baseline: one plain Whoosh query", plain_whoosh)]:
        call = fn or (lambda q, b=backends[name]: b.search(q, limit=10))
        med, p95 = timed(call, queries)
        print(f"{name:<34} {med:8.1f} {p95:8.1f}")

    new = Document(slug="en-brand-new", title="Quokka onboarding checklist", locale="en", body="Quokka steps.", stamp="2")
    t = time.perf_counter()
    hyb.index([new])
    found = hyb.search("quokka onboarding").hits
    pub = (time.perf_counter() - t) * 1000
    ok = bool(found) and found[0].slug == new.slug
    print(f"publish -> searchable (both sides): {pub:.0f} ms ({'found' if ok else 'NOT found'})")
    print(f"process RSS with model and indexes loaded: {rss_mb():.0f} MB")
    shutil.rmtree(home, ignore_errors=True)


def main(argv=None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--embed-sample", type=int, default=100)
    ap.add_argument("--encoder", default=os.environ.get("SPORTELLO_EMBEDDING_MODEL", "minilm"))
    a = ap.parse_args(argv)
    from search.encoders import get_encoder
    t = time.perf_counter()
    encoder = get_encoder(a.encoder)
    if hasattr(getattr(encoder, "_model", None), "float"):
        encoder._model.float()      # a half-precision copy of a model is benchmarked as float32
    encoder.encode_queries(["warm up"])
    print(f"encoder {encoder.name} (dim {encoder.dim}) loaded in {time.perf_counter() - t:.1f}s; "
          f"RSS {rss_mb():.0f} MB; CPUs {os.cpu_count()}")
    for n in (int(s) for s in a.sizes.split(",")):
        run_size(n, a, encoder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
