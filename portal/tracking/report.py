"""The leads' dashboard as plain data: figures from portal.metrics, tables for HTML and CSV."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from portal import metrics
from portal.tracking import charts
from portal.tracking.gaps import DEFAULT_THRESHOLD, group_queries


@dataclass
class Dashboard:
    """Everything the dashboard shows for one period."""

    start: date
    end: date
    grain: str
    current: metrics.SelfService
    previous: metrics.SelfService
    series: list[metrics.SelfService]
    searches: metrics.SearchReport
    failing: list[metrics.FailingArticle]
    helpful: list[metrics.ArticleVotes]
    top_served: list[tuple[str, int]]
    titles: dict[str, str]

    def changes(self):
        """Return {figure: (current, previous, change)} for the headline figures."""
        out = {}
        for name in ("self_service_ratio", "self_service_ratio_with_inferred", "deflection_rate"):
            cur, prev = getattr(self.current, name), getattr(self.previous, name)
            out[name] = (cur, prev, metrics.change(cur, prev))
        for name in ("visits", "self_served", "self_served_inferred", "escalated", "tickets", "excluded_visits"):
            cur, prev = getattr(self.current.counts, name), getattr(self.previous.counts, name)
            out[name] = (cur, prev, cur - prev)
        return out

    def charts(self):
        """Return the charts over time: outcomes, deflection rate, self-service ratios."""
        labels = [_label(item.start, self.grain) for item in self.series]
        outcomes = charts.stacked_bars("Visits by outcome", labels, [
            ("Self-served", "c-served", [s.counts.self_served for s in self.series]),
            ("Self-served (inferred)", "c-inferred", [s.counts.self_served_inferred for s in self.series]),
            ("Escalated", "c-escalated", [s.counts.escalated for s in self.series]),
            ("Other visits", "c-other", [s.counts.visits - s.counts.self_served - s.counts.self_served_inferred
                                        - s.counts.escalated for s in self.series]),
        ])
        deflection = charts.line_chart("Deflection rate", labels, [
            ("Deflection rate", "c-served", [s.deflection_rate for s in self.series])], percent=True)
        ratios = charts.line_chart("Self-service ratio", labels, [
            ("Self-service ratio", "c-served", [s.self_service_ratio for s in self.series]),
            ("With inferred", "c-inferred", [s.self_service_ratio_with_inferred for s in self.series]),
        ])
        return [outcomes, deflection, ratios]

    def title(self, slug):
        """Return the article's title, or its slug when it is gone."""
        return self.titles.get(slug, slug)


def _label(day: date, grain: str) -> str:
    return {"day": day.strftime("%m-%d"), "week": day.strftime("%G-W%V"), "month": day.strftime("%Y-%m")}[grain]


def build_dashboard(session, start: date, end: date, grain: str, now: datetime, limit: int = 20) -> Dashboard:
    """Compute every figure and table of the dashboard for [start, end]."""
    from portal.tracking import article_titles

    prev_start, prev_end = metrics.previous_period(start, end)
    votes = metrics.helpful_by_article(session, start, end)
    failing = metrics.failing_articles(session, start, end, limit, votes=votes)
    series = metrics.series(session, start, end, grain, now)
    helpful = sorted(votes.values(), key=lambda v: (v.helpful_pct if v.helpful_pct is not None else 2,
                                                   -(v.yes + v.no), v.article))[:limit]
    top_served = metrics.top_self_served_articles(session, start, end, limit)
    slugs = {f.article for f in failing} | {v.article for v in helpful} | {s for s, _ in top_served}
    return Dashboard(
        start=start, end=end, grain=grain,
        current=metrics.total(series),  # one pass over the visits serves the chart and the totals
        previous=metrics.self_service(session, prev_start, prev_end, now),
        series=series,
        searches=metrics.search_report(session, start, end, limit),
        failing=failing, helpful=helpful, top_served=top_served,
        titles=article_titles(session, slugs),
    )


def _pct(value):
    return "" if value is None else f"{value:.4f}"


def tables(board: Dashboard) -> dict[str, tuple[list[str], list[list]]]:
    """Return every dashboard table as (header, rows), for the CSV export."""
    s = board.searches
    query_header = ["query", "searches", "no_result", "no_click", "clicked", "ctr"]
    query_rows = lambda rows: [[q.query, q.searches, q.no_result, q.no_click, q.clicked, _pct(q.ctr)]  # noqa: E731
                               for q in rows]
    return {
        "summary": (["figure", "current", "previous", "change"],
                    [[name, *(_pct(v) if isinstance(v, float) else ("" if v is None else v) for v in values)]
                     for name, values in board.changes().items()]),
        "series": (["from", "to", "visits", "self_served", "self_served_inferred", "escalated", "tickets",
                    "self_service_ratio", "self_service_ratio_with_inferred", "deflection_rate"],
                   [[i.start.isoformat(), i.end.isoformat(), i.counts.visits, i.counts.self_served,
                     i.counts.self_served_inferred, i.counts.escalated, i.counts.tickets,
                     _pct(i.self_service_ratio), _pct(i.self_service_ratio_with_inferred),
                     _pct(i.deflection_rate)] for i in board.series]),
        "searches": (["searches", "no_result", "no_click", "clicked", "ctr"],
                     [[s.searches, s.no_result, s.no_click, s.clicked, _pct(s.ctr)]]),
        "top-queries": (query_header, query_rows(s.top)),
        "no-result-queries": (query_header, query_rows(s.no_result_queries)),
        "no-click-queries": (query_header, query_rows(s.no_click_queries)),
        "failing-articles": (["article", "title", "visits_escalated_after_reading", "helpful_yes", "helpful_no",
                              "helpful_pct"],
                             [[f.article, board.title(f.article), f.before_ticket, f.votes.yes, f.votes.no,
                               _pct(f.votes.helpful_pct)] for f in board.failing]),
        "helpful": (["article", "title", "yes", "no", "helpful_pct"],
                    [[v.article, board.title(v.article), v.yes, v.no, _pct(v.helpful_pct)] for v in board.helpful]),
        "self-served-articles": (["article", "title", "self_served_visits"],
                                 [[slug, board.title(slug), n] for slug, n in board.top_served]),
    }


def build_gaps(session, start: date, end: date, encoder, threshold: float = DEFAULT_THRESHOLD, limit: int = 300):
    """Group the failed and escalated queries of [start, end] by meaning."""
    return group_queries(metrics.gap_queries(session, start, end, limit), encoder, threshold)


def gap_table(gaps) -> tuple[list[str], list[list]]:
    """Return the content gaps as (header, rows), for the CSV export."""
    return (["label", "size", "queries", "sources", "examples"],
            [[g.label, g.size, len(g.queries), " ".join(sorted(g.sources)), " | ".join(g.examples)]
             for g in gaps])
