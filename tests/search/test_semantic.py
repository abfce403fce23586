"""Semantic store: passages, best-passage scoring, encoder changes, atomic commits, reloads."""
import json

import numpy as np

from search.base import Document
from search.encoders import FakeEncoder
from search.passages import passages, split_passages
from search.semantic import FORMAT, SemanticBackend, _Snapshot, text_hash


def test_passages_split_by_heading_and_carry_the_title():
    body = "# Intro\n\nFirst part.\n\n## Steps\n\n" + " ".join(["word"] * 250) + "\n\n- item one\n- item two"
    parts = split_passages(Document(slug="a", title="Guide", body=body, summary="Short."))
    assert parts[0].startswith("Guide. Short.")
    assert all(p.startswith("Guide") for p in parts)
    assert any("Guide — Steps." in p for p in parts)
    assert max(len(p.split()) for p in parts) <= 100      # long sections are cut
    assert "Guide — Steps. item one" in parts            # list items stand alone


def test_best_passage_decides(tmp_path):
    sb = SemanticBackend(tmp_path / "v", encoder="fake")
    long_body = "# Intro\n\nnothing here\n\n# Billing\n\nrefund money back card payment"
    sb.index([Document(slug="a", title="General", body=long_body),
              Document(slug="b", title="Weather", body="sunny rainy cloudy")])
    hits = sb.search("refund money back").hits
    assert hits[0].slug == "a"
    assert "refund" in hits[0].snippet


def test_store_records_encoder_and_refuses_mixing(tmp_path, docs):
    sb = SemanticBackend(tmp_path / "v", encoder="fake")
    sb.index(docs)
    meta = json.loads((tmp_path / "v" / "meta.json").read_text())
    assert meta["encoder"] == "fake" and meta["dim"] == 64
    other = SemanticBackend(tmp_path / "v", encoder=FakeEncoder(dim=32, name="fake32"))
    health = other.health()
    assert not health.ok and "encoder" in health.reason
    assert other.search("refund").hits == ()          # never scores with the wrong vectors
    other.rebuild(docs)
    assert other.health().ok
    assert json.loads((tmp_path / "v" / "meta.json").read_text())["dim"] == 32


def test_crash_mid_write_leaves_previous_generation(tmp_path, docs, monkeypatch):
    sb = SemanticBackend(tmp_path / "v", encoder="fake")
    sb.index(docs)
    import search.semantic as sem

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(sem.os, "replace", boom)
    try:
        sb.index([Document(slug="new", title="New article", body="fresh")])
    except OSError:
        pass
    monkeypatch.undo()
    fresh = SemanticBackend(tmp_path / "v", encoder="fake")
    assert fresh.health().ok and fresh.health().count == len(docs)


def test_truncated_store_is_reported(tmp_path, docs):
    sb = SemanticBackend(tmp_path / "v", encoder="fake")
    sb.index(docs)
    (tmp_path / "v" / "meta.json").write_text('{"format": 1, "encoder_spec": "fake", "docs": {')
    assert not SemanticBackend(tmp_path / "v", encoder="fake").health().ok


def test_other_process_commit_is_seen(tmp_path, docs):
    reader = SemanticBackend(tmp_path / "v", encoder="fake")
    writer = SemanticBackend(tmp_path / "v", encoder="fake")
    writer.index(docs)
    assert reader.search("refund", plausible_only=False).total == len(docs)
    writer.index([Document(slug="zz", title="Zebra crossing", body="zebra")])
    assert reader.search("zebra").hits[0].slug == "zz"
    writer.remove(["zz"])
    assert "zz" not in [h.slug for h in reader.search("zebra").hits]


def test_unchanged_passages_are_not_re_embedded(tmp_path, docs):
    calls = []

    class Counting(FakeEncoder):
        def encode_passages(self, texts, batch_size=32, show_progress=False):
            calls.append(len(texts))
            return super().encode_passages(texts)
    sb = SemanticBackend(tmp_path / "v", encoder=Counting())
    sb.index(docs)
    first = sum(calls)
    sb.rebuild(docs)
    assert sum(calls) == first


def test_embedding_cache_survives_a_new_store(tmp_path, docs):
    calls = []

    class Counting(FakeEncoder):
        def encode_passages(self, texts, batch_size=32, show_progress=False):
            calls.append(len(texts))
            return super().encode_passages(texts)
    SemanticBackend(tmp_path / "v1", encoder=Counting(), cache_dir=str(tmp_path / "c")).index(docs)
    n = sum(calls)
    sb = SemanticBackend(tmp_path / "v2", encoder=Counting(), cache_dir=str(tmp_path / "c"))
    sb.index(docs)
    assert sum(calls) == n and sb.health().count == len(docs)


