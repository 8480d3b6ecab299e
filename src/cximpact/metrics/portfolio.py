"""The metrics portfolio a board reads: definitions as data, values per time window.

Every metric is declared once in :data:`PORTFOLIO` (id, horizon, one-sentence definition,
formula, unit, lineage, direction). :func:`compute_portfolio` evaluates all of them over
calendar windows from the stored tables, as pure functions of DataFrames with an explicit
``as_of``. A metric whose data is missing is reported with ``value: None`` and
``status: "no data"`` plus what data would enable it: nothing is invented.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from cximpact.errors import ConfigError
from cximpact.metrics import _book as b
from cximpact.metrics import _compute as c
from cximpact.metrics._compute import Assumptions, MetricInputs, NoData, Window, WindowValue

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

Horizon = Literal["short", "medium", "long"]
WindowKind = Literal["week", "month", "quarter"]
_FREQ: dict[str, str] = {"week": "W-SUN", "month": "M", "quarter": "Q"}


@dataclass(frozen=True)
class MetricDefinition:
    """One metric of the portfolio, declared as data.

    ``lineage`` names the stored ``table.column`` pairs that feed it; ``enabled_by`` says what
    data makes it computable when it reports "no data"; ``breakdown`` names the dimension of
    ``by`` in its values (segment, cohort, issue, channel) or is None.
    """

    id: str
    name: str
    horizon: Horizon
    definition: str
    formula: str
    unit: str
    lineage: tuple[str, ...]
    higher_is_better: bool
    enabled_by: str
    breakdown: str | None = None


_D = MetricDefinition
PORTFOLIO: tuple[MetricDefinition, ...] = (
    _D(
        "cost_per_contact",
        "Cost to serve per contact",
        "short",
        "Average handling cost of one contact in the window.",
        "sum(handling_cost) / contacts; a missing handling_cost counts as setting handling_cost",
        "currency per contact",
        ("interactions.handling_cost", "interactions.timestamp"),
        False,
        "interactions with timestamps (handling_cost sharpens it)",
        "channel",
    ),
    _D(
        "cost_per_customer",
        "Cost to serve per customer",
        "short",
        "Handling cost of the window's contacts spread over the customers active in the window.",
        "sum(handling_cost) / active customers (started before the window's end, not churned "
        "before its start)",
        "currency per active customer per window",
        (
            "interactions.handling_cost",
            "customers.start_date",
            "outcomes.churn_date",
        ),
        False,
        "interactions and customers",
        "segment",
    ),
    _D(
        "first_contact_resolution",
        "First-contact resolution",
        "short",
        "Share of first contacts on a root cause that were resolved and not followed by another "
        "contact on the same root cause within repeat_contact_days.",
        "first contacts with resolved = true and no repeat within N days / first contacts with "
        "a known resolved flag (abandoned contacts excluded)",
        "share of first contacts",
        (
            "interactions.resolved",
            "interactions.timestamp",
            "signals.root_cause",
            "interactions.abandoned",
        ),
        True,
        "the optional interactions.resolved flag",
    ),
    _D(
        "repeat_contact_rate",
        "Repeat enquiries",
        "short",
        "Share of contacts that repeat a contact on the same root cause within "
        "repeat_contact_days.",
        "contacts with repeat_contact = true / contacts",
        "share of contacts",
        ("signals.repeat_contact", "signals.timestamp"),
        False,
        "the signals table (`cximpact run`)",
        "channel",
    ),
    _D(
        "abandonment_rate",
        "Abandonment",
        "short",
        "Share of contacts in which the customer left the queue before reaching an agent.",
        "contacts with abandoned = true / contacts with a known abandoned flag",
        "share of contacts",
        ("interactions.abandoned", "interactions.timestamp", "interactions.channel"),
        False,
        "the optional interactions.abandoned flag (telephony or chat queue exports)",
        "channel",
    ),
    _D(
        "status_contact_share",
        "Share of status contacts",
        "short",
        "Share of contacts that only ask where something stands (delivery, refund, outage), "
        "which proactive status notifications could prevent.",
        "contacts whose root_cause is in setting metrics_status_root_causes / contacts",
        "share of contacts",
        ("signals.root_cause", "signals.timestamp"),
        False,
        "the signals table (`cximpact run`)",
    ),
    _D(
        "time_to_resolution_hours",
        "Time to resolution",
        "short",
        "Median time from the first contact of a thread (contacts of one customer on one root "
        "cause, each within repeat_contact_days of the last) to the end of its resolving "
        "contact.",
        "median over threads resolved in the window of (last contact time - first contact "
        "time + last contact duration_seconds) / 3600",
        "hours",
        (
            "interactions.timestamp",
            "interactions.resolved",
            "interactions.duration_seconds",
            "signals.root_cause",
        ),
        False,
        "the optional interactions.resolved flag (a resolved_at time would make it exact)",
    ),
    _D(
        "ltv_by_segment",
        "Lifetime value of the book by segment",
        "medium",
        "Total lifetime value of the customers active at the window's end, by segment; its "
        "change between windows is the movement from customers won and lost.",
        "sum(customer_values.value) over customers started before and not churned by the "
        "window's end, grouped by segment",
        "currency",
        (
            "customer_values.value",
            "customers.segment",
            "customers.start_date",
            "outcomes.churn_date",
        ),
        True,
        "the customer_values table (`cximpact run`)",
        "segment",
    ),
    _D(
        "ltv_by_cohort",
        "Lifetime value of the book by cohort",
        "medium",
        "Total lifetime value of the customers active at the window's end, by the year they "
        "joined.",
        "sum(customer_values.value) over active customers, grouped by year(start_date)",
        "currency",
        ("customer_values.value", "customers.start_date", "outcomes.churn_date"),
        True,
        "the customer_values table (`cximpact run`)",
        "cohort",
    ),
    _D(
        "high_value_retention",
        "Retention of high-value customers",
        "medium",
        "Share of the most valuable customers (top metrics_high_value_share by lifetime value) "
        "active at the window's start who had not churned by its end.",
        "high-value customers active at start and not churned in [start, end) / high-value "
        "customers active at start",
        "share of customers",
        ("customer_values.value", "customers.start_date", "outcomes.churn_date"),
        True,
        "the customer_values table (`cximpact run`) and churn outcomes",
        "segment",
    ),
    _D(
        "margin_by_segment",
        "Margin after cost to serve, by segment",
        "medium",
        "Gross margin on the window's transactions minus the handling cost of the window's "
        "contacts, by segment.",
        "sum(amount * monthly_margin / monthly_revenue) - sum(handling_cost); customers "
        "without both use setting purchase_margin_rate",
        "currency per window",
        (
            "transactions.amount",
            "customers.monthly_margin",
            "customers.monthly_revenue",
            "interactions.handling_cost",
        ),
        True,
        "transactions (billing or order exports)",
        "segment",
    ),
    _D(
        "exposure_trend",
        "Exposure trend",
        "medium",
        "Revenue at risk attributable to issues, counted in the window where the customer "
        "contacted about the issue.",
        "sum(customer_exposure.revenue_at_risk) over distinct (customer, issue) pairs with a "
        "contact on that issue in the window",
        "currency",
        (
            "customer_exposure.revenue_at_risk",
            "signals.root_cause",
            "signals.timestamp",
        ),
        False,
        "the signals and customer_exposure tables (`cximpact run`)",
        "issue",
    ),
    _D(
        "revenue_predictability",
        "Revenue predictability",
        "long",
        "Share of the window's revenue that comes from customers who also paid in the "
        "previous window (recurring revenue).",
        "revenue from customers with revenue in the previous window / revenue in the window "
        "(before the first window: the period of equal length)",
        "share of revenue",
        ("transactions.amount", "transactions.timestamp", "transactions.customer_id"),
        True,
        "transactions covering the window and the period before it",
    ),
    _D(
        "share_of_wallet",
        "Share of wallet",
        "long",
        "Share of what customers spend in the category that they spend with the company.",
        "revenue from the customer / the customer's total category spend",
        "share of spend",
        ("customers.products", "customers.monthly_revenue"),
        True,
        "a product catalogue (products offered per segment) or wallet estimates (each "
        "customer's total category spend); neither is part of the data contracts yet",
        "segment",
    ),
    _D(
        "ebitda_impact",
        "Estimated EBITDA impact of CX issues",
        "long",
        "Yearly EBITDA the issues raised in the window put at stake: margin of customers they "
        "may drive away plus the cost of the contacts they cause.",
        "sum(attributable_probability * annual margin) * metrics_lost_year_share + "
        "handling_cost of contacts on issues with exposure * 365 / window days",
        "currency per year",
        (
            "customer_exposure.attributable_probability",
            "customers.monthly_margin",
            "customers.monthly_revenue",
            "signals.root_cause",
            "signals.handling_cost",
            "issue_exposure.revenue_at_risk",
        ),
        False,
        "the signals, customer_exposure and issue_exposure tables (`cximpact run`)",
    ),
)
METRIC_IDS: tuple[str, ...] = tuple(m.id for m in PORTFOLIO)

_Compute = Callable[[MetricInputs, Sequence[Window], Assumptions], list[WindowValue]]
_COMPUTE: dict[str, _Compute] = {
    "cost_per_contact": c.cost_per_contact,
    "cost_per_customer": c.cost_per_customer,
    "first_contact_resolution": c.first_contact_resolution,
    "repeat_contact_rate": c.repeat_contact_rate,
    "abandonment_rate": c.abandonment_rate,
    "status_contact_share": c.status_contact_share,
    "time_to_resolution_hours": c.time_to_resolution_hours,
    "ltv_by_segment": b.ltv_by_segment,
    "ltv_by_cohort": b.ltv_by_cohort,
    "high_value_retention": b.high_value_retention,
    "margin_by_segment": b.margin_by_segment,
    "exposure_trend": b.exposure_trend,
    "revenue_predictability": b.revenue_predictability,
    "share_of_wallet": b.share_of_wallet,
    "ebitda_impact": b.ebitda_impact,
}


@dataclass(frozen=True)
class MetricResult:
    """A metric's definition with its values per window."""

    definition: MetricDefinition
    values: list[WindowValue]
    note: str | None = None
    status: str = field(init=False)

    def __post_init__(self) -> None:
        known = any(v.value is not None for v in self.values)
        object.__setattr__(self, "status", "ok" if known else "no data")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the definition's fields, status, note and values per window."""
        d = self.definition
        return {
            "id": d.id,
            "name": d.name,
            "horizon": d.horizon,
            "definition": d.definition,
            "formula": d.formula,
            "unit": d.unit,
            "lineage": list(d.lineage),
            "higher_is_better": d.higher_is_better,
            "breakdown": d.breakdown,
            "status": self.status,
            "enabled_by": d.enabled_by if self.status == "no data" else None,
            "note": self.note,
            "values": [v.to_dict() for v in self.values],
        }


