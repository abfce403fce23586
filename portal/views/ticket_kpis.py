"""The ticket KPIs for leads: figures with their definitions, per agent/group/category, over
time, and CSV export of every table."""
import csv
import io
from datetime import timedelta

from flask import Blueprint, Response, abort, render_template, request

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
    return render_template("agents/kpis.html", form=form, report=report, interval=interval,
                           definitions=kpis.DEFINITIONS, figures=kpis.FIGURES, args=request.args)


@bp.get("/export.csv")
def export():
    """One table of the KPI page as CSV: ?table=summary|agent|group|category|over_time."""
    table = request.args.get("table", "summary")
    if table not in TABLES:
        abort(400)
    form, report, interval = _report()
    out = io.StringIO()
    writer = csv.writer(out)
    if table == "summary":
        writer.writerow(["figure", "value", "definition"])
        for name in kpis.FIGURES:
            writer.writerow([name, _cell(report[name]), kpis.DEFINITIONS[name]])
    else:
        rows = report["over_time"] if table == "over_time" else report[f"by_{table}"]
        head = ["start", "end"] if table == "over_time" else [table, "label"]
        writer.writerow(head + list(kpis.FIGURES))
        for row in rows:
            first = [row["start"], row["end"]] if table == "over_time" else [_cell(row["key"]), row["label"]]
            writer.writerow(first + [_cell(row[name]) for name in kpis.FIGURES])
    filename = f"ticket-kpis-{table}-{form.start.data}-{form.end.data}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _cell(value):
    """CSV cells: empty for undefined figures, never the string 'None'."""
    if value is None:
        return ""
    text = str(value)
    # A cell starting with = + - @ is read as a formula by spreadsheets; quote it.
    return "'" + text if text[:1] in ("=", "+", "@") or (text[:1] == "-" and not _number(text)) else text


def _number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False
