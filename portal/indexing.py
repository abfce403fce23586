"""The one call that keeps the search indexes in step with committed article changes."""
from flask import current_app


def articles_changed(upserted=(), removed=()):
    """Tell the search service which articles were saved or deleted (after the commit)."""
    service = current_app.extensions.get("sportello.search")
    if service is not None and (upserted or removed):
        service.apply(list(upserted), list(removed))
