"""Fits the answer-confidence model (search/confidence.py) per encoder on the dev protocols.

    python -m bench.calibrate --encoder e5-small-nano            # collect features, fit, print
    python -m bench.calibrate --encoder minilm --refit           # fit again from the saved features

Collection runs every labelled query of the dev protocols (bench/protocols.py: off-topic on the
glossary, the Banking77 near-miss splits, the starter KB with its own queries and the off-topic
ones, SQuAD-it's questions on its own paragraphs) through each mode's `ranked()` and keeps the
evidence of the first 10 candidates. A query's first candidate is labelled by whether the query
is answerable, the others by whether they answer it. Per mode, prose articles get a logistic
regression (Newton's method, a little L2) and FAQ articles (scored by their ways of asking)
gradient-boosted trees (scikit-learn's, exported to search/calibrations/<family>.json and
evaluated there with numpy). The thresholds are chosen on the first result's confidence:

  answered   per kind of first result (prose, FAQ), the highest threshold at which no more than
             ANSWERABLE_MISS of the answerable queries of any protocol, and NEAR_MISS_ALLOWED
             of the near-miss splits' answerable phrasings taken together, would be refused
             (the goals allow 5% and 10%; this keeps a margin for data we do not have)
  plausible  a floor below which a result is cut from the list and from `total`: the confidence
             below which only PLAUSIBLE_LOSS of the relevant results of answerable queries fall

It writes search/calibrations/<family>.json and prints the refusal rates on the fitted data.
"""
from __future__ import annotations

import argparse
import json
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
from search.confidence import CALIBRATIONS, FEATURES, Calibration, family  # noqa: E402
from search.registry import create_backend  # noqa: E402

MODES = ("keyword", "semantic", "hybrid")
ANSWERABLE_MISS = 0.03
TREE_DEPTH, TREES = 3, 400
FIRST_WEIGHT = 10.0      # a query's first candidate (what `answered` reads) against its later ones
NEAR_MISS_ALLOWED = 0.08
PLAUSIBLE_LOSS = 0.01
DEPTH = 10
# Banking77 splits the FAQ model learns from; never the report's (bench/protocols.py NEAR_MISS_SEEDS)
FIT_SEEDS = "1,2,3,4,5,6,7,8,9,10,60,61,62,63,64,65"


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


def _training(data, names, mode):
    """(X, label, weight, faq) over every protocol, weighted as fit_mode's docstring says."""
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
        weight = np.where(first, FIRST_WEIGHT, 1.0 / np.maximum(later[qp], 1)) * share[qp]
        X.append(Xp), y.append(label), w.append(weight), faq.append(_faq(data, name, mode))
    return np.vstack(X), np.concatenate(y), np.concatenate(w), np.concatenate(faq)


def fit_mode(data, names, mode) -> dict:
    """{"prose": spec, "faq": spec or None} for one mode.

    A query's first candidate is labelled by whether the query is answerable (`answered` is
    read off it), the others by whether they answer it. Every protocol weighs the same, and
    within one its answerable and unanswerable queries weigh half each, so a confidence of 0.5
    means even odds whatever share of questions a knowledge base can answer; a query's later
    candidates together weigh a tenth of its first (FIRST_WEIGHT)."""
    X, y, w, faq = _training(data, names, mode)
    beta = fit_logistic(X[~faq], y[~faq], w[~faq] / w[~faq].sum())
    prose = {"logistic": {"coef": {f: round(float(b), 4) for f, b in zip(FEATURES, beta[1:])},
                          "bias": round(float(beta[0]), 4)}}
    return {"prose": prose, "faq": fit_trees(X[faq], y[faq], w[faq]) if faq.sum() > 1000 else None}


