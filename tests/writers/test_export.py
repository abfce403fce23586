"""`sportello export` writes the files `sportello import` reads: the round trip loses nothing."""
from sqlalchemy import select

from portal.kb import to_data
from portal.models import Article
from tests.conftest import make_app

ODD = """---
title: "Colon: quotes \\" and accents àèì"
slug: en-odd
locale: en
category: Billing & Plans
tags: [yes, "1", two words, ünïcode]
concept: odd
status: archived
summary: "Line one: with colon"
reviewed_by: Maria
review_date: 2024-05-01
nested: {a: [1, 2, {b: null}], c: true}
---
# Heading

Body with `code`, a table:

| a | b |
|---|---|
| 1 | 2 |
"""


def _all(app):
    from portal.db import get_session

    with app.app_context():
        return {a.slug: to_data(a) for a in get_session().scalars(select(Article))}


def test_export_then_import_round_trips_every_field(tmp_path, app, runner, make_article, client, login):
    make_article("it-frt", title="Tempo di prima risposta", locale="it", status="published", concept="frt")
    make_article("ro-frt", title="Timpul primului răspuns", locale="ro", status="review", concept="frt")
    make_article("it-draft", title="Bozza", locale="it", status="draft", tags="")
    (tmp_path / "articles" / "odd.md").write_text(ODD, encoding="utf-8")
    assert runner.invoke(args=["import", str(tmp_path / "articles")]).exit_code == 0
    login("writer")
    client.post("/write/new", data={"title": "Made in the browser", "locale": "en", "category": "guide",
                                    "tags": "a, b", "summary": "", "body": "Text.\n", "action": "save"})
    before = _all(app)
    assert before["en-odd"].extra["nested"] == {"a": [1, 2, {"b": None}], "c": True}
    assert before["en-odd"].tags[1:] == ("1", "two words", "ünïcode")

    out = tmp_path / "export"
    result = runner.invoke(args=["export", str(out)])
    assert result.exit_code == 0 and "5 article(s)" in result.output
    assert (out / "en" / "billing-plans" / "en-odd.md").is_file()
    assert (out / "it" / "glossary" / "it-draft.md").is_file()
    assert not list(out.rglob("*.tmp"))

    # into a fresh install: every field of every article comes back equal
    # a separate install (its own SQLite file), whatever database the suite runs on
    other = make_app(tmp_path / "other", DATABASE_URL=f"sqlite:///{tmp_path / 'other.db'}")
    result = other.test_cli_runner().invoke(args=["import", str(out)])
    assert result.exit_code == 0, result.output
    after = _all(other)
    assert after == before
    # and back into the same install: nothing changed
    result = runner.invoke(args=["import", str(out)])
    assert "0 created, 0 updated, 5 unchanged, 0 failed" in result.output
    # exporting the copy gives byte-identical files
    out2 = tmp_path / "export2"
    other.test_cli_runner().invoke(args=["export", str(out2)])
    files = sorted(p.relative_to(out) for p in out.rglob("*.md"))
    assert files == sorted(p.relative_to(out2) for p in out2.rglob("*.md"))
    assert all((out / f).read_bytes() == (out2 / f).read_bytes() for f in files)
    other.extensions["sportello.engine"].dispose()
