"""Fixtures for the plain ticket services: a fresh SQLite file per test and a settable clock."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

from ticketing.models import Base

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start=T0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **delta):
        """Move forward by a timedelta's keyword arguments and return the new time."""
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def engine(tmp_path):
    """A SQLite file with the ticket tables (no portal involved)."""
    eng = create_engine(f"sqlite:///{tmp_path / 'tickets.db'}", connect_args={"timeout": 30})

    @event.listens_for(eng, "connect")
    def _pragmas(conn, _record):
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA journal_mode=WAL")

    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def make_session(engine):
    """A session factory on the test database."""
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def session(make_session):
    """One session on the test database."""
    with make_session() as s:
        yield s


@pytest.fixture
def clock():
    """A clock starting on Monday 2026-03-02 09:00 UTC."""
    return Clock()
