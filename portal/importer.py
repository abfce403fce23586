"""Import of article files: upsert by slug, one file per transaction, a report per file."""
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from portal.content import ArticleFormatError, parse_article
from portal.writing.editor import save_imported


@dataclass
class FileResult:
    """What happened to one file: created, updated, unchanged or failed (with the reason)."""

    path: str
    status: str
    slug: str = ""
    reason: str = ""


@dataclass
class ImportReport:
    """The outcome of one import run."""

    results: list = field(default_factory=list)

    def count(self, status):
        """Return how many files ended with this status."""
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self):
        """True when at least one file failed."""
        return self.count("failed") > 0

    def summary(self):
        """Return a one-line summary of the counts."""
        parts = [f"{self.count(s)} {s}" for s in ("created", "updated", "unchanged", "failed")]
        return ", ".join(parts)


def find_files(paths):
    """Yield (path, error) for every markdown file under the given files or folders."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from ((p, None) for p in sorted(path.rglob("*.md")) if p.is_file())
        elif path.is_file():
            yield path, None
        else:
            yield path, "no such file or folder"


def import_paths(session, paths, locales):
    """Upsert the articles found under paths; return an ImportReport and the changed articles."""
    report, changed, seen = ImportReport(), [], {}
    for path, error in find_files(paths):
        if error:
            report.results.append(FileResult(str(path), "failed", reason=error))
            continue
        try:
            text = path.read_bytes().decode("utf-8")
            data = parse_article(text, locales)
            if data.slug in seen:
                raise ArticleFormatError(f"slug {data.slug!r} is also used by {seen[data.slug]}")
            seen[data.slug] = str(path)
            article, status = save_imported(session, data)
            session.commit()
        except UnicodeDecodeError as exc:
            session.rollback()
            report.results.append(FileResult(str(path), "failed", reason=f"not UTF-8 text (byte {exc.start})"))
            continue
        except (ArticleFormatError, OSError) as exc:
            session.rollback()
            report.results.append(FileResult(str(path), "failed", reason=str(exc)))
            continue
        except SQLAlchemyError as exc:
            # One file's database error (a constraint, a lock) must not stop the others.
            session.rollback()
            reason = f"database refused it: {exc.__class__.__name__}: {getattr(exc, 'orig', exc)}"
            report.results.append(FileResult(str(path), "failed", reason=reason))
            continue
        report.results.append(FileResult(str(path), status, slug=data.slug))
        if status != "unchanged":
            changed.append(article)
    return report, changed
