"""Searches through /search and GET /api/search are recorded; result links carry ?q= and ?pos=."""
import re

import pytest
from sqlalchemy import select

from tests.conftest import make_app, write_article


@pytest.fixture
def search_app(tmp_path):
    app = make_app(tmp_path)
    if "search.api_search" not in app.view_functions:
        pytest.skip("search views not installed")
    src = tmp_path / "articles"
    write_article(src, "en-refund", title="Refund not showing up", locale="en", body="Why is my refund late?")
    write_article(src, "en-invoice", title="Download an invoice", locale="en", body="Invoices live under billing.")
    result = app.test_cli_runner().invoke(args=["import", str(src)])
    assert result.exit_code == 0, result.output
    return app


def events(app):
    from portal.db import get_session
    from portal.tracking.models import Event

    with app.app_context():
        return [(e.kind, e.query, e.results, e.article, e.position, e.clicked)
                for e in get_session().scalars(select(Event).order_by(Event.id))]


def test_search_page_click_and_report(search_app):
    client = search_app.test_client()
    page = client.get("/search?q=refund").get_data(as_text=True)
    link = re.search(r'href="(/articles/en-refund\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "q=refund" in link and "pos=1" in link
    client.get("/search?q=refund&page=2")  # another page of the same search: not a new search
    client.get(link)
    client.get("/api/search?q=zzzqqq&mode=keyword")
    kinds = events(search_app)
    assert [k[0] for k in kinds] == ["search", "click", "view", "search"]
    assert kinds[0][1] == "refund" and kinds[0][2] >= 1 and kinds[0][5] is True
    assert kinds[1][3:5] == ("en-refund", 1)
    assert kinds[3][2] == 0

    from portal import metrics
    from portal.db import get_session
    from portal.tracking import now

    with search_app.app_context():
        today = now().date()
        report = metrics.search_report(get_session(), today, today)
    assert (report.searches, report.no_result, report.clicked, report.no_click) == (2, 1, 1, 0)
