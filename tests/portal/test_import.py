"""Import edge cases: every bad file is reported with its path and reason, nothing else breaks."""
from sqlalchemy import func, select

from portal.importer import import_paths
from portal.models import Article

LOCALES = ("it", "ro", "en")


def _run(db_session, *paths):
    report, changed = import_paths(db_session, [str(p) for p in paths], LOCALES)
    return {r.path.rsplit("/", 1)[-1]: r for r in report.results}, report, changed


def test_create_then_unchanged_then_updated(db_session, make_article):
    path = make_article("it-sla", title="Accordo sul livello di servizio", body="Testo.")
    results, report, changed = _run(db_session, path.parent)
    assert results["it-sla.md"].status == "created" and len(changed) == 1
    results, report, changed = _run(db_session, path.parent)
    assert results["it-sla.md"].status == "unchanged" and changed == []
    make_article("it-sla", title="Accordo sul livello di servizio", body="Testo nuovo.")
    results, _, changed = _run(db_session, path.parent)
    assert results["it-sla.md"].status == "updated"
    article = db_session.scalar(select(Article).where(Article.slug == "it-sla"))
    assert "Testo nuovo." in article.html and article.version == 2


def test_missing_front_matter(db_session, tmp_path):
    bad = tmp_path / "a" / "plain.md"
    bad.parent.mkdir()
    bad.write_text("# Only a heading\n\nNo front matter.\n")
    results, report, _ = _run(db_session, bad.parent)
    assert results["plain.md"].status == "failed"
    assert "front matter" in results["plain.md"].reason and report.failed


def test_bad_yaml_reports_reason_and_others_still_import(db_session, make_article, tmp_path):
    good = make_article("it-good", title="Buono")
    bad = good.parent / "bad.md"
    bad.write_text('---\ntitle: "unclosed\nlocale: it\n---\nbody\n')
    results, report, _ = _run(db_session, good.parent)
    assert results["bad.md"].status == "failed" and "YAML" in results["bad.md"].reason
    assert results["it-good.md"].status == "created"
    assert report.summary() == "1 created, 0 updated, 0 unchanged, 1 failed"


def test_duplicate_slug_in_one_import(db_session, make_article):
    first = make_article("dup-a", title="Uno")
    second = first.parent / "dup-b.md"
    second.write_text(first.read_text().replace("title: \"Uno\"", "title: \"Due\"").replace("slug: dup-a\n", "slug: dup-a\n"))
    results, _, _ = _run(db_session, first.parent)
    statuses = sorted(r.status for r in results.values())
    assert statuses == ["created", "failed"]
    failed = next(r for r in results.values() if r.status == "failed")
    assert "dup-a" in failed.reason and "also used by" in failed.reason
    assert db_session.scalar(select(Article.title).where(Article.slug == "dup-a")) == "Uno"


def test_unknown_locale(db_session, make_article):
    path = make_article("xx-a", locale="fr")
    results, _, _ = _run(db_session, path)
    assert results["xx-a.md"].status == "failed" and "'locale'" in results["xx-a.md"].reason


def test_non_utf8_file(db_session, tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes("---\ntitle: Perché\nlocale: it\n---\nCorpo è\n".encode("latin-1"))
    results, _, _ = _run(db_session, path)
    assert results["latin1.md"].status == "failed" and "UTF-8" in results["latin1.md"].reason


def test_empty_body(db_session, make_article):
    path = make_article("it-empty", body="")
    path.write_text(path.read_text().split("# ")[0])
    results, _, _ = _run(db_session, path)
    assert results["it-empty.md"].status == "failed" and "empty" in results["it-empty.md"].reason


def test_missing_path_is_reported(db_session, tmp_path):
    results, report, _ = _run(db_session, tmp_path / "nope")
    assert report.failed and results["nope"].reason == "no such file or folder"


def test_bad_file_never_corrupts_stored_article(db_session, make_article):
    path = make_article("it-keep", title="Da tenere", body="Originale.")
    _run(db_session, path)
    path.write_text(path.read_text().replace("locale: it", "locale: zz").replace("Originale.", "Rotto."))
    results, _, _ = _run(db_session, path)
    assert results["it-keep.md"].status == "failed"
    article = db_session.scalar(select(Article).where(Article.slug == "it-keep"))
    assert "Originale." in article.body and article.locale == "it"


def test_unknown_keys_are_kept(db_session, make_article):
    path = make_article("it-extra")
    path.write_text(path.read_text().replace("status: published", "status: published\nowner: team-a\nreviewed: 2026-01-02"))
    _run(db_session, path)
    article = db_session.scalar(select(Article).where(Article.slug == "it-extra"))
    assert article.extra == {"owner": "team-a", "reviewed": "2026-01-02"}


def test_defaults_slug_from_title_and_title_from_heading(db_session, tmp_path):
    path = tmp_path / "x.md"
    path.write_text("---\nlocale: ro\ncategory: Ghid Utilizare\n---\n# Cum caut un articol?\n\nText.\n")
    results, _, _ = _run(db_session, path)
    assert results["x.md"].slug == "cum-caut-un-articol"
    article = db_session.scalar(select(Article).where(Article.slug == "cum-caut-un-articol"))
    assert article.title == "Cum caut un articol?" and article.category.slug == "ghid-utilizare"
    assert article.status == "published"


def test_starter_articles_import_cleanly(db_session):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "articles"
    _, report, _ = _run(db_session, root)
    assert not report.failed, [(r.path, r.reason) for r in report.results if r.status == "failed"]
    assert db_session.scalar(select(func.count(Article.id))) >= 120
