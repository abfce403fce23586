"""draft → review → published → archived, four eyes on publishing, and the search indexes."""
from tests.writers.conftest import status_step


def test_author_cannot_publish_alone_another_writer_can(client, login, create_draft, article_row, index_calls):
    login("writer", email="anna@example.com")
    article_id = create_draft()
    assert status_step(client, article_id, "submit", 1).status_code == 302
    assert article_row(article_id).status == "review"
    status_step(client, article_id, "publish", 2)
    assert article_row(article_id).status == "review"
    assert "another writer or an admin must approve" in client.get(f"/write/{article_id}").get_data(as_text=True)
    assert index_calls == []

    login("writer", email="bruno@example.com")
    page = client.get(f"/write/{article_id}").get_data(as_text=True)
    assert 'value="publish"' in page
    status_step(client, article_id, "publish", 2)
    art = article_row(article_id)
    assert art.status == "published"
    assert index_calls == [([art.slug], [])]
    client.post("/auth/logout")
    assert client.get(f"/articles/{art.slug}").status_code == 200


def test_editing_after_review_needs_another_reviewer(client, login, create_draft, article_row):
    from tests.writers.conftest import form

    login("writer", email="anna@example.com")
    article_id = create_draft()
    status_step(client, article_id, "submit", 1)
    # Bruno edits it while in review: now Bruno is an author too and cannot approve alone.
    login("writer", email="bruno@example.com")
    client.post(f"/write/{article_id}/edit", data=form(body="Bruno's fix.\n", version="2"))
    status_step(client, article_id, "publish", 3)
    assert article_row(article_id).status == "review"
    login("writer", email="carla@example.com")
    status_step(client, article_id, "publish", 3)
    assert article_row(article_id).status == "published"


def test_admin_publishes_and_archive_removes_from_index(client, login, create_draft, article_row, index_calls):
    login("admin")
    article_id = create_draft()
    status_step(client, article_id, "publish", 1)  # an admin may publish a draft directly
    art = article_row(article_id)
    assert art.status == "published"
    status_step(client, article_id, "archive", 2)
    assert article_row(article_id).status == "archived"
    assert index_calls == [([art.slug], []), ([], [art.slug])]
    client.post("/auth/logout")
    assert client.get(f"/articles/{art.slug}").status_code == 404
    login("admin")
    status_step(client, article_id, "reopen", 3)
    assert article_row(article_id).status == "draft"


def test_reject_sends_back_to_draft_with_note(client, login, create_draft, article_row):
    login("writer", email="anna@example.com")
    article_id = create_draft()
    status_step(client, article_id, "submit", 1)
    login("writer", email="bruno@example.com")
    status_step(client, article_id, "reject", 2, note="needs a screenshot")
    assert article_row(article_id).status == "draft"
    assert "needs a screenshot" in client.get(f"/write/{article_id}/history").get_data(as_text=True)


def test_stale_version_refuses_a_status_change(client, login, create_draft, article_row):
    login("writer")
    article_id = create_draft()
    resp = status_step(client, article_id, "submit", 7)
    assert resp.status_code == 302 and article_row(article_id).status == "draft"
    assert "changed since you opened it" in client.get(f"/write/{article_id}").get_data(as_text=True)


def test_wrong_transitions_are_refused(client, login, create_draft, article_row):
    login("writer")
    article_id = create_draft()
    for action in ("reopen", "reject", "bogus"):
        status_step(client, article_id, action, 1)
        assert article_row(article_id).status == "draft"


def test_editing_a_published_article_reindexes_it(client, login, create_draft, article_row, index_calls):
    from tests.writers.conftest import form

    login("admin")
    article_id = create_draft()
    status_step(client, article_id, "publish", 1)
    index_calls.clear()
    client.post(f"/write/{article_id}/edit", data=form(body="Fresh text.\n", version="2"))
    assert index_calls == [([article_row(article_id).slug], [])]


def test_agent_and_lead_cannot_publish(client, login, create_draft):
    login("writer")
    article_id = create_draft()
    for role in ("agent", "lead"):
        login(role)
        assert status_step(client, article_id, "publish", 1).status_code == 403
