"""The article editor: prefill, live and no-JS preview, form errors that keep the text, locking."""
import json

from tests.writers.conftest import form


def test_new_prefills_title_from_content_gap(client, login):
    login("writer")
    page = client.get("/write/new?title=How+do+I+cancel%3F").get_data(as_text=True)
    assert 'value="How do I cancel?"' in page
    assert 'src="/static/js/editor.js"' in page and "<script>" not in page


def test_create_draft_is_not_public(client, login, create_draft, article_row):
    login("writer")
    article_id = create_draft()
    art = article_row(article_id)
    assert art.status == "draft" and art.slug == "how-to-reset-a-password" and art.tags == ["account", "password"]
    client.post("/auth/logout")
    assert client.get(f"/articles/{art.slug}").status_code == 404
    assert client.get(f"/api/articles/{art.slug}").status_code == 404


def test_live_preview_uses_the_sanitizing_renderer(client, login):
    login("writer")
    resp = client.post("/write/preview", json={"body": "# Hi\n\n<script>alert(1)</script>[x](javascript:alert(1)) *ok*"})
    assert resp.status_code == 200
    html = resp.get_json()["html"]
    assert "<em>ok</em>" in html and "<script" not in html and "javascript:" not in html
    assert client.post("/write/preview", json={"nobody": 1}).status_code == 400
    assert client.post("/write/preview", data="body=x").status_code == 400


def test_preview_button_without_javascript_keeps_everything(client, login):
    login("writer")
    resp = client.post("/write/new", data=form(action="preview", body="Some **bold** text", title="Kept title"))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<strong>bold</strong>" in page and 'value="Kept title"' in page and "Some **bold** text" in page


def test_errors_are_form_errors_and_keep_the_text(client, login, create_draft):
    login("writer")
    create_draft(slug="taken")
    resp = client.post("/write/new", data=form(title="", slug="taken", locale="xx", body="my precious text"))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "A title is required." in page
    assert "already used by" in page
    assert "Choose one of the languages" in page
    assert "my precious text" in page and 'value="taken"' in page


def test_bad_slug_and_empty_body(client, login):
    login("writer")
    page = client.post("/write/new", data=form(slug="no spaces!", body="  ")).get_data(as_text=True)
    assert "Use only letters" in page and "The body is empty." in page


def test_edit_form_carries_version_and_saves(client, login, create_draft, article_row):
    login("writer")
    article_id = create_draft()
    page = client.get(f"/write/{article_id}/edit").get_data(as_text=True)
    assert '<input id="version" name="version" type="hidden" value="1">' in page
    resp = client.post(f"/write/{article_id}/edit", data=form(body="New text.", version="1"))
    assert resp.status_code == 302
    art = article_row(article_id)
    assert art.body == "New text.\n" and art.version == 2


def test_stale_version_is_a_conflict_showing_their_change(client, login, create_draft, article_row, app):
    login("writer", email="anna@example.com")
    article_id = create_draft(body="Line one.\n\nLine two.\n")
    # Bruno opens the article at version 1 too, then Anna saves first.
    client.post(f"/write/{article_id}/edit", data=form(body="Line one.\n\nLine two, by Anna.\n", version="1"))
    login("writer", email="bruno@example.com")
    resp = client.post(f"/write/{article_id}/edit", data=form(body="Bruno's own text.\n", version="1"))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "Someone else saved this article" in page and "anna@example.com" in page
    assert "<ins>by</ins>" in page or "<ins>" in page
    assert "Bruno&#39;s own text." in page or "Bruno's own text." in page
    assert article_row(article_id).body == "Line one.\n\nLine two, by Anna.\n"
    # The form now carries the current version: saving again is a deliberate choice and works.
    assert '<input id="version" name="version" type="hidden" value="2">' in page
    assert client.post(f"/write/{article_id}/edit", data=form(body="Merged.\n", version="2")).status_code == 302
    assert article_row(article_id).body == "Merged.\n"


def test_two_sessions_racing_on_one_version(app, login, create_draft):
    """Two saves that both loaded version 1: exactly one wins, the other gets ConflictError."""
    import pytest

    from portal.models import User
    from portal.writing import editor

    login("writer")
    article_id = create_draft()
    factory = app.extensions["sportello.db"]
    with app.app_context():
        s1, s2 = factory(), factory()
        try:
            from portal.models import Article

            a1, a2 = s1.get(Article, article_id), s2.get(Article, article_id)
            user = s1.query(User).first()
            inp1 = editor.as_input(a1)
            inp2 = editor.as_input(a2)
            from dataclasses import replace

            editor.update(s1, a1, replace(inp1, body="first\n"), user, 1, ("en", "it", "ro"))
            with pytest.raises(editor.ConflictError) as err:
                editor.update(s2, a2, replace(inp2, body="second\n"), None, 1, ("en", "it", "ro"))
            assert err.value.current.body == "first\n"
        finally:
            s1.close()
            s2.close()


def test_unknown_article_is_404(client, login):
    login("writer")
    assert client.get("/write/999/edit").status_code == 404
    assert client.get("/write/new?translate_from=nope").status_code == 404


def test_published_article_keeps_its_slug(client, login, make_article, runner, db_session):
    make_article("it-frt", title="FRT", locale="it")
    runner.invoke(args=["import", str(make_article("it-frt").parent)])
    from sqlalchemy import select

    from portal.models import Article

    art = db_session.scalar(select(Article).where(Article.slug == "it-frt"))
    login("writer")
    resp = client.post(f"/write/{art.id}/edit", data=form(slug="it-frt-new", locale="it", version=str(art.version)))
    assert resp.status_code == 400 and "keeps its slug" in resp.get_data(as_text=True)


def test_preview_json_needs_login(client):
    resp = client.post("/write/preview", data=json.dumps({"body": "x"}), content_type="application/json")
    assert resp.status_code == 401 and resp.get_json()["error"]
