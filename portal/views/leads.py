"""The support leads' dashboard: self-service ratio, deflection, searches, failing articles, gaps."""
from flask import Blueprint, abort, current_app, render_template, request

from portal import csvsafe, metrics, tracking
from portal.auth import role_required
from portal.db import get_session
from portal.tracking import report

bp = Blueprint("leads", __name__, url_prefix="/leads")


@bp.before_request
def _write_pending_events():
    """Every page here reads figures: include the events this process still holds."""
    tracking.flush()


def _period():
    """Return (start, end, grain, error) from ?from=&to=&grain=; an error falls back to 30 days."""
    today = tracking.now().date()
    error = None
    try:
        start, end = metrics.parse_range(request.args.get("from"), request.args.get("to"), today)
    except metrics.RangeError as exc:
        error = f"{exc.field}: {exc}"
        start, end = metrics.parse_range(None, None, today)
    grain = request.args.get("grain")
    if grain not in metrics.GRAINS:
        grain = metrics.default_grain(start, end)
    return start, end, grain, error


@bp.get("/")
@role_required("lead")
def dashboard():
    """The dashboard for the chosen period, with the change against the previous one."""
    start, end, grain, error = _period()
    board = report.build_dashboard(get_session(), start, end, grain, tracking.now())
    # A bad period still shows the last 30 days, with a 400 and the field named.
    return render_template("leads/dashboard.html", board=board, error=error,
                           definitions=metrics.DEFINITIONS, grains=metrics.GRAINS), 400 if error else 200


def _encoder():
    from search.encoders import get_encoder

    return get_encoder(current_app.config["EMBEDDING_MODEL"])


def _gaps(start, end):
    threshold = float(current_app.config.get("GAP_SIMILARITY", report.DEFAULT_THRESHOLD))
    return report.build_gaps(get_session(), start, end, _encoder(), threshold)


@bp.get("/gaps")
@role_required("lead")
def gaps():
    """Content gaps: failed searches and escalated queries grouped by meaning."""
    start, end, grain, error = _period()
    return render_template("leads/gaps.html", gaps=_gaps(start, end), start=start, end=end,
                           grain=grain, error=error, definitions=metrics.DEFINITIONS), 400 if error else 200


@bp.get("/export/<table>.csv")
@role_required("lead")
def export(table):
    """One dashboard table as CSV for the chosen period."""
    start, end, grain, _error = _period()
    if table == "gaps":
        header, rows = report.gap_table(_gaps(start, end))
    else:
        tables = report.tables(report.build_dashboard(get_session(), start, end, grain, tracking.now()))
        if table not in tables:
            abort(404)
        header, rows = tables[table]
    return csvsafe.response(f"sportello-{table}-{start}-{end}.csv", header, rows)


def export_names():
    """The names of the tables that can be exported."""
    return ["summary", "series", "searches", "top-queries", "no-result-queries", "no-click-queries",
            "failing-articles", "helpful", "self-served-articles", "gaps"]
