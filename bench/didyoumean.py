""""Did you mean" on the dev queries: how often it rewrites a query that has no typo, and how
often it repairs one that has.

    python -m bench.didyoumean                       # glossary, banking77, squad-it, starter
    python -m bench.didyoumean --set starter --typos 3

For each set the keyword index of its corpus is built (suggestions come from the keyword side
in every mode), and each dev query is searched:

  no typo     a query all of whose words are words of its language (wordfreq's full list for
              that language: a wider list than the "small" ones the guard reads, so this is
              not the guard judging itself). false corrections = share of them that get a
              suggestion at all.
  with typo   each no-typo query with one word of 5+ letters changed by an adjacent swap or a
              deleted letter (not the first letter), --typos variants per query; the result is
              no word of the index nor a common word of the query's language (Zipf >= 3), but
              it may be a rare word or one of another language, which the guard then keeps. corrected = share whose suggestion gives
              the word back; any = share with a suggestion.

Both are printed without the guard ("before": the index alone decides what is a typo) and with
it (search/lexicon.py).

--candidates times the typo candidates themselves on a set's index (search/vocab.py, rapidfuzz)
beside Whoosh's own terms_within() in the same run, on misspellings made from the index's
words (a letter deleted, inserted, replaced, or two swapped, past the first two letters), and
says how often the word the typo came from is among the candidates.
"""
from __future__ import annotations

import argparse
import pathlib
import random
import re
import shutil
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus import load_documents  # noqa: E402
from bench.quality import _metrics, sets  # noqa: E402
from search import analysis  # noqa: E402
from search.registry import create_backend  # noqa: E402

WORD = re.compile(r"\w+")
COMMON = 3.0       # Zipf: a misspelling this common in the query's language is a word, not a typo


def _known(word: str, lang: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang) > 0


def has_no_typo(text: str, lang: str) -> bool:
    """Every word (digits aside) is a word of the query's language (wordfreq's full list)."""
    words = [w for w in WORD.findall(text.lower()) if not w.isdigit()]
    return bool(words) and all(_known(w, lang) for w in words)


def _common(word: str, lang: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang) >= COMMON


def with_typo(text: str, lang: str, reader, rng: random.Random) -> tuple[str, str, str] | None:
    """(typed query, the word before, the word after) with one word misspelled, or None."""
    words = text.split()
    spots = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    rng.shuffle(spots)
    for i in spots:
        w = words[i]
        for _ in range(6):
            pos = rng.randrange(1, len(w) - 1)
            typo = w[:pos] + w[pos + 1] + w[pos] + w[pos + 2:] if rng.random() < 0.5 else w[:pos] + w[pos + 1:]
            folded = analysis.fold(typo)
            if typo.lower() == w.lower() or reader.doc_frequency("words", folded) or _common(typo.lower(), lang):
                continue
            return " ".join(words[:i] + [typo] + words[i + 1:]), analysis.fold(w), folded
    return None


def measure(name: str, typos: int, seed: int = 9) -> dict:
    """Rates before and after the guard on one set."""
    corpus, queries_path = sets()[name]
    home = tempfile.mkdtemp(prefix=f"sportello-dym-{name}-")
    try:
        backend = create_backend("keyword", home)
        backend.rebuild(load_documents(corpus))
        reader = backend._get_searcher().reader()
        rng = random.Random(seed)
        clean, typed = [], []
        for _qid, locale, text, _judged in _metrics()[0](queries_path):
            if has_no_typo(text, locale):
                clean.append(text)
                typed += [t for t in (with_typo(text, locale, reader, rng) for _ in range(typos)) if t]
        guard = backend.lexicon
        out = {"queries": len(clean), "typo queries": len(typed)}
        for label, lexicon in (("before", None), ("after", guard)):
            backend.lexicon = lexicon
            out[f"false {label}"] = sum(backend.search(t).suggestion is not None for t in clean) / max(len(clean), 1)
            fixed = anything = 0
            for text, word, _typo in typed:
                suggestion = backend.search(text).suggestion
                anything += suggestion is not None
                fixed += suggestion is not None and word in analysis.words(suggestion)
            out[f"corrected {label}"] = fixed / max(len(typed), 1)
            out[f"any {label}"] = anything / max(len(typed), 1)
        before = ((t, unguarded(backend, t)) for t in clean)
        out["examples"] = [(t, s) for t, s in before if s][:3]
        return out
    finally:
        shutil.rmtree(home, ignore_errors=True)


