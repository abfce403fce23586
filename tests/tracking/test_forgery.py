"""Done-when: the forging attack of the security review, replayed from one address with the
default limits (bench/forge.py), gains at most 5 explicit and 20 inferred self-served visits;
the rest lands in excluded_visits. On the code before this check the same 60 s replay gained
+10 explicit and +6,638 inferred (README, "Figures that can't be forged")."""
import pytest

from bench import forge


def _check(result):
    gained = forge.gains(result)
    assert gained["self_served"] <= 5, gained
    assert gained["self_served_inferred"] <= 20, gained
    assert gained["tickets"] == 0 and gained["visits"] <= 25, gained
    # Every visit the attack opened is counted apart: about one per two or four requests.
    assert gained["excluded_visits"] >= result["requests"] // 5, (gained, result["requests"])
    assert result["after"]["self_service_ratio"] == result["before"]["self_service_ratio"]


def test_a_short_replay_gains_nothing(tmp_path):
    _check(forge.run(3, tmp_path / "home"))


@pytest.mark.slow
def test_sixty_seconds_of_forging_from_one_address_gain_at_most_5_explicit_and_20_inferred(tmp_path):
    result = forge.run(60, tmp_path / "home")
    assert result["requests"] > 5_000  # the replay really ran flat out
    _check(result)
