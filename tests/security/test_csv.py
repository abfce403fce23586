"""CSV cells neutralized everywhere: a cell a spreadsheet would read as a formula gets a quote."""
import csv
import io

import pytest

from portal import csvsafe
from tests.portal.tickets_helpers import staff_client


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-5", "-5"), ("0.25", "0.25"), (None, ""), (3, 3), ("plain", "plain"),
])
def test_cells(value, expected):
    assert csvsafe.cell(value) == expected


def test_the_ticket_kpi_csv_neutralizes_agent_names(app):
    from portal.db import get_session
    from portal.models import User

    agent = staff_client(app, "agent", name="=cmd|' /C calc'!A0")
    app.test_client().post("/api/tickets", json={"email": "ana@example.com", "subject": "The invoice is wrong",
                                                 "body": "The amount on my last invoice does not match."})
    with app.app_context():
        me = get_session().query(User).filter_by(email="agent@example.com").one()
    page = agent.get("/agent/tickets/1").get_data(as_text=True)
    import re

    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    agent.post("/agent/tickets/1/claim", data={"version": version})
    lead = staff_client(app, "lead")
    body = lead.get("/agent/kpis/export.csv?table=agent").get_data(as_text=True)
    labels = [row[1] for row in csv.reader(io.StringIO(body))][1:]
    assert labels and all(not label.startswith(("=", "+", "-", "@")) for label in labels), labels
    assert any(label.startswith("'=cmd") for label in labels) and me.id
