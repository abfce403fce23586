"""Semantic store: passages, best-passage scoring, encoder changes, atomic commits, reloads."""
import json

import numpy as np

from search.base import Document
from search.encoders import FakeEncoder
from search.passages import split_passages
from search.semantic import SemanticBackend


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
    assert reader.search("refund").total == len(docs)
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
