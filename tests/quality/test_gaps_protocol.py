"""The gaps dev protocol runs end to end through the portal (fake encoder; bench/gaps_protocol.py)."""
import pytest

from bench.quality import sets


@pytest.mark.slow
def test_gaps_protocol_with_the_fake_encoder(tmp_path):
    if "banking77" not in sets():
        pytest.skip("the shared Banking77 set is not here")
    from bench.gaps_protocol import run_gaps_protocol

    out = run_gaps_protocol("fake", 1, str(tmp_path / "cache"))
    assert set(out) >= {"ari", "grouped", "groups", "seconds"}
    assert 0 < out["grouped"] <= out["failed"] <= 1 and out["groups"] > 1 and out["seconds"] >= 0
    assert out["ari"] > 0.1  # the hashing encoder groups some phrasings of an intent, not many
    assert out["tickets"] > 0 and out["votes"] > 0 and 0 < out["told_no_answer"] < 1
