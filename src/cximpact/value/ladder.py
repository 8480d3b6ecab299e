"""The value ladder: each customer's lifetime value at the best resolution available.

1. ``finance``  — the finance feed's value (or the customers export's ``finance_ltv``);
2. ``segment``  — the customer's monthly margin times the segment's typical ratio of finance
   LTV to monthly margin (plain segment average where margin is missing), with the segment's
   10th–90th percentile ratio as the interval;
3. ``default``  — the configured default value, when a segment has no finance values at all.

Computed models (BG/NBD, survival) slot in between 1 and 2 in a later version.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["VALUE_SOURCES", "estimate_values"]

VALUE_SOURCES = ("finance", "model", "segment", "default")


def _finance_values(customers: pd.DataFrame, finance: pd.DataFrame | None) -> pd.Series:
    values = customers.set_index("id")["finance_ltv"].astype(float)
    if finance is not None and len(finance):
        feed = finance.drop_duplicates("customer_id", keep="last").set_index("customer_id")["ltv"]
        values = feed.astype(float).reindex(values.index).fillna(values)
    return values


def estimate_values(
    customers: pd.DataFrame, finance: pd.DataFrame | None, *, default_ltv: float
) -> pd.DataFrame:
    """Lifetime value per customer with its source and interval.

    Parameters
    ----------
    customers
        Customers contract frame (``id``, ``segment``, ``monthly_margin``, ``finance_ltv`` ...).
    finance
        Finance feed (``customer_id``, ``ltv``) or ``None``.
    default_ltv
        Value (currency) used when nothing better exists.

    Returns
    -------
    DataFrame
        ``customer_id, segment, value, value_low, value_high, value_source`` (currency).
    """
    finance_value = _finance_values(customers, finance)
    frame = customers.set_index("id")[["segment", "monthly_margin", "monthly_revenue"]].copy()
    margin = frame["monthly_margin"].fillna(frame["monthly_revenue"] * 0.4).astype(float)
    known = finance_value.notna() & (margin > 0)
    ratio = (finance_value / margin).where(known)
    by_segment = ratio.groupby(frame["segment"])
    mid = frame["segment"].map(by_segment.median())
    low = frame["segment"].map(by_segment.quantile(0.1))
    high = frame["segment"].map(by_segment.quantile(0.9))
    segment_mean = frame["segment"].map(finance_value.groupby(frame["segment"]).mean())

    has_ratio = mid.notna() & (margin > 0)
    segment_value = np.where(has_ratio, margin * mid, segment_mean)
    out = pd.DataFrame(index=frame.index)
    out["segment"] = frame["segment"]
    out["value"] = finance_value.fillna(pd.Series(segment_value, index=frame.index)).fillna(
        default_ltv
    )
    out["value_low"] = np.where(has_ratio, margin * low, out["value"])
    out["value_high"] = np.where(has_ratio, margin * high, out["value"])
    source = np.where(
        finance_value.notna(), "finance", np.where(pd.notna(segment_value), "segment", "default")
    )
    out["value_source"] = source
    is_point = out["value_source"] != "segment"
    out.loc[is_point, "value_low"] = out.loc[is_point, "value"]
    out.loc[is_point, "value_high"] = out.loc[is_point, "value"]
    return out.rename_axis("customer_id").reset_index()
