"""Fits the answer-confidence model (search/confidence.py) per encoder on the dev protocols.

    python -m bench.calibrate --encoder e5-small-nano            # collect features, fit, print
    python -m bench.calibrate --encoder minilm --refit           # fit again from the saved features

Collection runs every labelled query of the dev protocols (bench/protocols.py: off-topic on the
glossary, the Banking77 near-miss splits, the starter KB with its own queries and the off-topic
ones, SQuAD-it's questions on its own paragraphs) through each mode's `ranked()` and keeps the
evidence of the first 10 candidates, labelled 1 where the candidate answers the query. Then per
mode a logistic regression (Newton's method, a little L2) is fitted with each protocol weighted
equally, and the two thresholds are chosen on the first result's confidence:

  answered   the highest threshold at which no more than ANSWERABLE_MISS of the answerable
             queries of any protocol would be refused (the goals allow 5% and 10%; this keeps a
             margin for data we do not have), so that refusing an answer is what moves
  plausible  a floor below which a result is cut from the list and from `total`: the confidence
             below which only PLAUSIBLE_LOSS of the relevant results of answerable queries fall

It prints the fitted Calibration lines to paste into search/confidence.py.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import protocols  # noqa: E402
from bench.corpus import load_documents  # noqa: E402
from bench.quality import sets  # noqa: E402
from search.base import clean_query  # noqa: E402
from search.confidence import FEATURES  # noqa: E402
from search.registry import create_backend  # noqa: E402

MODES = ("keyword", "semantic", "hybrid")
ANSWERABLE_MISS = 0.03
NEAR_MISS_ALLOWED = 0.08
PLAUSIBLE_LOSS = 0.01
DEPTH = 10


def _squad() -> protocols.Protocol:
    corpus, queries = sets()["squad-it"]
    labelled = protocols._labelled(queries, ("it",), "squad")
    return protocols.Protocol("squad-it", tuple(load_documents(corpus)), tuple(labelled[:400]), ("it",))


def _starter_offtopic() -> protocols.Protocol:
    base = protocols.starter()
    off = [q for q in protocols.offtopic(squad_limit=200).queries if not q.answerable and q.kind != "everyday"]
    return protocols.Protocol("starter", base.documents, base.queries + tuple(off), base.locales)


def dev_protocols(seeds, squad=True) -> list[protocols.Protocol]:
    """The protocols the model is fitted on."""
    found = [protocols.offtopic(squad_limit=400), _starter_offtopic()]
    found += [protocols.near_misses(seed) for seed in seeds]
    if squad and "squad-it" in sets():
        found.append(_squad())
    return found


def collect(protocol, encoder, cache_dir) -> dict[str, np.ndarray]:
    """Features of the first DEPTH candidates of every query, per mode, with labels."""
    home = tempfile.mkdtemp(prefix="sportello-calibrate-")
    opts = {"encoder": encoder, "cache_dir": cache_dir}
    create_backend("hybrid", home, **opts).rebuild(list(protocol.documents))
    out = {}
    for mode in MODES:
        backend = create_backend(mode, home, **opts)
        X, y, query, faq = [], [], [], []
        for n, q in enumerate(protocol.queries):
            text, _ = clean_query(q.text)
            ranked = backend.ranked(text, None, None, DEPTH)
            evidence = ranked.evidence if hasattr(ranked, "evidence") else ranked[3]
            m = evidence.matrix()[:DEPTH]
            X.append(m)
            y += [1.0 if s in q.relevant else 0.0 for s in evidence.slugs[:DEPTH]]
            query += [n] * len(m)
            faq += list(evidence.faq[:DEPTH]) if evidence.faq is not None else [False] * len(m)
        out[mode] = {"X": np.vstack(X), "y": np.array(y), "query": np.array(query, np.int64),
                     "faq": np.array(faq, bool),
                     "answerable": np.array([q.answerable for q in protocol.queries], bool)}
    return out


def fit_logistic(X, y, weights, l2=1e-5, iterations=100) -> np.ndarray:
    """Weighted L2-regularized logistic regression by Newton's method: (bias, coef...)."""
    A = np.hstack([np.ones((len(X), 1)), X])
    beta = np.zeros(A.shape[1])
    reg = np.full(A.shape[1], l2)
    reg[0] = 0.0
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(A @ beta, -40, 40)))
        grad = A.T @ (weights * (p - y)) + reg * beta
        hess = (A * (weights * p * (1 - p))[:, None]).T @ A + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def _rows(data, name, mode):
    return (data[f"{name}|{mode}|X"], data[f"{name}|{mode}|y"], data[f"{name}|{mode}|query"],
            data[f"{name}|{mode}|answerable"])


def _faq(data, name, mode) -> np.ndarray:
    return data[f"{name}|{mode}|faq"]


def _first(query: np.ndarray) -> np.ndarray:
    """Mask of each query's first candidate (rows are grouped by query, best first)."""
    return np.r_[True, query[1:] != query[:-1]] if len(query) else np.zeros(0, bool)


