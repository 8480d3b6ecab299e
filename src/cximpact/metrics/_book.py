"""The portfolio's medium- and long-term formulas: the book of customers, margin, exposure,
recurring revenue and EBITDA. Same contract as :mod:`._compute`: pure functions, one per metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cximpact.metrics._compute import (
    Assumptions,
    MetricInputs,
    NoData,
    Window,
    WindowValue,
    _churn_dates,
    _costs,
    _need,
    window_index,
)

__all__ = [
    "ebitda_impact",
    "exposure_trend",
    "high_value_retention",
    "ltv_by_cohort",
    "ltv_by_segment",
    "margin_by_segment",
    "revenue_predictability",
    "share_of_wallet",
]


# -- medium term ---------------------------------------------------------------------------


def _customer_value(inputs: MetricInputs) -> pd.Series:
    """Each customer's value (order of ``inputs.customers``; NaN where none is stored)."""
    _need(
        inputs.customer_values,
        ["customer_id", "value"],
        "the customer_values table (`cximpact run`)",
    )
    value = inputs.customers["id"].map(inputs.customer_values.set_index("customer_id")["value"])
    return value.astype(float)


def _book_value(
    inputs: MetricInputs, windows: Sequence[Window], keys: pd.Series
) -> list[WindowValue]:
    """Total customer value of the customers active at each window's end, by ``keys``."""
    value = _customer_value(inputs).fillna(0.0)
    churn = _churn_dates(inputs).to_numpy()
    started = pd.to_datetime(inputs.customers["start_date"]).to_numpy()
    out = []
    for w in windows:
        end = w.end.to_datetime64()
        active = (started < end) & (np.isnat(churn) | (churn >= end))
        by = value[active].groupby(keys[active].to_numpy()).sum()
        out.append(
            WindowValue(
                w.label,
                w.start,
                w.end,
                float(value[active].sum()),
                by={str(k): float(v) for k, v in by.items()},
            )
        )
    return out