def fit_trees(X, y, w, depth=TREE_DEPTH, trees=TREES) -> dict:
    """Gradient-boosted trees (scikit-learn), exported as complete trees of one depth."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(max_iter=trees, max_depth=depth, learning_rate=0.05,
                                         random_state=0)
    clf.fit(X, y, sample_weight=w / w.mean())
    size = 2 ** depth - 1
    features, thresholds, leaves = [], [], []
    for (tree,) in clf._predictors:
        f, t, v = np.zeros(size, int), np.full(size, np.inf), np.zeros(size + 1)
        _pad(tree.nodes, 0, 0, depth, f, t, v)
        features.append(f.tolist()), thresholds.append([float(x) for x in t])   # exact: ties go left
        leaves.append([round(float(x), 6) for x in v])
    # JSON has no infinity: an always-left node compares with a huge threshold instead
    thresholds = [[x if np.isfinite(x) else 1e30 for x in row] for row in thresholds]
    return {"trees": {"depth": depth, "base": round(float(clf._baseline_prediction.ravel()[0]), 6),
                      "features": features, "thresholds": thresholds, "leaves": leaves}}


def _pad(nodes, i, slot, depth, features, thresholds, leaves, level=0) -> None:
    """Copies sklearn node i into complete-tree slot `slot`; a shallow leaf fills its subtree."""
    node = nodes[i]
    if level == depth:
        leaves[slot - (2 ** depth - 1)] = node["value"]
        return
    if node["is_leaf"]:
        features[slot], thresholds[slot] = 0, np.inf        # always left; both sides the leaf
        _pad(nodes, i, 2 * slot + 1, depth, features, thresholds, leaves, level + 1)
        _pad(nodes, i, 2 * slot + 2, depth, features, thresholds, leaves, level + 1)
        return
    features[slot], thresholds[slot] = node["feature_idx"], node["num_threshold"]
    _pad(nodes, node["left"], 2 * slot + 1, depth, features, thresholds, leaves, level + 1)
    _pad(nodes, node["right"], 2 * slot + 2, depth, features, thresholds, leaves, level + 1)


def _calibration(spec: dict, thresholds=(1.0, None, 0.0)) -> Calibration:
    answered, faq_answered, plausible = thresholds
    return Calibration.from_dict({**spec, "answered": answered, "faq_answered": faq_answered,
                                  "plausible": plausible})


def _confidence(X, faq, calibration) -> np.ndarray:
    logits = calibration.prose.logits(X)
    if calibration.faq is not None and faq.any():
        logits[faq] = calibration.faq.logits(X[faq])
    return 1 / (1 + np.exp(-np.clip(logits, -40, 40)))


def first_confidence(data, name, mode, calibration) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(confidence of each query's first result, 0 when it has none; answerable; whether that
    first result is an FAQ article) of a protocol."""
    X, _, q, answerable = _rows(data, name, mode)
    conf, faq = np.zeros(len(answerable)), np.zeros(len(answerable), bool)
    first = _first(q)
    faq[q[first]] = _faq(data, name, mode)[first]
    conf[q[first]] = _confidence(X[first], faq[q[first]], calibration)
    return conf, answerable, faq


def thresholds(data, names, mode, calibration) -> tuple[float, float | None, float]:
    """(answered, answered for FAQ articles or None, plausible), as the module docstring says."""
    cut = {False: 1.0, True: 1.0}
    pooled: dict[bool, list] = {False: [], True: []}     # the near-miss splits, taken together
    for name in names:
        conf, answerable, faq = first_confidence(data, name, mode, calibration)
        for kind in (False, True):
            mine = answerable & (faq == kind)
            if name.startswith("near-miss"):
                pooled[kind].append(conf[mine])
            elif mine.sum() >= 20:
                cut[kind] = min(cut[kind], float(np.quantile(conf[mine], ANSWERABLE_MISS)))
    for kind, parts in pooled.items():
        found = np.concatenate(parts) if parts else np.zeros(0)
        if len(found) >= 20:
            cut[kind] = min(cut[kind], float(np.quantile(found, NEAR_MISS_ALLOWED)))
    relevant = []
    for name in names:
        X, y, q, answerable = _rows(data, name, mode)
        relevant.append(_confidence(X, _faq(data, name, mode), calibration)[y > 0])
    plausible = float(np.quantile(np.concatenate(relevant), PLAUSIBLE_LOSS))
    faq_cut = round(cut[True], 4) if calibration.faq is not None else None
    return round(cut[False], 4), faq_cut, round(min(plausible, cut[False], cut[True]), 4)


def refused(conf, faq, answered, faq_answered) -> np.ndarray:
    """Which queries `answered` would be False for."""
    limit = np.where(faq & (faq_answered is not None), faq_answered or 0.0, answered)
    return conf < limit


def report(data, encoder) -> dict:
    """Fits every mode, prints the refusal rates per protocol; returns the calibration file."""
    names = sorted({k.split("|")[0] for k in data})
    out = {"encoder": encoder, "modes": {}}
    print(f"encoder={encoder}")
    for mode in MODES:
        spec = fit_mode(data, names, mode)
        found = thresholds(data, names, mode, _calibration(spec))
        calibration = _calibration(spec, found)
        out["modes"][mode] = {**spec, "answered": found[0], "faq_answered": found[1], "plausible": found[2]}
        rates = []
        for name in names:
            conf, answerable, faq = first_confidence(data, name, mode, calibration)
            no = refused(conf, faq, found[0], found[1])
            rates.append(f"{name}: answerable refused {no[answerable].mean():.1%}"
                         + (f", unanswerable {no[~answerable].mean():.1%}" if (~answerable).any() else ""))
        print(f"  {mode} (answered {found[0]}, FAQ {found[1]}, plausible {found[2]}): " + "; ".join(rates))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", default="e5-small-nano")
    ap.add_argument("--cache-dir", default=str(ROOT / ".cache" / "embeddings"))
    ap.add_argument("--out", default=None, help="where features are saved (default .cache/calibration-ENC.npz)")
    ap.add_argument("--seeds", default=FIT_SEEDS, help="Banking77 near-miss seeds to fit on (not the report's)")
    ap.add_argument("--refit", action="store_true", help="fit from saved features, do not collect")
    ap.add_argument("--no-squad", action="store_true", help="leave SQuAD-it's own KB out (its index is the slow one)")
    ap.add_argument("--write", action="store_true", help="write search/calibrations/<family>.json")
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
    calibration = report(dict(np.load(out)), a.encoder)
    if a.write:
        target = CALIBRATIONS / f"{family(a.encoder)}.json"
        target.write_text(json.dumps(calibration, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
