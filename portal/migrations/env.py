"""Alembic environment: runs on the engine handed over by portal.db.upgrade."""
from alembic import context

from portal.db import Base, make_engine
import portal.models  # noqa: F401  (registers the tables on Base.metadata)
import portal.tracking.models  # noqa: F401  (deflection tracking tables, same metadata)

config = context.config
target_metadata = [Base.metadata]
try:  # ticketing keeps its own metadata so that it never imports the portal
    from ticketing.models import Base as TicketBase

    target_metadata.append(TicketBase.metadata)
except ImportError:
    pass


def run_migrations_online():
    """Run migrations on the given engine (or one made from sqlalchemy.url)."""
    engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


run_migrations_online()
