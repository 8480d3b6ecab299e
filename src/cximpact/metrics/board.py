"""The board report: exposure and its trend, top issues with owners and due dates, verdicts of
closed cases, the portfolio with charts, and a narrative generated from the numbers.

:func:`build_board` is pure (DataFrames and case dicts in, one JSON-ready dict out);
:func:`write_board` renders it to a self-contained ``board.html`` (inline CSS, inline SVG
charts, nothing fetched) and ``board.pdf`` (fpdf2, fonts shipped by matplotlib).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import jinja2
import pandas as pd
from markupsafe import Markup

from cximpact.metrics._charts import Chart, exposure_chart, issues_chart, portfolio_chart
from cximpact.metrics._narrative import (
    fmt_change,
    fmt_value,
    llm_narrative,
    narrative_facts,
    template_narrative,
)
from cximpact.metrics._pdf import write_pdf
from cximpact.metrics.portfolio import (
    Assumptions,
    MetricInputs,
    MetricResult,
    compute_portfolio,
    order_by_headline,
)
from cximpact.settings import Settings

__all__ = ["build_board", "metric_summary", "render_html", "write_board"]


def metric_summary(result: MetricResult, headline: Sequence[str] = ()) -> dict[str, Any]:
    """A metric's JSON with its latest known value, change and whether that is better."""
    out = result.to_dict()
    known = [v for v in out["values"] if v["value"] is not None]
    last = known[-1] if known else None
    change = last["change"] if last else None
    out |= {
        "latest": last["value"] if last else None,
        "window": last["window"] if last else None,
        "change": change,
        "improving": None
        if change is None or change == 0
        else (change > 0) == result.definition.higher_is_better,
        "headline": result.definition.id in headline,
    }
    return out