def test_vectors_are_normalized_float32(tmp_path, docs):
    sb = SemanticBackend(tmp_path / "v", encoder="fake")
    sb.index(docs)
    meta = json.loads((tmp_path / "v" / "meta.json").read_text())
    vecs = np.load(tmp_path / "v" / meta["files"]["vectors"])
    assert vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_items_of_a_list_with_a_question_are_asked():
    body = ("Customers ask this in many ways:\n\n- Why is my refund not showing up?\n- I need my refund\n\n"
            "Steps:\n\n- open the app\n- tap Refunds\n\nA paragraph that asks why?")
    parts = passages(Document(slug="a", title="Refund", body=body))
    asked = {p.text for p in parts if p.asked}
    assert asked == {"Refund. Why is my refund not showing up?", "Refund. I need my refund"}
    assert not any(p.asked for p in parts if "open the app" in p.text or "paragraph" in p.text)
    assert split_passages(Document(slug="a", title="Refund", body=body)) == [p.text for p in parts]


class _Recording(FakeEncoder):
    """Embeds queries in another space than passages, and records which texts went where."""

    def __init__(self):
        super().__init__()
        self.as_query, self.as_passage = [], []

    def encode_queries(self, texts):
        self.as_query += list(texts)
        return super().encode_queries(["q " + t for t in texts])

    def encode_passages(self, texts, batch_size=32, show_progress=False):
        self.as_passage += list(texts)
        return super().encode_passages(texts)


def test_asked_passages_are_embedded_as_queries(tmp_path, docs):
    enc = _Recording()
    sb = SemanticBackend(tmp_path / "v", encoder=enc)
    sb.index(docs)
    assert "Refund not showing up. I need my refund" in enc.as_query
    assert "Refund not showing up. I need my refund" not in enc.as_passage
    assert not any("Cards arrive" in t for t in enc.as_query)
    meta = json.loads((tmp_path / "v" / "meta.json").read_text())
    assert meta["format"] == FORMAT
    assert np.load(tmp_path / "v" / meta["files"]["asked"]).sum() == 2
    assert sb.search("I need my refund").hits[0].slug == "en-refund"


def test_asked_passages_count_together_as_a_mean():
    # doc 0: one plain passage; doc 1: three asked phrasings; doc 2: many plain passages
    q = np.array([1.0, 0.0], np.float32)

    def unit(cos):
        return [cos, float(np.sqrt(1 - cos * cos))]
    rows = [unit(0.90)] + [unit(c) for c in (0.89, 0.88, 0.88)] + [unit(0.85)] * 6
    docs = {"plain": {"locale": "en", "category": "", "rows": [0, 1]},
            "faq": {"locale": "en", "category": "", "rows": [1, 4]},
            "long": {"locale": "en", "category": "", "rows": [4, 10]}}
    asked = np.array([False, True, True, True] + [False] * 6)
    snap = _Snapshot({"docs": docs}, np.array(rows, np.float32), np.zeros(11, np.int64), np.zeros(0, np.uint8), asked)
    best, per_row = snap.doc_scores(q)
    faq = (0.89 + 0.88 / 2 + 0.88 / 3) / (1 + 1 / 2 + 1 / 3)
    assert np.allclose(best, [0.90, faq, 0.85], atol=1e-5)      # a mean of the best 3, never a sum
    assert np.allclose(per_row[1:4], [0.89, 0.88, 0.88], atol=1e-5)
    plain_only = _Snapshot({"docs": docs}, np.array(rows, np.float32), np.zeros(11, np.int64), np.zeros(0, np.uint8))
    assert np.allclose(plain_only.doc_scores(q)[0], [0.90, 0.89, 0.85], atol=1e-5)


def test_older_format_store_is_rebuilt_reusing_its_vectors(tmp_path, docs):
    enc = _Recording()
    sb = SemanticBackend(tmp_path / "v", encoder=enc)
    sb.index(docs)
    meta_path = tmp_path / "v" / "meta.json"
    meta = json.loads(meta_path.read_text())
    # what a format-2 store looks like: no asked rows, every vector keyed by its text alone
    (tmp_path / "v" / meta["files"].pop("asked")).unlink()
    texts = [t for d in docs for t in split_passages(d)]
    np.save(tmp_path / "v" / meta["files"]["hashes"], np.array([text_hash(t) for t in texts], dtype="S20"))
    meta["format"] = 2
    meta_path.write_text(json.dumps(meta))
    fresh = SemanticBackend(tmp_path / "v", encoder=enc)
    health = fresh.health()
    assert not health.ok and "format" in health.reason
    assert fresh.search("refund").hits == ()                     # never scored without its asked rows
    enc.as_query.clear(), enc.as_passage.clear()
    fresh.rebuild(docs)
    # only the asked passages are embedded again (as queries now); the rest reuse their vectors
    assert fresh.health().ok and enc.as_passage == []
    assert sorted(enc.as_query) == ["Refund not showing up. I need my refund",
                                    "Refund not showing up. Why is my refund not showing up?"]