def fit_mode(data, names, mode) -> tuple[np.ndarray, np.ndarray | None]:
    """(prose model, FAQ model or None), each (bias, coef...), for one mode.

    A query's first candidate is labelled by whether the query is answerable (`answered` is
    read off it), the others by whether they answer it. Every protocol weighs the same, and
    within one its answerable and unanswerable queries weigh half each, so a confidence of 0.5
    means even odds whatever share of questions a knowledge base can answer; a query's later
    candidates together weigh as much as its first. FAQ articles (scored by their ways of
    asking) get a model of their own."""
    X, y, w, faq = [], [], [], []
    for name in names:
        Xp, yp, qp, ap = _rows(data, name, mode)
        first = _first(qp)
        label = yp.copy()
        label[first] = ap[qp[first]]
        share = np.where(ap, 0.5 / max(ap.sum(), 1), 0.5 / max((~ap).sum(), 1))
        if not (~ap).any() or not ap.any():
            share = np.full(len(ap), 1.0 / len(ap))
        later = np.bincount(qp[~first], minlength=len(ap)).astype(float)
        weight = np.where(first, 1.0, 1.0 / np.maximum(later[qp], 1)) * share[qp]
        X.append(Xp), y.append(label), w.append(weight), faq.append(_faq(data, name, mode))
    X, y, w, faq = np.vstack(X), np.concatenate(y), np.concatenate(w), np.concatenate(faq)
    prose = fit_logistic(X[~faq], y[~faq], w[~faq])
    return prose, (fit_logistic(X[faq], y[faq], w[faq]) if faq.sum() > 100 else None)


def _confidence(X, faq, models) -> np.ndarray:
    prose, faq_model = models
    A = np.hstack([np.ones((len(X), 1)), X])
    logits = A @ prose
    if faq_model is not None:
        logits = np.where(faq, A @ faq_model, logits)
    return 1 / (1 + np.exp(-np.clip(logits, -40, 40)))


def first_confidence(data, name, mode, models) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(confidence of each query's first result, 0 when it has none; answerable; whether that
    first result is an FAQ article) of a protocol."""
    X, _, q, answerable = _rows(data, name, mode)
    conf, faq = np.zeros(len(answerable)), np.zeros(len(answerable), bool)
    first = _first(q)
    faq[q[first]] = _faq(data, name, mode)[first]
    conf[q[first]] = _confidence(X[first], faq[q[first]], models)
    return conf, answerable, faq


def thresholds(data, names, mode, models) -> tuple[float, float | None, float]:
    """(answered, answered for FAQ articles or None, plausible), as the module docstring says."""
    cut = {False: 1.0, True: 1.0}
    for name in names:
        conf, answerable, faq = first_confidence(data, name, mode, models)
        allowed = NEAR_MISS_ALLOWED if name.startswith("near-miss") else ANSWERABLE_MISS
        for kind in (False, True):
            mine = answerable & (faq == kind)
            if mine.sum() >= 20:
                cut[kind] = min(cut[kind], float(np.quantile(conf[mine], allowed)))
    relevant = []
    for name in names:
        X, y, q, answerable = _rows(data, name, mode)
        relevant.append(_confidence(X, _faq(data, name, mode), models)[y > 0])
    plausible = float(np.quantile(np.concatenate(relevant), PLAUSIBLE_LOSS))
    faq_cut = round(cut[True], 3) if models[1] is not None else None
    return round(cut[False], 3), faq_cut, round(min(plausible, cut[False], cut[True]), 3)


def refused(conf, faq, answered, faq_answered) -> np.ndarray:
    """Which queries `answered` would be False for."""
    limit = np.where(faq & (faq_answered is not None), faq_answered or 0.0, answered)
    return conf < limit


def _coef(beta) -> str:
    return "{" + ", ".join(f'"{f}": {b:.3f}' for f, b in zip(FEATURES, beta[1:]) if abs(b) > 1e-3) + "}"


def report(data, encoder) -> None:
    """Fits every mode, prints the refusal rates per protocol and the Calibration lines."""
    names = sorted({k.split("|")[0] for k in data})
    print(f"encoder={encoder}")
    for mode in MODES:
        models = fit_mode(data, names, mode)
        answered, faq_answered, plausible = thresholds(data, names, mode, models)
        rates = []
        for name in names:
            conf, answerable, faq = first_confidence(data, name, mode, models)
            no = refused(conf, faq, answered, faq_answered)
            rates.append(f"{name}: answerable refused {no[answerable].mean():.1%}"
                         + (f", unanswerable {no[~answerable].mean():.1%}" if (~answerable).any() else ""))
        prose, faq = models
        extra = (f", faq_coef={_coef(faq)}, faq_bias={faq[0]:.3f}, faq_answered={faq_answered}"
                 if faq is not None else "")
        print(f"  {mode}: " + "; ".join(rates))
        print(f'    "{mode}": Calibration({_coef(prose)}, {prose[0]:.3f}, {answered}, {plausible}{extra}),')


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", default="e5-small-nano")
    ap.add_argument("--cache-dir", default=str(ROOT / ".cache" / "embeddings"))
    ap.add_argument("--out", default=None, help="where features are saved (default .cache/calibration-ENC.npz)")
    ap.add_argument("--seeds", default="1,2,3", help="Banking77 near-miss seeds to fit on (not the report's)")
    ap.add_argument("--refit", action="store_true", help="fit from saved features, do not collect")
    ap.add_argument("--no-squad", action="store_true", help="leave SQuAD-it's own KB out (its index is the slow one)")
    a = ap.parse_args(argv)
    out = pathlib.Path(a.out or ROOT / ".cache" / f"calibration-{a.encoder}.npz")
    if not a.refit:
        data = {}
        for protocol in dev_protocols([int(s) for s in a.seeds.split(",")], squad=not a.no_squad):
            print(f"collecting {protocol.name} ({len(protocol.queries)} queries)", flush=True)
            for mode, arrays in collect(protocol, a.encoder, a.cache_dir).items():
                for key, value in arrays.items():
                    data[f"{protocol.name}|{mode}|{key}"] = value
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out, **data)
    report(dict(np.load(out)), a.encoder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