def _case_for(issue: str, cases: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The issue's open case, else its latest case."""
    mine = [c for c in cases if c["issue"] == issue]
    open_ = [c for c in mine if c["state"] not in ("closed", "dismissed")]
    chosen = open_ or mine
    return max(chosen, key=lambda c: int(c["id"])) if chosen else None


def _top_issues(
    issues: pd.DataFrame, cases: list[dict[str, Any]], top: int
) -> list[dict[str, Any]]:
    if issues.empty:
        return []
    rows = issues[issues["revenue_at_risk"] > 0].sort_values("revenue_at_risk", ascending=False)
    out = []
    for _, issue in rows.head(top).iterrows():  # a handful of issues, not rows of data
        case = _case_for(str(issue["issue"]), cases)
        out.append(
            {
                "issue": str(issue["issue"]),
                "revenue_at_risk": float(issue["revenue_at_risk"]),
                "share_of_exposure": float(issue.get("share_of_exposure", 0.0)),
                "customers": int(issue["customers"]),
                "case_id": None if case is None else int(case["id"]),
                "owner": None if case is None else case["owner"],
                "team": None if case is None else case["team"],
                "due": None if case is None else case["due"],
                "state": None if case is None else case["state"],
                "severity": None if case is None else case["severity"],
            }
        )
    return out


def _verdicts(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Closed cases with a measured churn effect (``cases measure --close``), newest first."""
    out = []
    for case in cases:
        result = case.get("measurement_result") or {}
        churn = result.get("churn") or {}
        if case["state"] != "closed" or "estimate" not in churn:
            continue
        exposure = result.get("exposure") or {}
        out.append(
            {
                "case_id": int(case["id"]),
                "issue": case["issue"],
                "verdict": case.get("verdict") or result.get("verdict"),
                "method": churn.get("method", result.get("method")),
                "estimate": float(churn["estimate"]),
                "low": float(churn["low"]),
                "high": float(churn["high"]),
                "exposure_estimate": exposure.get("estimate"),
                "complete": result.get("complete"),
                "closed_at": case.get("closed_at"),
            }
        )
    return sorted(out, key=lambda v: str(v["closed_at"]), reverse=True)


def _days(value: dict[str, Any]) -> float:
    return float((pd.Timestamp(value["end"]) - pd.Timestamp(value["start"])).days)


def _headline(inputs: MetricInputs, trend: dict[str, Any]) -> dict[str, Any]:
    issues, exposure = inputs.issue_exposure, inputs.customer_exposure
    values = [v for v in trend["values"] if v["value"] is not None]
    # the first and last windows may be clipped by --from/--to: compare exposure per day
    rates = [v["value"] / max(_days(v), 1.0) for v in values]
    first, last = (rates[0], rates[-1]) if rates else (None, None)
    exposed = issues[issues["revenue_at_risk"] > 0] if not issues.empty else issues
    return {
        "scored": not issues.empty,
        "exposure": float(exposed["revenue_at_risk"].sum()) if not exposed.empty else 0.0,
        "issues": len(exposed),
        "customers": int(exposure["customer_id"].nunique()) if not exposure.empty else 0,
        "trend": [{"window": v["window"], "value": v["value"]} for v in trend["values"]],
        "trend_change": (last - first) / first if first else None,
    }


def build_board(
    inputs: MetricInputs,
    cases: list[dict[str, Any]],
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    window: str = "month",
    assumptions: Assumptions | None = None,
    preset: str | None = None,
    headline: Sequence[str] = (),
    top: int = 5,
) -> dict[str, Any]:
    """Every number of the board report, JSON-ready; the narrative is the template's.

    ``end`` is exclusive; ``period_to`` shows the last day included.
    """
    results = order_by_headline(
        compute_portfolio(inputs, start=start, end=end, window=window, assumptions=assumptions),
        headline,
    )
    metrics = [metric_summary(r, headline) for r in results]
    trend = next(m for m in metrics if m["id"] == "exposure_trend")
    report: dict[str, Any] = {
        "period_from": start.date().isoformat(),
        "period_to": (end - pd.Timedelta(days=1)).date().isoformat(),
        "as_of": inputs.as_of.isoformat(),
        "window": window,
        "preset": preset,
        "headline": _headline(inputs, trend),
        "top_issues": _top_issues(inputs.issue_exposure, cases, top),
        "verdicts": _verdicts(cases),
        "metrics": metrics,
        "headline_metrics": [m for m in metrics if m["headline"]],
    }
    report["narrative"] = template_narrative(report)
    report["narrative_source"] = "template"
    return report


_HTML = jinja2.Environment(
    loader=jinja2.PackageLoader("cximpact.metrics", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)
_HTML.filters["value"] = fmt_value
_HTML.filters["change"] = fmt_change


def _charts(report: dict[str, Any]) -> dict[str, Chart]:
    return {
        "exposure": exposure_chart(report["headline"]["trend"]),
        "issues": issues_chart(report["top_issues"]),
        "portfolio": portfolio_chart(report["metrics"]),
    }


def render_html(report: dict[str, Any], charts: dict[str, Chart]) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no external URL)."""
    svg = {name: Markup(c.svg) for name, c in charts.items()}
    return _HTML.get_template("board.html.j2").render(report=report, charts=svg)


def write_board(
    report: dict[str, Any],
    out: Path,
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, Path]:
    """Write ``board.html`` and ``board.pdf`` (and ``board.json``) into ``out``.

    With setting ``report_llm_url`` the narrative comes from the LLM (sent only
    :func:`~cximpact.metrics._narrative.narrative_facts`); on failure, the template's.
    """
    narrative = llm_narrative(narrative_facts(report), settings, transport=transport)
    if narrative is not None:
        report = report | {"narrative": narrative, "narrative_source": "llm"}
    charts = _charts(report)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"html": out / "board.html", "pdf": out / "board.pdf", "json": out / "board.json"}
    paths["html"].write_text(render_html(report, charts), encoding="utf-8")
    write_pdf(report, charts, paths["pdf"])
    paths["json"].write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return paths
