"""The encoder contract, checked against every implementation."""
import numpy as np
import pytest

from search.encoders import (
    DEFAULT_ENCODER, FakeEncoder, UnknownEncoderError, available_encoders, get_encoder,
)

SPECS = [
    "fake",
    pytest.param("minilm", marks=pytest.mark.model),
    pytest.param("e5-small-nano", marks=pytest.mark.model),
]

PASSAGES = [
    "Per aprire un ticket di supporto, accedi al portale e premi «Nuovo ticket».",
    "Timpul de primă răspuns (FRT) măsoară cât așteaptă clientul primul răspuns.",
    "The Net Promoter Score asks customers how likely they are to recommend you.",
]


@pytest.fixture(params=SPECS)
def encoder(request):
    return get_encoder(request.param)


def _assert_unit_rows(vectors, n, dim):
    assert isinstance(vectors, np.ndarray)
    assert vectors.dtype == np.float32
    assert vectors.shape == (n, dim)
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_name_and_dim(encoder):
    assert isinstance(encoder.name, str) and encoder.name
    assert isinstance(encoder.dim, int) and encoder.dim > 0


def test_shapes_dtype_and_normalization(encoder):
    _assert_unit_rows(encoder.encode_passages(PASSAGES), 3, encoder.dim)
    _assert_unit_rows(encoder.encode_queries(["come apro un ticket?"]), 1, encoder.dim)


def test_empty_batch(encoder):
    assert encoder.encode_queries([]).shape == (0, encoder.dim)
    assert encoder.encode_passages([]).shape == (0, encoder.dim)


def test_deterministic(encoder):
    a = encoder.encode_passages(PASSAGES)
    b = encoder.encode_passages(list(reversed(PASSAGES)))[::-1]
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(encoder.encode_queries(["frt"]), encoder.encode_queries(["frt"]), atol=1e-6)


def test_empty_string_and_whitespace(encoder):
    _assert_unit_rows(encoder.encode_queries(["", "   "]), 2, encoder.dim)
    _assert_unit_rows(encoder.encode_passages([""]), 1, encoder.dim)


def test_very_long_text(encoder):
    long_text = " ".join(["Il cliente apre un ticket e attende la prima risposta."] * 2000)
    _assert_unit_rows(encoder.encode_passages([long_text, "corto"]), 2, encoder.dim)


def test_non_latin_and_emoji(encoder):
    texts = ["客户满意度是什么", "Удовлетворённость клиентов", "رضا العملاء", "ticket 🎫 urgent ⚠️", "ă â î ș ț"]
    _assert_unit_rows(encoder.encode_queries(texts), len(texts), encoder.dim)


def test_query_finds_its_passage(encoder):
    passages = encoder.encode_passages(PASSAGES)
    query = encoder.encode_queries(["come aprire un ticket di supporto"])[0]
    assert int(np.argmax(passages @ query)) == 0


def test_batch_size_does_not_change_vectors(encoder):
    a = encoder.encode_passages(PASSAGES, batch_size=1)
    b = encoder.encode_passages(PASSAGES, batch_size=32)
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_cached_once_per_process():
    assert get_encoder("fake") is get_encoder("FAKE")


def test_unknown_spec_is_a_clear_error():
    with pytest.raises(UnknownEncoderError, match="unknown encoder"):
        get_encoder("no-such-encoder")
    assert "e5-small-nano" in available_encoders()
    assert DEFAULT_ENCODER in available_encoders()


def test_fake_encoder_similar_texts_are_close():
    enc = FakeEncoder()
    a, b, c = enc.encode_passages(["tempo di prima risposta", "tempo della prima risposta", "fiume Reno"])
    assert a @ b > a @ c
    # accent folding, like the keyword side: perche ~ perché
    x, y = enc.encode_queries(["perche", "perché"])
    assert x @ y == pytest.approx(1.0)


@pytest.mark.model
def test_e5_queries_and_passages_differ():
    """The e5 family embeds `query: ` and `passage: ` differently: the prefixes are applied."""
    enc = get_encoder("e5-small-nano")
    q = enc.encode_queries(["ticket di supporto"])[0]
    p = enc.encode_passages(["ticket di supporto"])[0]
    assert q @ p < 0.999


@pytest.mark.model
def test_e5_is_cross_lingual():
    """An English query lands on the Italian passage about the same thing."""
    enc = get_encoder("e5-small-nano")
    passages = enc.encode_passages([
        "Il tempo di prima risposta misura quanto attende il cliente prima della prima risposta di un operatore.",
        "Il Reno nasce nelle Alpi svizzere e sfocia nel Mare del Nord.",
    ])
    q = enc.encode_queries(["how long until an agent first replies to a customer"])[0]
    assert int(np.argmax(passages @ q)) == 0


@pytest.mark.model
def test_prompts_table_for_e5_models():
    from search.encoders import _prompts_for
    assert _prompts_for("intfloat/multilingual-e5-small", {"query": "", "document": ""}) == ("query: ", "passage: ")
    assert _prompts_for("some/model", {"query": "q> ", "document": "d> "}) == ("q> ", "d> ")
    assert _prompts_for("sentence-transformers/all-MiniLM-L6-v2", {}) == ("", "")
