"""Migration 0003 creates exactly the tables the ticket models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ticketing.models import Base


def test_migration_matches_models(app):
    engine = app.extensions["sportello.engine"]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    ours = {t.name for t in Base.metadata.sorted_tables}

    def concerns_us(entry):
        if isinstance(entry, list):
            return any(concerns_us(e) for e in entry)
        obj = entry[1] if len(entry) > 1 else None
        table = getattr(obj, "table", obj)
        name = getattr(table, "name", None) or (entry[2] if len(entry) > 2 and isinstance(entry[2], str) else None)
        return name in ours

    assert [d for d in diff if concerns_us(d)] == []


def test_revision_chain():
    from pathlib import Path
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "portal" / "migrations" / "versions" / "0003_tickets.py"
    spec = importlib.util.spec_from_file_location("m0003", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (module.revision, module.down_revision) == ("0003", "0001")
