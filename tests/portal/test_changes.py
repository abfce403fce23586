"""Change stamps: a value kept in memory is read again as soon as any process commits a change."""
import logging
import re

import pytest

from portal import changes
from tests.conftest import make_app
from tests.portal.test_pagecache import _page, kb_app  # noqa: F401  (the fixture)


def _loader(values):
    calls = []

    def load():
        calls.append(1)
        return values[-1]
    return load, calls


def test_a_kept_value_stands_until_another_process_touches_its_slot(tmp_path):
    mine, theirs = changes.Stamps(tmp_path / "changes"), changes.Stamps(tmp_path / "changes")
    memo = changes.Memo(mine, changes.CONTENT)
    values = [1]
    load, calls = _loader(values)
    assert memo.get("k", load) == 1 and memo.get("k", load) == 1 and len(calls) == 1
    values.append(2)
    theirs.touch(changes.VOTES)  # another slot: this value is not concerned
    assert memo.get("k", load) == 1 and len(calls) == 1
    theirs.touch(changes.CONTENT)
    assert memo.get("k", load) == 2 and len(calls) == 2
    assert memo.get("k", load) == 2 and len(calls) == 2


def test_a_missed_touch_is_caught_when_the_value_expires(tmp_path, monkeypatch):
    monkeypatch.setattr(changes, "MAX_AGE", 0.0)
    memo = changes.Memo(changes.Stamps(tmp_path / "changes"), changes.CONTENT)
    load, calls = _loader([1])
    memo.get("k", load), memo.get("k", load)
    assert len(calls) == 2


def test_without_stamps_every_lookup_reads(tmp_path, caplog):
    (tmp_path / "changes").mkdir()  # a folder where the file should be: the stamps cannot work
    with caplog.at_level(logging.WARNING, logger="portal.changes"):
        broken = changes.Stamps(tmp_path / "changes")
    assert not broken.enabled and "cannot map" in caplog.text
    for stamps in (broken, changes.Stamps(None)):
        memo = changes.Memo(stamps, changes.CONTENT)
        load, calls = _loader([1])
        memo.get("k", load), memo.get("k", load)
        assert len(calls) == 2
        stamps.touch(changes.CONTENT)  # harmless


def test_only_a_sqlite_home_shares_stamps(tmp_path):
    app = make_app(tmp_path)
    shared = str(app.config["DATABASE_URL"]).startswith("sqlite")
    assert changes.for_app(app).enabled is shared


def test_a_vote_cast_in_another_instance_shows_at_once(kb_app, client, tmp_path):  # noqa: F811
    """The vote memo of one worker learns of a vote another worker stored."""
    assert 'aria-pressed="true"' not in _page(client, "/articles/en-reset")
    other = make_app(tmp_path, fresh=False).test_client()
    other.set_cookie("sportello_visitor", client.get_cookie("sportello_visitor").value)
    assert other.post("/articles/en-reset/feedback", data={"helpful": "no"}).status_code == 302
    assert re.search(r'value="no"[^>]*aria-pressed="true"', _page(client, "/articles/en-reset"))


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_a_visitor_gets_the_same_working_token_for_a_minute(kb_app, client, monkeypatch):  # noqa: F811
    from itsdangerous.timed import TimestampSigner

    clock = iter(range(1_800_000_000, 1_900_000_000, 10))  # ten seconds pass between signatures
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(clock))
    tokens = [re.search(r'name="csrf_token" value="([^"]+)"', _page(client, "/articles/en-reset")).group(1)
              for _ in range(3)]
    assert len(set(tokens[1:])) == 1  # the first page started the session; later ones reuse its token
    resp = client.post("/articles/en-reset/feedback", data={"helpful": "yes", "csrf_token": tokens[0]})
    assert resp.status_code == 302
