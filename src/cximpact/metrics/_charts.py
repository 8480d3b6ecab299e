"""Charts of the board report, drawn with matplotlib (Agg, no display, no browser).

Each chart is returned twice: as an inline SVG string for the HTML and as PNG bytes for the
PDF. SVG ids are salted with a constant so the same numbers give the same file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Chart", "exposure_chart", "issues_chart", "portfolio_chart"]

_BLUE, _RED, _GREY = "#1f4e79", "#b03a2e", "#7f8c8d"


@dataclass(frozen=True)
class Chart:
    """One chart as inline SVG markup and as PNG bytes."""

    title: str
    svg: str
    png: bytes


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    return fig


def _render(title: str, fig: Figure) -> Chart:
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "cximpact-board", "svg.fonttype": "none"}):
        svg_buffer = io.StringIO()
        fig.savefig(svg_buffer, format="svg", metadata={"Date": None})
    png_buffer = io.BytesIO()
    fig.savefig(png_buffer, format="png", metadata={"Software": None})
    svg = svg_buffer.getvalue()
    return Chart(title, svg[svg.index("<svg") :], png_buffer.getvalue())


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)


def exposure_chart(trend: list[dict[str, Any]]) -> Chart:
    """Bars of revenue at risk raised per window (currency)."""
    fig = _figure(7.0, 2.6)
    ax = fig.add_subplot()
    labels = [str(t["window"]) for t in trend]
    values = [float(t["value"] or 0.0) for t in trend]
    ax.bar(labels, values, color=_RED)
    ax.set_ylabel("revenue at risk", fontsize=8)
    ax.yaxis.set_major_formatter(
        lambda v, _: f"${v / 1e3:,.0f}k" if abs(v) >= 1e3 else f"${v:,.0f}"
    )
    ax.tick_params(axis="x", rotation=45 if len(labels) > 8 else 0)
    _style(ax)
    return _render("Exposure trend: revenue at risk raised per window", fig)


def issues_chart(issues: list[dict[str, Any]]) -> Chart:
    """Horizontal bars of the top issues' attributable revenue at risk."""
    fig = _figure(7.0, 0.5 + 0.4 * max(len(issues), 1))
    ax = fig.add_subplot()
    names = [str(i["issue"]) for i in issues][::-1]
    values = [float(i["revenue_at_risk"]) for i in issues][::-1]
    ax.barh(names, values, color=_BLUE)
    ax.xaxis.set_major_formatter(
        lambda v, _: f"${v / 1e3:,.0f}k" if abs(v) >= 1e3 else f"${v:,.0f}"
    )
    _style(ax)
    return _render("Top issues by revenue at risk", fig)


def portfolio_chart(metrics: list[dict[str, Any]], columns: int = 3) -> Chart:
    """Small multiples: one line per metric with values over the windows."""
    shown = [m for m in metrics if m["status"] == "ok"]
    rows = max(1, -(-len(shown) // columns))
    fig = _figure(7.5, 1.55 * rows)
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax, metric in zip(axes.flat, shown, strict=False):
        labels = [v["window"] for v in metric["values"]]
        values = [float("nan") if v["value"] is None else v["value"] for v in metric["values"]]
        ax.plot(range(len(values)), values, marker="o", markersize=2.5, color=_BLUE)
        ax.set_title(metric["name"], fontsize=7.5)
        ax.set_xticks([0, len(labels) - 1], [labels[0], labels[-1]] if labels else [])
        ax.tick_params(labelsize=6)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(shown) :]:
        ax.set_visible(False)
    return _render("The portfolio over the windows", fig)
