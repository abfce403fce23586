"""Search: a plain library (no Flask) with keyword, semantic and hybrid backends."""
