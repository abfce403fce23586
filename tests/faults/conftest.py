"""Fault tests run real processes (gunicorn, the CLI) on a fresh home folder, on SQLite."""
import pytest

from tests import servers


def pytest_collection_modifyitems(config, items):
    """On the PostgreSQL run these would repeat the SQLite run's processes: skip them there."""
    if config.getoption("--postgres", default=False):
        skip = pytest.mark.skip(reason="fault tests run on SQLite in the first pass; on PostgreSQL, "
                                       "crash safety is the server's own")
        for item in items:
            if "tests/faults/" in item.nodeid:
                item.add_marker(skip)


@pytest.fixture
def home(tmp_path):
    """A fresh, initialized home folder (no articles yet) and its environment."""
    folder = tmp_path / "home"
    env = servers.home_env(folder)
    env.pop("SPORTELLO_DATABASE_URL", None)
    servers.sportello(env, "init")
    return folder, env


@pytest.fixture
def server_factory(tmp_path):
    """Start gunicorn servers on a home; every one is stopped at the end of the test."""
    started = []

    def start(env, **kwargs):
        server = servers.Server(env, log=tmp_path / f"gunicorn-{len(started)}.log", **kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
