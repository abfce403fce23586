"""The ticket KPIs for leads: figures with their definitions, per agent/group/category, over
time, and CSV export of every table."""
from datetime import timedelta

from flask import Blueprint, abort, render_template, request

from portal import csvsafe
from portal import tickets as desk
from portal.auth import role_required
from portal.db import get_session
from portal.ticket_forms import CATEGORY_LABELS, RangeForm
from portal.views.tickets_api import parse_range
from ticketing import kpis
from ticketing.errors import TicketError

bp = Blueprint("ticket_kpis", __name__, url_prefix="/agent/kpis")
TABLES = ("summary", "agent", "group", "category", "over_time")


@bp.before_request
@role_required("lead")
def _leads_only():
    """Leads and admins only."""


def _report():
    """Parse the range from the query string and compute the report (or the form's errors)."""
    form = RangeForm(request.args)
    try:
        start, end = parse_range({"from": form.start.data, "to": form.end.data})
    except TicketError as exc:
        form.start.errors = [exc.fields.get("from")] if exc.fields.get("from") else []
        form.end.errors = [exc.fields.get("to")] if exc.fields.get("to") else []
        start, end = parse_range({})
    interval = form.interval.data if form.interval.data in ("day", "week", "month") else "week"
    session = get_session()
    report = kpis.report(session, start, end, now=desk.now(), interval=interval)
    names = desk.user_names(session, [row["key"] for row in report["by_agent"]])
    for row in report["by_agent"]:
        row["label"] = names.get(row["key"]) or ("unassigned" if row["key"] is None else f"#{row['key']}")
    for row in report["by_category"]:
        row["label"] = CATEGORY_LABELS.get(row["key"], row["key"])
    for row in report["by_group"]:
        row["label"] = row["key"]
    form.start.data, form.end.data = start.date().isoformat(), (end - timedelta(days=1)).date().isoformat()
    return form, report, interval


@bp.get("/", endpoint="dashboard")
def dashboard():
    """The KPI page."""
    form, report, interval = _report()
    # The CSV links repeat the period only: passing request.args on let ?endpoint= or ?_method=
    # reach url_for as its own arguments (a 500).
    range_args = {"start": form.start.data, "end": form.end.data, "interval": interval}
    return render_template("agents/kpis.html", form=form, report=report, interval=interval,
                           definitions=kpis.DEFINITIONS, figures=kpis.FIGURES, range_args=range_args), \
        400 if form.errors else 200


@bp.get("/export.csv")
def export():
    """One table of the KPI page as CSV: ?table=summary|agent|group|category|over_time."""
    table = request.args.get("table", "summary")
    if table not in TABLES:
        abort(400)
    form, report, interval = _report()
    if table == "summary":
        header = ["figure", "value", "definition"]
        rows = [[name, report[name], kpis.DEFINITIONS[name]] for name in kpis.FIGURES]
    else:
        source = report["over_time"] if table == "over_time" else report[f"by_{table}"]
        header = (["start", "end"] if table == "over_time" else [table, "label"]) + list(kpis.FIGURES)
        rows = [([row["start"], row["end"]] if table == "over_time" else [row["key"], row["label"]])
                + [row[name] for name in kpis.FIGURES] for row in source]
    # Every cell through csvsafe: agents' names are typed by people (=cmd|... ran as a formula).
    return csvsafe.response(f"ticket-kpis-{table}-{form.start.data}-{form.end.data}.csv", header, rows)
