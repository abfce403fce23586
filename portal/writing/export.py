"""`sportello export`: every article back to the files that `sportello import` reads."""
import os
import tempfile
from pathlib import Path

from sqlalchemy import select

from portal.content import dump_article
from portal.kb import to_data
from portal.models import Article


def export_articles(session, folder):
    """Write each article (all statuses) to folder/<locale>/<category>/<slug>.md; return the paths."""
    folder = Path(folder)
    written = []
    for article in session.scalars(select(Article).order_by(Article.locale, Article.slug)):
        data = to_data(article)
        path = folder / data.locale / data.category / f"{data.slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, dump_article(data))
        written.append(path)
    return written


def _write_atomically(path, text):
    """Replace the file in one step, so an interrupted export never leaves half an article."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
