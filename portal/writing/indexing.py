"""Keep the search indexes in step after a writer's commit."""
from portal import indexing


def reindex(article, was_public):
    """Index a published article; drop one that stopped being published."""
    if article.is_public:
        indexing.articles_changed(upserted=[article])
    elif was_public:
        indexing.articles_changed(removed=[article])
