"""Review that holds: a writer's edit or restore of a published article is a pending change while
the published text stays live, until someone else with a writing role approves it; only admins
(workflow.PUBLISH_DIRECTLY) change live text at once."""
import pytest

from tests.writers.conftest import form, status_step

LIVE = "# Reset\n\nOpen *Settings* and choose **Reset**.\n"
PHISHING = "# Reset\n\nSend your password to help@evil.example.\n"


@pytest.fixture
def published(client, login, create_draft):
    """A published article (by an admin) and its id; the admin is logged in."""
    login("admin")
    article_id = create_draft(slug="en-reset", body=LIVE)
    status_step(client, article_id, "publish", 1)
    return article_id


def _public(client):
    return client.get("/articles/en-reset").get_data(as_text=True)


def _edit(client, article_id, body, version):
    return client.post(f"/write/{article_id}/edit", data=form(slug="en-reset", body=body, version=str(version)))


def test_a_writers_edit_waits_for_another_writer(app, client, login, published, article_row, index_calls):
    login("writer", email="mallory@example.com")
    index_calls.clear()
    assert _edit(client, published, PHISHING, 2).status_code == 302
    assert "evil.example" not in _public(client) and article_row(published).body == LIVE
    assert index_calls == []  # nothing live changed, nothing to reindex
    page = client.get(f"/write/{published}").get_data(as_text=True)
    assert "A change waits for approval" in page and "evil" in page  # the diff, word by word
    assert "evil.example" in client.get(f"/write/{published}/edit").get_data(as_text=True)  # edit the proposal
    status_step(client, published, "publish", 3)  # not alone
    assert "evil.example" not in _public(client)
    login("writer", email="wendy@example.com")
    status_step(client, published, "publish", 3)
    assert "evil.example" in _public(client) and article_row(published).status == "published"
    assert index_calls == [(["en-reset"], [])]
    assert "A change waits for approval" not in client.get(f"/write/{published}").get_data(as_text=True)


def test_a_second_writer_building_on_a_change_cannot_approve_it_either(client, login, published, article_row):
    login("writer", email="one@example.com")
    _edit(client, published, LIVE + "\nOne more line.\n", 2)
    login("writer", email="two@example.com")
    _edit(client, published, LIVE + "\nOne more line, and another.\n", 3)
    status_step(client, published, "publish", 4)
    assert article_row(published).body == LIVE
    login("writer", email="three@example.com")
    status_step(client, published, "publish", 4)
    assert "and another" in article_row(published).body


def test_a_rejected_change_leaves_the_live_text(client, login, published, article_row):
    login("writer", email="mallory@example.com")
    _edit(client, published, PHISHING, 2)
    login("writer", email="wendy@example.com")
    status_step(client, published, "reject", 3, note="not ours")
    art = article_row(published)
    assert (art.status, art.body) == ("published", LIVE)
    page = client.get(f"/write/{published}").get_data(as_text=True)
    assert "A change waits for approval" not in page
    assert "turned down the change of mallory@example.com: not ours" in \
        client.get(f"/write/{published}/history").get_data(as_text=True)


def test_restoring_an_old_revision_of_a_published_article_waits_too(client, login, published, article_row):
    login("writer", email="wendy@example.com")
    _edit(client, published, PHISHING, 2)
    login("admin")
    status_step(client, published, "reject", 3)
    login("writer", email="mallory@example.com")
    from portal.db import get_session
    from portal.writing import revisions

    with client.application.app_context():
        proposal = [r for r in revisions.history(get_session(), published) if r.source == "proposal"][0]
    resp = client.post(f"/write/{published}/revisions/{proposal.number}/restore", data={"version": "4"})
    assert resp.status_code == 302
    assert article_row(published).body == LIVE and "evil.example" not in _public(client)
    assert "A change waits for approval" in client.get(f"/write/{published}").get_data(as_text=True)


def test_an_admins_edit_goes_live_at_once(client, published, article_row):
    assert _edit(client, published, LIVE + "\nUpdated by the admin.\n", 2).status_code == 302
    assert "Updated by the admin" in article_row(published).body and "Updated by the admin" in _public(client)


def test_saving_the_same_proposal_again_changes_nothing(client, login, published, article_row):
    login("writer", email="mallory@example.com")
    _edit(client, published, PHISHING, 2)
    version = article_row(published).version
    resp = _edit(client, published, PHISHING, version)
    assert resp.status_code == 302 and article_row(published).version == version


def test_a_pending_change_is_listed_for_review(client, login, published):
    login("writer", email="mallory@example.com")
    _edit(client, published, PHISHING, 2)
    login("writer", email="wendy@example.com")
    board = client.get("/write/").get_data(as_text=True)
    assert "How to reset a password" in board.split("Waiting for review")[1].split("</section>")[0]
