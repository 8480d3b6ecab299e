"""Metrics a board reads: the portfolio over time windows and the board report."""

from __future__ import annotations

from cximpact.metrics.portfolio import (
    METRIC_IDS,
    PORTFOLIO,
    Assumptions,
    MetricDefinition,
    MetricInputs,
    MetricResult,
    Window,
    WindowValue,
    compute_portfolio,
    make_windows,
    order_by_headline,
)

__all__ = [
    "METRIC_IDS",
    "PORTFOLIO",
    "Assumptions",
    "MetricDefinition",
    "MetricInputs",
    "MetricResult",
    "Window",
    "WindowValue",
    "compute_portfolio",
    "make_windows",
    "order_by_headline",
]
