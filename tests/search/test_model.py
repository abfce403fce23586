"""The real bundled all-MiniLM-L6-v2, end to end on three tiny articles (marked: model)."""
import pytest

from search.base import Document
from search.registry import create_backend


@pytest.mark.model
def test_semantic_search_with_bundled_minilm(tmp_path):
    backend = create_backend("hybrid", tmp_path / "idx", encoder="minilm")
    backend.index([
        Document(slug="en-refund", title="Refund not showing up", locale="en",
                 body="- Why is my refund not showing up?\n- I asked the merchant for my money back"),
        Document(slug="en-card", title="Card arrival", locale="en", body="When will my new card arrive?"),
        Document(slug="en-pin", title="Change PIN", locale="en", body="How do I change the PIN of my card?"),
    ])
    # ranking: every candidate, whatever its confidence
    assert backend.semantic.search("the shop never gave my money back", plausible_only=False).hits[0].slug == "en-refund"
    assert backend.search("my plastic hasn't been delivered yet", plausible_only=False).hits[0].slug == "en-card"
    assert backend.search("why is my refund not showing up").answered
    assert not backend.search("best pizza recipe in Naples").answered
    assert backend.health().ok
