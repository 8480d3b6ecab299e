"""Metrics a board reads: the portfolio over time windows, strategy presets, the investment
calculator and the board report.

``cximpact.metrics.presets`` and ``cximpact.metrics.invest`` hold the full interfaces of the
presets and the calculator; the names most callers need are re-exported here.
"""

from __future__ import annotations

from cximpact.metrics.board import build_board, write_board
from cximpact.metrics.invest import evaluate_investment, load_initiatives
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
from cximpact.metrics.presets import StrategyPreset, load_presets, prioritise

__all__ = [
    "METRIC_IDS",
    "PORTFOLIO",
    "Assumptions",
    "MetricDefinition",
    "MetricInputs",
    "MetricResult",
    "StrategyPreset",
    "Window",
    "WindowValue",
    "build_board",
    "compute_portfolio",
    "evaluate_investment",
    "load_initiatives",
    "load_presets",
    "make_windows",
    "order_by_headline",
    "prioritise",
    "write_board",
]
