"""Migration 0006: searches keep their answered flag; older query figures count no-answer as no-result."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from portal.db import Base, make_engine, upgrade


def test_tracking_tables_match_the_models(app):
    engine = app.extensions["sportello.engine"]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    ours = {"tracking_events", "tracking_query_days"}

    def concerns_us(entry):
        if isinstance(entry, list):
            return any(concerns_us(e) for e in entry)
        return any(getattr(part, "name", part) in ours for part in entry if isinstance(part, str)) or \
            any(getattr(getattr(part, "table", None), "name", None) in ours for part in entry)

    assert [d for d in diff if concerns_us(d)] == []


def test_upgrade_keeps_older_figures(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tracking_query_days (day, query_norm, searches, no_result, clicked) "
                          "VALUES ('2026-03-10', 'xqzv', 5, 3, 0), ('2026-03-10', 'refund', 4, 0, 2)"))
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT query_norm, no_result, no_answer FROM tracking_query_days "
                                 "ORDER BY query_norm")).all()
        columns = {row[1] for row in conn.execute(text("PRAGMA table_info(tracking_events)"))}
    assert [tuple(r) for r in rows] == [("refund", 0, 0), ("xqzv", 3, 3)]
    assert "answered" in columns
    engine.dispose()


def test_revision_chain():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "portal" / "migrations" / "versions" / "0006_answered.py"
    spec = importlib.util.spec_from_file_location("m0006", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (module.revision, module.down_revision) == ("0006", "0002")
