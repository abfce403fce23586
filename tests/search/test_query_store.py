"""Query vectors are shared through the embedding cache: a query one process encoded costs the
others (and the next start) a lookup, and the threads of one process can use it at once."""
import numpy as np

from search.encoders import FakeEncoder
from search.semantic import SemanticBackend
from tests.threads import run_together


class CountingEncoder(FakeEncoder):
    """The fake encoder, counting the queries it really encodes."""

    def __init__(self):
        super().__init__(dim=32, name="counting-fake")
        self.encoded = []

    def encode_queries(self, texts):
        """Encode and remember what was asked."""
        self.encoded.extend(texts)
        return super().encode_queries(texts)


def _backend(tmp_path, encoder):
    return SemanticBackend(str(tmp_path / "vectors"), encoder=encoder, cache_dir=str(tmp_path / "cache"))


def test_a_query_encoded_in_one_process_is_not_encoded_again_in_another(tmp_path):
    first, second = CountingEncoder(), CountingEncoder()
    vec = _backend(tmp_path, first).encode_query("how do I reset my password")
    again = _backend(tmp_path, second).encode_query("how do I reset my password")  # a second worker
    assert first.encoded == ["how do I reset my password"] and second.encoded == []
    assert np.array_equal(vec, again)


def test_threads_share_the_store_without_errors(tmp_path):
    encoder = CountingEncoder()
    backend, errors = _backend(tmp_path, encoder), []

    def ask(n):
        try:
            for i in range(40):
                backend.encode_query(f"query {n} {i}")
                backend.encode_query(f"query {(n + 1) % 6} {i}")
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            errors.append(exc)

    run_together(ask, 6)
    assert errors == []
    fresh = CountingEncoder()
    reader = _backend(tmp_path, fresh)
    for n in range(6):
        reader.encode_query(f"query {n} 39")
    assert fresh.encoded == []