def make_windows(start: pd.Timestamp, end: pd.Timestamp, window: str) -> list[Window]:
    """Calendar windows (ISO weeks, months or quarters) covering ``[start, end)``, clipped.

    Raises
    ------
    ConfigError
        Unknown ``window``, or ``end`` not after ``start``.
    """
    if window not in _FREQ:
        raise ConfigError(f"--window must be one of {sorted(_FREQ)}; got {window!r}")
    if end <= start:
        raise ConfigError(
            f"--to ({end.date()}) must be after --from ({start.date()}); pass a later --to"
        )
    periods = pd.period_range(start, end - pd.Timedelta(seconds=1), freq=_FREQ[window])
    windows = []
    for p in periods:  # a handful of calendar periods, not rows
        begin, stop = max(p.start_time, start), min((p + 1).start_time, end)
        label = (
            f"{begin.isocalendar()[0]}-W{begin.isocalendar()[1]:02d}"
            if window == "week"
            else str(p)
        )
        windows.append(Window(label, begin, stop))
    return windows


def compute_portfolio(
    inputs: MetricInputs,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    window: str = "month",
    assumptions: Assumptions | None = None,
) -> list[MetricResult]:
    """Every metric of :data:`PORTFOLIO` over the calendar windows of ``[start, end)``.

    Only facts dated before ``inputs.as_of`` are used. A metric whose inputs are missing comes
    back with every value None and ``status == "no data"``; the reason is its ``note``.
    """
    assumptions = assumptions or Assumptions()
    windows = make_windows(start, end, window)
    facts = inputs.until_as_of()
    results = []
    for definition in PORTFOLIO:
        try:
            values = _COMPUTE[definition.id](facts, windows, assumptions)
            results.append(MetricResult(definition, c.with_changes(values)))
        except NoData as missing:
            empty = [WindowValue(w.label, w.start, w.end, None, str(missing)) for w in windows]
            results.append(MetricResult(definition, empty, note=str(missing)))
    return results


def order_by_headline(results: list[MetricResult], headline: Sequence[str]) -> list[MetricResult]:
    """``results`` with the ``headline`` metrics first, in the order given, the rest after."""
    rank = {metric_id: i for i, metric_id in enumerate(headline)}
    return sorted(results, key=lambda r: rank.get(r.definition.id, len(rank)))