def unguarded(backend, text: str) -> str | None:
    """The suggestion without the guard (the examples printed)."""
    guard, backend.lexicon = backend.lexicon, None
    try:
        return backend.search(text).suggestion
    finally:
        backend.lexicon = guard


def typos_of_index_words(reader, n: int, seed: int = 1) -> list[tuple[str, str, str]]:
    """(kind, word, typo) made from the index's words, none of them a word of the index."""
    rng = random.Random(seed)
    pool = [w for w in (t.decode() if isinstance(t, bytes) else t for t in reader.lexicon("words"))
            if 4 <= len(w) <= 14 and w.isalpha()]
    out = []
    while len(out) < n:
        kind, w = rng.choice(("delete", "insert", "substitute", "swap")), rng.choice(pool)
        i = rng.randrange(2, len(w) - 1)
        typo = {"delete": w[:i] + w[i + 1:], "insert": w[:i] + rng.choice("aeioutrsn") + w[i:],
                "substitute": w[:i] + rng.choice("aeioutrsn") + w[i + 1:],
                "swap": w[:i] + w[i + 1] + w[i] + w[i + 2:]}[kind]
        if typo != w and not reader.doc_frequency("words", typo):
            out.append((kind, w, typo))
    return out


def candidates(name: str, n: int = 2000) -> None:
    """Prints the candidate search's speed and recall beside Whoosh's terms_within()."""
    corpus, _ = sets()[name]
    home = tempfile.mkdtemp(prefix=f"sportello-dym-{name}-")
    try:
        backend = create_backend("keyword", home)
        backend.rebuild(load_documents(corpus))
        reader = backend._get_searcher().reader()
        typos = typos_of_index_words(reader, n)

        def ours(typo):
            return [w for w, _ in backend._vocab.within(reader, typo, 1 if len(typo) <= 5 else 2)]

        def whoosh(typo):
            return [w for leaf, _ in reader.leaf_readers()
                    for w in leaf.terms_within("words", typo, 1 if len(typo) <= 5 else 2, prefix=2)]

        print(f"typo candidates on {name} ({reader.doc_count()} articles, {len(typos)} misspellings):")
        for label, fn in (("search/vocab.py (rapidfuzz)", ours), ("Whoosh terms_within", whoosh)):
            for _, _, typo in typos:        # the first pass reads the prefix groups into memory
                fn(typo)
            lat, found = [], {}
            for kind, word, typo in typos:
                start = time.perf_counter()
                got = fn(typo)
                lat.append((time.perf_counter() - start) * 1e6)
                found.setdefault(kind, []).append(word in got)
            lat.sort()
            print(f"  {label:<28} p50 {statistics.median(lat):6.0f} us  p95 {lat[int(0.95 * (len(lat) - 1))]:6.0f} us  "
                  "word found: " + ", ".join(f"{k} {sum(v) / len(v):.3f}" for k, v in sorted(found.items())))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", dest="sets")
    ap.add_argument("--typos", type=int, default=2, help="misspelled variants per no-typo query")
    ap.add_argument("--candidates", action="store_true", help="time the typo candidates instead (first set)")
    a = ap.parse_args(argv)
    available = sets()
    names = [n for n in (a.sets or ["glossary", "banking77", "squad-it", "starter"]) if n in available]
    if a.candidates:
        candidates(names[0] if a.sets else "squad-it")
        return 0
    print(f"{'set':<10} {'no-typo q':>9} {'false before':>12} {'false after':>11} {'typo q':>7} "
          f"{'corrected before':>16} {'corrected after':>15} {'any before':>10} {'any after':>9}")
    for name in names:
        r = measure(name, a.typos)
        print(f"{name:<10} {r['queries']:>9} {r['false before']:>12.3f} {r['false after']:>11.3f} "
              f"{r['typo queries']:>7} {r['corrected before']:>16.3f} {r['corrected after']:>15.3f} "
              f"{r['any before']:>10.3f} {r['any after']:>9.3f}", flush=True)
        for text, suggestion in r["examples"]:
            print(f"    before: {text!r} -> {suggestion!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
