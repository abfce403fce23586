"""Translations share a concept; a translation follows a source and goes stale when it changes."""
from tests.writers.conftest import form, status_step


def _published_source(client, login, create_draft):
    login("admin")
    source_id = create_draft(slug="en-reset", concept="reset", body="Open Settings.\n")
    status_step(client, source_id, "publish", 1)
    return source_id


def test_translate_this_article_prefills_a_linked_draft(client, login, create_draft, article_row):
    source_id = _published_source(client, login, create_draft)
    overview = client.get(f"/write/{source_id}").get_data(as_text=True)
    assert "Translate this article" in overview and 'name="translate_from" value="en-reset"' in overview
    page = client.get("/write/new?translate_from=en-reset&locale=it").get_data(as_text=True)
    assert 'value="it-reset"' in page and 'value="reset"' in page and "Open Settings." in page
    assert '<option selected value="en-reset">' in page or 'selected value="en-reset"' in page
    # the source is shown side by side with the editor
    assert 'class="side-article" lang="en"' in page
    resp = client.post("/write/new", data=form(title="Reimpostare", slug="it-reset", locale="it", concept="reset",
                                               source_slug="en-reset", body="Apri Impostazioni.\n"))
    assert resp.status_code == 302
    tr = article_row("it-reset")
    assert tr.status == "draft" and tr.concept == "reset"


def _translated_pair(client, login, create_draft, article_row):
    source_id = _published_source(client, login, create_draft)
    tr_id = create_draft(title="Reimpostare", slug="it-reset", locale="it", concept="reset",
                         source_slug="en-reset", body="Apri Impostazioni.\n")
    status_step(client, tr_id, "publish", 1)
    return source_id, tr_id


def test_source_edit_flags_translation_stale_until_it_is_updated(client, login, create_draft, article_row):
    source_id, tr_id = _translated_pair(client, login, create_draft, article_row)
    assert "Every translation is up to date" in client.get("/write/").get_data(as_text=True)

    client.post(f"/write/{source_id}/edit", data=form(slug="en-reset", concept="reset",
                                                      body="Open Settings, then Security.\n", version="2"))
    board = client.get("/write/").get_data(as_text=True)
    assert "Stale translations" in board and "Reimpostare" in board
    assert "This translation is stale" in client.get(f"/write/{tr_id}").get_data(as_text=True)
    editor_page = client.get(f"/write/{tr_id}/edit").get_data(as_text=True)
    assert "The source changed" in editor_page and "<ins>, then Security</ins>" in editor_page
    # the public page tells writers, and only writers
    public = client.get("/articles/it-reset").get_data(as_text=True)
    assert "This translation is stale" in public
    client.post("/auth/logout")
    assert "This translation is stale" not in client.get("/articles/it-reset").get_data(as_text=True)

    login("admin")
    client.post(f"/write/{tr_id}/edit", data=form(title="Reimpostare", slug="it-reset", locale="it", concept="reset",
                                                  source_slug="en-reset", body="Apri Impostazioni, poi Sicurezza.\n",
                                                  version="2"))
    assert "Every translation is up to date" in client.get("/write/").get_data(as_text=True)


def test_status_change_of_the_source_does_not_make_it_stale(client, login, create_draft, article_row):
    source_id, tr_id = _translated_pair(client, login, create_draft, article_row)
    status_step(client, source_id, "archive", 2)
    assert "Every translation is up to date" in client.get("/write/").get_data(as_text=True)


def test_import_of_a_changed_source_flags_the_translation(client, login, create_draft, article_row, make_article, runner):
    _translated_pair(client, login, create_draft, article_row)
    path = make_article("en-reset", title="How to reset a password", locale="en", concept="reset",
                        body="A new text from git.")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Reimpostare" in client.get("/write/").get_data(as_text=True).split("Stale translations")[1]


def test_link_an_existing_article_as_a_translation(client, login, create_draft, article_row):
    login("writer")
    create_draft(slug="en-x", concept="x", body="English.\n")
    it_id = create_draft(slug="it-x", locale="it", concept="x", body="Italiano.\n")
    page = client.get(f"/write/{it_id}/edit").get_data(as_text=True)
    assert 'value="en-x"' in page  # offered as a source: same concept
    client.post(f"/write/{it_id}/edit", data=form(slug="it-x", locale="it", concept="x", body="Italiano.\n",
                                                  source_slug="en-x", version="1"))
    overview = client.get(f"/write/{it_id}").get_data(as_text=True)
    assert "This article is a translation of" in overview
    # side by side: ?compare= shows another translation next to the editor
    assert 'class="side-article" lang="en"' in client.get(f"/write/{it_id}/edit?compare=en-x").get_data(as_text=True)
