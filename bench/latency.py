"""First-time query latency per search mode beside the floor of dense search (bench/speed.py).

A first-time query is one the process has never seen: the queries are all distinct, so none
finds its vector in the per-process memo or in the on-disk embedding cache (which starts
empty: each dense search pays the lookup that misses, the encoding and the write), and there is
no page or answer cache at this level. What a serving worker keeps for every query alike
(decoded postings, field lengths, typo candidates per segment, stemmer caches) is warmed first
by WARM_UP other queries of the same mix, as in a worker that has served a little traffic.

The mix is half short keyword lookups (1-3 words from titles and bodies, some misspelt) and
half questions: the SQuAD-it dev questions (11 words on average) when the shared set is there,
else 11-word stretches of the articles ending in "?".

The floor is what any dense search must pay: encoding the query with the real encoder plus one
dot product over every passage vector (and picking the top 10), timed on hybrid's own queries.
Modes take turns query by query, in a shuffled order, so a change in the machine's speed (other
work on shared cores) weighs on all of them alike and none always runs right after another.
"""
from __future__ import annotations

import os
import random
import statistics
import time

import numpy as np

WARM_UP = 60
FLOOR = "floor: encode query + dot, all vectors"


def _percentiles(lat: list[float]) -> tuple[float, float]:
    """(median, p95) of a list of milliseconds."""
    lat = sorted(lat)
    return statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]


def long_questions(docs, rng: random.Random) -> list[str]:
    """SQuAD-it dev questions, shuffled; or 11-word stretches of the articles as questions."""
    from bench.quality import _metrics, sets
    if "squad-it" in sets():
        found = [q[2] for q in _metrics()[0](sets()["squad-it"][1])]
    else:
        found = []
        for doc in rng.sample(docs, min(len(docs), 2000)):
            words = doc.body.split()
            start = rng.randrange(max(1, len(words) - 11))
            found.append(" ".join(words[start:start + 11]).strip(".,;:") + "?")
    found = list(dict.fromkeys(found))
    rng.shuffle(found)
    return found


def short_query(docs, rng: random.Random) -> str:
    """1-3 words a visitor might type: title words, a misspelt title word, or one body word."""
    doc = rng.choice(docs)
    kind = rng.random()
    if kind < 0.5:
        return " ".join(doc.title.split()[: rng.randint(1, 3)]).strip(".,;:?")
    if kind < 0.75:
        word = max(doc.title.split(), key=len)
        pos = rng.randrange(len(word))
        return word[:pos] + word[pos + 1:] + " " + rng.choice(doc.body.split()).strip(".,;:?")
    return rng.choice(doc.body.split()).strip(".,;:?")


def first_time_mixes(docs, names: list[str], per_mode: int, seed: int = 5) -> dict[str, list[tuple[str, str]]]:
    """Disjoint lists of (kind, query) per name, plus "warm-up": no query appears twice anywhere."""
    rng = random.Random(seed)
    questions = iter(long_questions(docs, rng))
    seen: set[str] = set()
    out = {}
    for name in ["warm-up"] + names:
        want = WARM_UP if name == "warm-up" else per_mode
        picked = []
        while len(picked) < want:
            kind = "short" if len(picked) % 2 == 0 else "long"
            q = short_query(docs, rng) if kind == "short" else next(questions, None)
            if q is None:
                raise ValueError(f"not enough distinct questions for {len(names)} modes x {per_mode}")
            key = " ".join(q.split()).casefold()
            if q.strip() and key not in seen:
                seen.add(key)
                picked.append((kind, q))
        rng.shuffle(picked)
        out[name] = picked
    return out


def run(backends: dict, encoder, snap, docs, per_mode: int = 300, extra: dict | None = None) -> dict[str, dict]:
    """Interleaved first-time latencies: name -> {"all"/"short"/"long": (median, p95)}.

    extra: more name -> fn(query) to time the same way (baselines), on hybrid's queries.
    """
    kw, sem, hyb = backends["keyword"], backends["semantic"], backends["hybrid"]
    vectors = np.ascontiguousarray(snap.vectors)

    def floor(q):
        scores = vectors @ encoder.encode_queries([q])[0]
        np.argpartition(-scores, 10)[:10]

    # a full page every time, snippets and all, as for a query that has answers: with synthetic
    # vectors the confidence cut would drop most hybrid results (and the work of showing them)
    def page(backend):
        return lambda q: backend.search(q, limit=10, plausible_only=False)
    timed = {
        "keyword": (page(kw), None),
        "semantic": (page(sem), None),
        "hybrid": (page(hyb), None),
        "hybrid, query vectors cached": (page(hyb), sem.encode_query),   # encoded before the clock starts
        FLOOR: (floor, None),
    }
    timed.update((name, (fn, None)) for name, fn in (extra or {}).items())
    names = list(timed)
    mixes = first_time_mixes(docs, [n for n in names if n != FLOOR and n not in (extra or {})], per_mode)
    for name in [FLOOR, *(extra or {})]:
        mixes[name] = mixes["hybrid"]         # the floor and the baselines: hybrid's own queries
    for _, q in mixes["warm-up"]:
        page(hyb)(q)
        page(kw)(q)
    lat: dict[str, list[tuple[str, float]]] = {n: [] for n in names}
    rng = random.Random(11)
    for i in range(per_mode):
        for name in rng.sample(names, len(names)):
            fn, before = timed[name]
            kind, q = mixes[name][i]
            if before:
                before(q)
            t = time.perf_counter()
            fn(q)
            lat[name].append((kind, (time.perf_counter() - t) * 1000))
    out = {}
    for name, got in lat.items():
        out[name] = {"all": _percentiles([ms for _, ms in got])}
        for kind in ("short", "long"):
            out[name][kind] = _percentiles([ms for k, ms in got if k == kind])
    out["_words"] = {kind: statistics.mean(len(q.split()) for k, q in mixes["hybrid"] if k == kind)
                     for kind in ("short", "long")}
    return out


def report(res: dict, per_mode: int) -> None:
    """Prints the table and the ratios of hybrid to the floor."""
    words = res["_words"]
    print(f"first-time queries, modes interleaved: {per_mode} per mode, half short lookups "
          f"({words['short']:.1f} words), half questions ({words['long']:.1f} words); no page/answer "
          f"cache, no query vector cached; load average {os.getloadavg()[0]:.1f}")
    print(f"{'latency (ms)':<40} {'median':>7} {'p95':>7}   {'short p50/p95':>13}   {'long p50/p95':>13}")
    for name, r in res.items():
        if name.startswith("_"):
            continue
        (m, p), (sm, sp), (lm, lp) = r["all"], r["short"], r["long"]
        print(f"{name:<40} {m:7.1f} {p:7.1f}   {sm:6.1f} {sp:6.1f}   {lm:6.1f} {lp:6.1f}", flush=True)
    (hm, hp), (fm, fp) = res["hybrid"]["all"], res[FLOOR]["all"]
    print(f"hybrid / floor: median {hm / fm:.2f}x (target <= 1.25x), p95 {hp - fp:+.1f} ms over the "
          f"floor's (target <= +10 ms)")