def ltv_by_segment(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """Book value (sum of customer LTV) at each window's end, by segment."""
    return _book_value(inputs, windows, inputs.customers["segment"].astype(str))


def ltv_by_cohort(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """Book value at each window's end, by the year customers joined."""
    year = pd.to_datetime(inputs.customers["start_date"]).dt.year.astype(str)
    return _book_value(inputs, windows, year)


def high_value_retention(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """High-value customers active at start still active at end / those active at start."""
    value = _customer_value(inputs)
    high = (value >= value.quantile(1 - a.high_value_share)).to_numpy()
    churn = _churn_dates(inputs).to_numpy()
    started = pd.to_datetime(inputs.customers["start_date"]).to_numpy()
    segment = inputs.customers["segment"].astype(str).to_numpy()
    out = []
    for w in windows:
        begin, end = w.start.to_datetime64(), w.end.to_datetime64()
        base = high & (started < begin) & (np.isnat(churn) | (churn >= begin))
        kept = base & (np.isnat(churn) | (churn >= end))
        if not base.any():
            out.append(
                WindowValue(
                    w.label, w.start, w.end, None, "no high-value customer active at the start"
                )
            )
            continue
        frame = pd.DataFrame({"base": base[base], "kept": kept[base], "g": segment[base]})
        by = frame.groupby("g")["kept"].mean()
        out.append(
            WindowValue(
                w.label,
                w.start,
                w.end,
                float(kept.sum() / base.sum()),
                by={str(k): float(v) for k, v in by.items()},
            )
        )
    return out


def _margin_ratio(customers: pd.DataFrame, a: Assumptions) -> pd.Series:
    """Margin share of revenue per customer id; ``purchase_margin_rate`` without both columns."""
    revenue = customers["monthly_revenue"].astype(float) if "monthly_revenue" in customers else None
    margin = customers["monthly_margin"].astype(float) if "monthly_margin" in customers else None
    ratio = pd.Series(a.purchase_margin_rate, index=customers.index)
    if revenue is not None and margin is not None:
        known = (revenue > 0) & margin.notna()
        ratio[known] = (margin[known] / revenue[known]).clip(0, 1)
    return pd.Series(ratio.to_numpy(), index=customers["id"])


def margin_by_segment(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """Gross margin of the window's transactions minus its handling cost, by segment."""
    t = inputs.transactions
    _need(t, ["amount", "timestamp", "customer_id"], "transactions (billing or order exports)")
    segment = inputs.customers.set_index("id")["segment"].astype(str)
    ratio = _margin_ratio(inputs.customers, a)
    gross = t["amount"].astype(float) * t["customer_id"].map(ratio).fillna(a.purchase_margin_rate)
    contacts = inputs.interactions
    cost = _costs(contacts, a)
    t_index = window_index(t["timestamp"], windows)
    c_index = window_index(contacts["timestamp"], windows)
    t_seg = t["customer_id"].map(segment).fillna("unknown")
    c_seg = contacts["customer_id"].map(segment).fillna("unknown")
    out = []
    for k, w in enumerate(windows):
        if not (t_index == k).any():
            out.append(WindowValue(w.label, w.start, w.end, None, "no transactions in the window"))
            continue
        g = gross[t_index == k].groupby(t_seg[t_index == k]).sum()
        s = cost[c_index == k].groupby(c_seg[c_index == k]).sum()
        by = g.sub(s, fill_value=0.0)
        out.append(
            WindowValue(
                w.label,
                w.start,
                w.end,
                float(by.sum()),
                by={str(k2): float(v) for k2, v in by.items()},
                components={"gross_margin": float(g.sum()), "cost_to_serve": float(s.sum())},
            )
        )
    return out


def _issue_pairs(inputs: MetricInputs, windows: Sequence[Window]) -> pd.DataFrame:
    """Distinct (window, customer, issue) of contacts, joined to the customer's exposure."""
    s, ce = inputs.signals, inputs.customer_exposure
    enable = "the signals and customer_exposure tables (`cximpact run`)"
    _need(s, ["root_cause", "timestamp", "customer_id"], enable)
    _need(ce, ["customer_id", "issue", "revenue_at_risk"], enable)
    pairs = pd.DataFrame(
        {
            "w": window_index(s["timestamp"], windows),
            "customer_id": s["customer_id"],
            "issue": s["root_cause"],
        }
    )
    pairs = pairs[pairs["w"] >= 0].drop_duplicates()
    return pairs.merge(ce, on=["customer_id", "issue"], how="inner")


def exposure_trend(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """Revenue at risk of (customer, issue) pairs with a contact on the issue in the window."""
    pairs = _issue_pairs(inputs, windows)
    total = pairs.groupby("w")["revenue_at_risk"].sum()
    by_issue = pairs.groupby(["w", "issue"])["revenue_at_risk"].sum()
    out = []
    for k, w in enumerate(windows):
        value = float(total.get(k, 0.0))
        by = (
            by_issue[by_issue.index.get_level_values(0) == k]
            .droplevel(0)
            .sort_values(ascending=False)
        )
        out.append(
            WindowValue(
                w.label, w.start, w.end, value, by={str(i): float(v) for i, v in by.items()}
            )
        )
    return out


# -- long term -----------------------------------------------------------------------------


def revenue_predictability(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """Revenue from customers who also paid in the preceding period / revenue in the window."""
    t = inputs.transactions
    _need(t, ["amount", "timestamp", "customer_id"], "transactions (billing or order exports)")
    stamps = pd.to_datetime(t["timestamp"])
    first = stamps.min()
    out = []
    for k, w in enumerate(windows):
        # the previous calendar window (a month before a month), or as long before the first
        prior_start = windows[k - 1].start if k else w.start - (w.end - w.start)
        inside = (stamps >= w.start) & (stamps < w.end)
        before = (stamps >= prior_start) & (stamps < w.start)
        total = float(t.loc[inside, "amount"].sum())
        if first >= w.start or total <= 0:
            note = (
                "no transactions before the window"
                if first >= w.start
                else "no revenue in the window"
            )
            out.append(WindowValue(w.label, w.start, w.end, None, note))
            continue
        repeat = t.loc[inside, "customer_id"].isin(set(t.loc[before, "customer_id"]))
        out.append(
            WindowValue(
                w.label, w.start, w.end, float(t.loc[inside, "amount"][repeat].sum()) / total
            )
        )
    return out


def share_of_wallet(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """Not computable from the data contracts: there is no product catalogue or wallet size."""
    raise NoData(
        "no data: needs a product catalogue (products offered per segment) or each customer's "
        "total category spend; the data contracts hold neither"
    )


def ebitda_impact(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """Lost yearly margin of issue-driven churn plus annualised cost of issue contacts."""
    pairs = _issue_pairs(inputs, windows)
    _need(inputs.issue_exposure, ["issue", "revenue_at_risk"], "the issue_exposure table")
    customers = inputs.customers.set_index("id")
    revenue = customers["monthly_revenue"].astype(float)
    margin = (
        customers["monthly_margin"].astype(float)
        if "monthly_margin" in customers
        else revenue * np.nan
    )
    annual = (margin.fillna(revenue * a.purchase_margin_rate) * 12).fillna(0.0)
    lost = pairs["attributable_probability"].astype(float) * pairs["customer_id"].map(
        annual
    ).fillna(0.0)
    lost_by_window = lost.groupby(pairs["w"]).sum() * a.lost_year_share
    exposed = set(inputs.issue_exposure.loc[inputs.issue_exposure["revenue_at_risk"] > 0, "issue"])
    s = inputs.signals
    on_issue = s["root_cause"].isin(exposed)
    index = window_index(s["timestamp"], windows)
    cost = _costs(s, a)[on_issue].groupby(index[on_issue.to_numpy()]).sum()
    out = []
    for k, w in enumerate(windows):
        lost_k = float(lost_by_window.get(k, 0.0))
        cost_k = float(cost.get(k, 0.0)) * 365.0 / max(w.days, 1e-9)
        out.append(
            WindowValue(
                w.label,
                w.start,
                w.end,
                lost_k + cost_k,
                components={"lost_margin": lost_k, "avoidable_cost_to_serve": cost_k},
            )
        )
    return out
