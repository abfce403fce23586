"""Search speed benchmark on synthetic knowledge bases (a script that prints figures, not a test).

    python -m bench.speed                          # 1k and 10k articles, the default encoder
    python -m bench.speed --sizes 10000 --no-serve --embed-sample 0 --embed-repeat 0   # latency targets only
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
  * search latency of first-time queries (server side: the backend call, snippets included),
    median and p95 per mode, beside the floor of dense search measured on the same queries in
    the same run (the real encoder's query encoding plus one dot product over all vectors),
    and two baselines (the dot product alone, one plain Whoosh query). The queries are half
    short keyword lookups and half SQuAD-it-length questions, all distinct and none with its
    vector cached; the modes take turns query by query (bench/latency.py). "hybrid, query
    vectors cached" is hybrid without the query encoding, i.e. what retrieval and fusion
    cost. Like a gunicorn worker, the process gets one OpenMP/BLAS thread (OMP_NUM_THREADS=1);
  * publish -> searchable: indexing one new article into both sides until a search finds it
    (three times; the worst counts);
  * memory: this process's RSS, and (unless --no-serve) the RSS of a real serving process: a
    gunicorn worker of the portal (gunicorn.conf.py, one worker) opened on this KB's indexes,
    with the model loaded, after a few dozen searches per mode over HTTP;
  * e5-small-nano's bulk embedding before and after its bulk path (passages/s, articles/s, the
    cosine between them): bench/embed_throughput.py, in a child process using every core;
  * at the end, a table of the targets at 10k articles, PASS or MISS.
Timings on a machine that other work is loading are only comparable with the baselines
printed beside them.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import tempfile
import time

# Latencies are taken with the threads a serving worker gets: gunicorn.conf.py runs
# max(2, cores) workers with cores // workers OpenMP/BLAS threads each, i.e. one (set before
# numpy loads OpenBLAS; an explicit setting wins).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import latency  # noqa: E402
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
    """The real encoder for queries; random unit vectors for passages (latency runs only).

    While `indexing` is set, queries are random too: the store embeds some passages (ways of
    asking) as queries, and those must not go through the real model for a whole KB.
    """

    def __init__(self, real, seed=0):
        self.real, self.name, self.dim = real, real.name, real.dim
        self.rng = np.random.default_rng(seed)
        self.indexing = False

    def encode_queries(self, texts):
        return self.encode_passages(texts) if self.indexing else self.real.encode_queries(texts)

    def encode_passages(self, texts, batch_size=32, show_progress=False):
        v = self.rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def process_memory(pid="self") -> dict[str, float]:
    """RSS, peak RSS, and the private part of it, in MB (Linux /proc)."""
    out = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            private = 0
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("Private_Clean", "Private_Dirty"):
                    private += int(value.split()[0])
                elif key == "Pss":
                    out["Pss"] = int(value.split()[0]) / 1024
            out["private"] = private / 1024
    except OSError:
        pass
    return out


def serving_memory(home: str, encoder: str, queries: list[str], per_mode: int = 40) -> dict | None:
    """Memory of a real gunicorn worker of the portal serving this KB's indexes, after searches.

    The portal gets a fresh home with an empty database (`sportello init`), the bench's index
    folders linked in its place, and AUTO_REINDEX off (else it would drop every article the
    database doesn't have). Hits without a database row are not shown, but every search runs
    the backends as it would in production.
    """
    import socket
    import subprocess
    import urllib.parse
    import urllib.request

    bindir = os.path.dirname(sys.executable)
    gunicorn, sportello = os.path.join(bindir, "gunicorn"), os.path.join(bindir, "sportello")
    if not (os.path.exists(gunicorn) and os.path.exists(sportello)):
        return None
    portal_home = tempfile.mkdtemp(prefix="sportello-serve-")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, SPORTELLO_HOME=portal_home, SPORTELLO_EMBEDDING_MODEL=encoder,
               SPORTELLO_AUTO_REINDEX="0", SPORTELLO_RATE_LIMITS="off", SPORTELLO_PAGE_CACHE_SECONDS="0",
               SPORTELLO_WORKERS="1", SPORTELLO_BIND=f"127.0.0.1:{port}", SPORTELLO_ACCESS_LOG="",
               SPORTELLO_ERROR_LOG=os.path.join(portal_home, "error.log"), HF_HUB_OFFLINE="1")
    server = None
    try:
        subprocess.run([sportello, "init"], env=env, cwd=ROOT, check=True, capture_output=True)
        for side in ("keyword", "vectors"):
            shutil.rmtree(os.path.join(portal_home, "search", side), ignore_errors=True)
            os.symlink(os.path.join(home, side), os.path.join(portal_home, "search", side))
        server = subprocess.Popen([gunicorn, "-c", "gunicorn.conf.py", "portal:create_app()"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def get(q, mode):
            url = f"http://127.0.0.1:{port}/api/search?" + urllib.parse.urlencode({"q": q, "mode": mode})
            return urllib.request.urlopen(url, timeout=60).read()
        deadline = time.time() + 300
        while True:
            try:
                get("warm up", "keyword")
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    return None
                time.sleep(1)
        for mode in ("keyword", "semantic", "hybrid"):
            for q in queries[:per_mode]:
                get(q, mode)
        workers = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(p) == server.pid]
        return process_memory(workers[0]) if workers else None
    except (OSError, subprocess.CalledProcessError):
        return None
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        shutil.rmtree(portal_home, ignore_errors=True)


def _parent(pid: str) -> int:
    """The parent process id of pid (-1 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def run_size(n, args, encoder) -> dict:
    """Builds one KB size, prints its figures and returns the ones the targets are about."""
    from whoosh.query import Or, Term

    from search.analysis import terms
    from search.semantic import SemanticBackend

    wall = time.perf_counter()
    docs = synthetic_kb(n)
    home = tempfile.mkdtemp(prefix=f"sportello-speed-{n}-")
    out = {}
    print(f"\n== {n} articles ({sum(len(d.body.split()) for d in docs) / n:.0f} words each on average)", flush=True)
    kw = create_backend("keyword", home)
    t = time.perf_counter()
    kw.rebuild(docs)
    kw_s = time.perf_counter() - t
    print(f"keyword index:   {n / kw_s:8.0f} articles/s  ({kw_s:.1f}s), {dir_mb(os.path.join(home, 'keyword')):.1f} MB on disk", flush=True)

    sample = docs[: min(args.embed_sample, n)]
    passages = sum(len(split_passages(d)) for d in sample)
    if sample:
        probe = SemanticBackend(tempfile.mkdtemp(prefix="probe-"), encoder=encoder)
        t = time.perf_counter()
        probe.index(sample)
        emb_s = time.perf_counter() - t
        print(f"semantic index:  {len(sample) / emb_s:8.1f} articles/s, {passages / emb_s:.1f} passages/s "
              f"(real encoder {encoder.name}, sample of {len(sample)}; full KB would take ~{n / (len(sample) / emb_s) / 60:.1f} min)")
        shutil.rmtree(probe.path, ignore_errors=True)

    synth = SyntheticPassages(encoder)
    sem = SemanticBackend(os.path.join(home, "vectors"), encoder=synth)
    sem.encoder_spec = args.encoder          # what the portal will ask for (serving_memory)
    t = time.perf_counter()
    synth.indexing = True
    sem.rebuild(docs)
    synth.indexing = False
    store_s = time.perf_counter() - t
    # as in the portal, query vectors go to an on-disk embedding cache (empty here: every query
    # of the latency part is new, so each one pays the lookup that misses and the write)
    sem.cache_dir = os.path.join(home, "embedding-cache")
    total_passages = sum(len(split_passages(d)) for d in docs)
    print(f"vector store:    {total_passages} passages, {dir_mb(os.path.join(home, 'vectors')):.1f} MB on disk, "
          f"written in {store_s:.1f}s (synthetic vectors, dim {encoder.dim})", flush=True)

    hyb = create_backend("hybrid", home, encoder="unused")
    hyb.keyword, hyb.semantic = kw, sem
    backends = {"keyword": kw, "semantic": sem, "hybrid": hyb}
    snap = sem._snapshot()
    vectors = np.ascontiguousarray(snap.vectors)
    qvec = encoder.encode_queries(["warm up"])[0]
    searcher = kw._get_searcher()

    def dot_only(_q):
        scores = vectors @ qvec
        np.argpartition(-scores, 10)[:10]

    def plain_whoosh(q):
        ts = terms(q, "it")
        if ts:
            searcher.search(Or([Term("body_it", x) for x in ts]), limit=10)
    res = latency.run(backends, encoder, snap, docs, args.queries,
                      {"baseline: numpy dot only": dot_only, "baseline: one plain Whoosh query": plain_whoosh})
    latency.report(res, args.queries)
    out.update({name: r["all"] for name, r in res.items() if not name.startswith("_")})
    out["floor"] = out[latency.FLOOR]

    pubs = []
    for i, (title, query) in enumerate([("Quokka onboarding checklist", "quokka onboarding"),
                                        ("Wombat refund escalation", "wombat escalation"),
                                        ("Numbat card replacement", "numbat replacement")]):
        new = Document(slug=f"en-brand-new-{i}", title=title, locale="en", body=f"{title} steps.", stamp="2")
        t = time.perf_counter()
        hyb.index([new])
        # retrievable is what counts here: with synthetic vectors, the confidence cut may
        # still call a new article's first hit implausible
        found = hyb.search(query, plausible_only=False).hits
        pubs.append(((time.perf_counter() - t) * 1000, bool(found) and found[0].slug == new.slug))
    out["publish"] = max(ms for ms, _ in pubs) if all(ok for _, ok in pubs) else float("inf")
    print("publish -> searchable (both sides): " + ", ".join(f"{ms:.0f} ms ({'found' if ok else 'NOT found'})"
                                                           for ms, ok in pubs))
    mem = process_memory()
    print(f"this process: RSS {mem['VmRSS']:.0f} MB (peak {mem['VmHWM']:.0f}) with the model, the indexes "
          f"and the bench's own {n} documents", flush=True)
    if args.serve:
        worker = serving_memory(home, args.encoder, query_mix(docs, 120, seed=11))
        if worker:
            out["worker_rss"] = worker["VmRSS"]
            print(f"serving worker (gunicorn, model + indexes loaded, after 120 searches): RSS {worker['VmRSS']:.0f} MB, "
                  f"peak {worker['VmHWM']:.0f} MB, private {worker.get('private', 0):.0f} MB, PSS {worker.get('Pss', 0):.0f} MB")
        else:
            print("serving worker: could not start gunicorn on this KB (skipped)")
    shutil.rmtree(home, ignore_errors=True)
    print(f"wall time for {n} articles: {(time.perf_counter() - wall) / 60:.1f} min", flush=True)
    return out


TARGETS = [  # (label, figure, limit, unit): at 10k articles, on the 2-core machine, first-time queries
    ("keyword search p95", lambda r: r["keyword"][1], lambda r: 15.0, "ms"),
    ("hybrid median <= 1.25x floor's", lambda r: r["hybrid"][0], lambda r: 1.25 * r["floor"][0], "ms"),
    ("hybrid p95 <= floor's + 10 ms", lambda r: r["hybrid"][1], lambda r: r["floor"][1] + 10, "ms"),
    ("hybrid search p95", lambda r: r["hybrid"][1], lambda r: 50.0, "ms"),
    ("publish -> searchable", lambda r: r["publish"], lambda r: 1000.0, "ms"),
    ("memory per serving worker", lambda r: r.get("worker_rss"), lambda r: 600.0, "MB"),
]


def print_targets(results: dict) -> None:
    """The targets of the search issues at 10k articles, PASS or MISS."""
    if 10000 not in results:
        return
    print("\n== targets at 10,000 articles (latencies: first-time queries, see above)")
    print(f"{'target':<32} {'limit':>10} {'measured':>10}  result")
    for label, figure, limit, unit in TARGETS:
        value, bound = figure(results[10000]), limit(results[10000])
        shown = "-" if value is None else f"{value:.1f} {unit}" if value != float("inf") else "not found"
        verdict = "n/a" if value is None else "PASS" if value <= bound else "MISS"
        print(f"{label:<32} {bound:>7.1f} {unit} {shown:>10}  {verdict}")


def bulk_embedding(articles: int, repeat: int) -> None:
    """Prints bench/embed_throughput.py's before/after table, run with every core as the CLI has."""
    import subprocess

    print(f"\n== bulk embedding, e5-small-nano, before and after (bench/embed_throughput.py, "
          f"{articles} articles per set, {repeat} runs each)", flush=True)
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    subprocess.run([sys.executable, "-m", "bench.embed_throughput", "--max-articles", str(articles),
                    "--repeat", str(repeat)], cwd=ROOT, env=env, check=False)


def main(argv=None) -> int:
    """Command line entry point."""
    from search.encoders import BULK_MIN_TEXTS, DEFAULT_ENCODER, get_encoder
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--embed-sample", type=int, default=100)
    ap.add_argument("--encoder", default=os.environ.get("SPORTELLO_EMBEDDING_MODEL") or DEFAULT_ENCODER)
    ap.add_argument("--no-serve", dest="serve", action="store_false", help="skip the serving worker's memory")
    ap.add_argument("--embed-articles", type=int, default=60, help="per set, for the bulk embedding figures")
    ap.add_argument("--embed-repeat", type=int, default=3, help="runs per path for bulk embedding; 0 skips it")
    a = ap.parse_args(argv)
    t = time.perf_counter()
    encoder = get_encoder(a.encoder)
    if hasattr(getattr(encoder, "_model", None), "float"):
        encoder._model.float()      # a half-precision copy of a model is benchmarked as float32
    encoder.encode_queries(["warm up"])
    encoder.encode_passages(["warm up"] * BULK_MIN_TEXTS)  # a bulk path loads here, outside the timings
    print(f"encoder {encoder.name} (dim {encoder.dim}) loaded in {time.perf_counter() - t:.1f}s; "
          f"RSS {rss_mb():.0f} MB; CPUs {os.cpu_count()}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}; "
          f"load average {os.getloadavg()[0]:.1f}")
    if a.embed_repeat > 0:
        bulk_embedding(a.embed_articles, a.embed_repeat)
    results = {n: run_size(n, a, encoder) for n in (int(s) for s in a.sizes.split(","))}
    print_targets(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
