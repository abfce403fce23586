"""Every save keeps a revision; history diffs any two; restore makes an old text current again."""
from sqlalchemy import select

from portal.writing import revisions
from tests.writers.conftest import form


def test_diff_marks_changed_words_and_escapes_html():
    lines = revisions.diff("a\nsame\nold <b>word</b>\n", "a\nsame\nnew <b>word</b>\n")
    kinds = [l.kind for l in lines]
    assert kinds == ["equal", "equal", "del", "ins"]
    assert (True, "old") in lines[2].parts and (True, "new") in lines[3].parts
    assert revisions.diff("x\n", "x\n") == []


def test_history_shows_revisions_with_a_readable_diff(client, login, create_draft):
    login("writer", email="anna@example.com")
    article_id = create_draft(body="First <script>alert(1)</script> version.\n")
    client.post(f"/write/{article_id}/edit", data=form(body="Second version.\n", note="clearer", version="1"))
    page = client.get(f"/write/{article_id}/history").get_data(as_text=True)
    assert "anna@example.com" in page and "clearer" in page and "created" in page
    assert "<del>" in page and "<ins>Second</ins>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    # any two revisions, chosen by number
    assert client.get(f"/write/{article_id}/history?a=1&b=1").status_code == 200
    rev_page = client.get(f"/write/{article_id}/revisions/1").get_data(as_text=True)
    assert "First" in rev_page and "<script>alert" not in rev_page
    assert client.get(f"/write/{article_id}/revisions/9").status_code == 404


def test_restore_makes_a_new_revision(client, login, create_draft, article_row, db_session):
    login("writer")
    article_id = create_draft(body="Original.\n")
    client.post(f"/write/{article_id}/edit", data=form(body="Changed.\n", version="1"))
    resp = client.post(f"/write/{article_id}/revisions/1/restore", data={"version": "2"})
    assert resp.status_code == 302
    assert article_row(article_id).body == "Original.\n"
    revs = revisions.history(db_session, article_id)
    assert [r.number for r in revs] == [3, 2, 1] and revs[0].note == "restored revision 1"
    # a stale version is refused
    client.post(f"/write/{article_id}/revisions/2/restore", data={"version": "1"})
    assert article_row(article_id).body == "Original.\n"


def test_import_records_revisions_with_a_baseline(runner, make_article, db_session):
    from portal.models import Article

    path = make_article("en-a", title="A", locale="en", body="One.")
    runner.invoke(args=["import", str(path.parent)])
    make_article("en-a", title="A", locale="en", body="Two.")
    runner.invoke(args=["import", str(path.parent)])
    runner.invoke(args=["import", str(path.parent)])  # unchanged: no revision
    art = db_session.scalar(select(Article).where(Article.slug == "en-a"))
    revs = revisions.history(db_session, art.id)
    assert [(r.number, r.source, r.author_id) for r in revs] == [(2, "import", None), (1, "import", None)]
    assert revs[0].body == "# A\n\nTwo.\n"


def test_first_edit_of_an_old_article_keeps_a_baseline(db_session, app):
    """Articles stored before revisions existed get their old text kept on the first save."""
    from portal.content import ArticleData
    from portal.kb import save_article
    from portal.writing import editor

    art, _ = save_article(db_session, ArticleData(title="T", slug="t", locale="en", category="c", body="Old.\n"))
    db_session.commit()
    inp = editor.as_input(art)
    from dataclasses import replace

    editor.update(db_session, art, replace(inp, body="New.\n"), None, art.version, ("en",))
    revs = revisions.history(db_session, art.id)
    assert [r.body for r in revs] == ["New.\n", "Old.\n"] and revs[1].source == "baseline"
