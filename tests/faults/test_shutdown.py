"""A clean stop (SIGTERM) writes every view and search the workers still hold in their buffers."""
import sqlite3
import urllib.request

import pytest

from tests import servers
from tests.conftest import write_article

pytestmark = pytest.mark.slow


def test_a_clean_stop_loses_no_view_or_search(home, server_factory, tmp_path):
    folder, env = home
    write_article(tmp_path / "kb", "alpha", title="Alpha", locale="en", body="Alpha body text.")
    servers.sportello(env, "import", tmp_path / "kb")
    # A minute between writes: whatever is in the database afterwards was written by the stop.
    server = server_factory({**env, "SPORTELLO_TRACKING_FLUSH_SECONDS": "60"}, workers=2, threads=4)
    browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"}
    cookies = []
    for _ in range(5):  # five visitors, each with the cookie the portal issued (and signed)
        with urllib.request.urlopen(urllib.request.Request(server.url + "/", headers=browser), timeout=10) as resp:
            cookies.append(resp.headers["Set-Cookie"].split(";", 1)[0])
    for n in range(40):
        path = "/articles/alpha" if n % 4 else "/search?q=alpha+body"
        req = urllib.request.Request(server.url + path, headers={**browser, "Cookie": cookies[n % 5]})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
    db = sqlite3.connect(folder / "sportello.db")
    try:
        assert db.execute("SELECT count(*) FROM tracking_events").fetchone()[0] == 0  # all still buffered
        server.stop()
        assert db.execute("SELECT views FROM articles WHERE slug = 'alpha'").fetchone()[0] == 30
        assert db.execute("SELECT count(*) FROM tracking_events WHERE kind = 'view'").fetchone()[0] == 30
        assert db.execute("SELECT count(*) FROM tracking_events WHERE kind = 'search'").fetchone()[0] == 10
        assert db.execute("SELECT sum(views), sum(searches) FROM tracking_visits").fetchone() == (30, 10)
    finally:
        db.close()
