"""The value ladder: each customer's lifetime value at the best resolution available.

1. ``finance`` — the finance feed's value (or the customers export's ``finance_ltv``);
2. ``model``   — a customer-level model of the company's own history (computed by the caller,
   see :func:`cximpact.value.models.model_values`): a survival model times margin for
   subscription customers (:mod:`cximpact.value.survival`), BG/NBD with Gamma-Gamma spend for
   purchase histories (:mod:`cximpact.value.bgnbd`);
3. ``segment`` — the customer's monthly margin times the segment's median ratio of finance LTV
   to monthly margin, calibrated on the company's own finance values (plain segment mean where
   margin is missing); interval: the segment's 10th–90th percentile ratio;
4. ``model``   — no finance value in the segment either: the retention formula of Gupta &
   Lehmann (2003), ``LTV = m * r / (1 + d - r)`` with ``m`` the annual margin, ``r`` the annual
   retention rate and ``d`` the discount rate; interval from retention ± 5 points;
5. ``default`` — the configured default value.

``value_source`` is one of ``finance | model | segment | default``; ``value_method`` names the
exact rung (``finance_feed``, ``survival``, ``bgnbd_gamma_gamma``, ``segment_ratio``,
``segment_mean``, ``retention_formula``, ``default``). Every interval contains its value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["VALUE_SOURCES", "estimate_values", "retention_ltv"]

VALUE_SOURCES = ("finance", "segment", "model", "default")


def retention_ltv(annual_margin: np.ndarray, retention: float, discount_rate: float) -> np.ndarray:
    """Gupta–Lehmann lifetime value, ``m * r / (1 + d - r)`` (currency)."""
    r = float(np.clip(retention, 0.0, 0.99))
    out: np.ndarray = annual_margin * r / (1.0 + discount_rate - r)
    return out


def _finance_values(customers: pd.DataFrame, finance: pd.DataFrame | None) -> pd.Series:
    values = customers.set_index("id")["finance_ltv"].astype(float)
    if finance is not None and len(finance):
        feed = finance.drop_duplicates("customer_id", keep="last").set_index("customer_id")["ltv"]
        values = feed.astype(float).reindex(values.index).fillna(values)
    return values


def _segment_rung(
    frame: pd.DataFrame, finance_value: pd.Series, margin: pd.Series
) -> tuple[pd.Series, pd.Series, pd.Series]:
    ratio = (finance_value / margin).where(finance_value.notna() & (margin > 0))
    by_segment = ratio.groupby(frame["segment"])
    has_ratio = frame["segment"].map(by_segment.median()).notna() & (margin > 0)
    mid = margin * frame["segment"].map(by_segment.median())
    low = margin * frame["segment"].map(by_segment.quantile(0.1))
    high = margin * frame["segment"].map(by_segment.quantile(0.9))
    mean = frame["segment"].map(finance_value.groupby(frame["segment"]).mean())
    return mid.where(has_ratio, mean), low.where(has_ratio, mean), high.where(has_ratio, mean)


def estimate_values(
    customers: pd.DataFrame,
    finance: pd.DataFrame | None,
    *,
    default_ltv: float,
    annual_churn: float = 0.10,
    discount_rate: float = 0.10,
    model_values: pd.DataFrame | None = None,
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
    annual_churn
        Annual churn rate for the retention formula (observed or prior).
    discount_rate
        Annual discount rate for the retention formula.
    model_values
        Customer-level model values, indexed by customer id, with ``value``, ``value_low``,
        ``value_high`` and ``method`` (for example from
        :func:`cximpact.value.models.model_values`), or ``None``.

    Returns
    -------
    DataFrame
        ``customer_id, segment, value, value_low, value_high, value_source, value_method``.
    """
    frame = customers.set_index("id")
    finance_value = _finance_values(customers, finance)
    margin = frame["monthly_margin"].astype(float)
    seg_mid, seg_low, seg_high = _segment_rung(frame, finance_value, margin)
    annual = 12.0 * margin.to_numpy()
    retention = 1.0 - annual_churn
    formula = pd.Series(retention_ltv(annual, retention, discount_rate), index=frame.index)
    formula_low = pd.Series(
        retention_ltv(annual, retention - 0.05, discount_rate), index=frame.index
    )
    formula_high = pd.Series(
        retention_ltv(annual, retention + 0.05, discount_rate), index=frame.index
    )
    has_ratio = seg_mid.notna() & (margin > 0) & frame["segment"].notna()
    seg_method = pd.Series(np.where(has_ratio, "segment_ratio", "segment_mean"), frame.index)
    rungs: list[tuple[str, pd.Series, pd.Series, pd.Series, pd.Series | str]] = [
        ("finance", finance_value, finance_value, finance_value, "finance_feed"),
    ]
    if model_values is not None and len(model_values):
        mv = model_values.reindex(frame.index)
        rungs.append(("model", mv["value"], mv["value_low"], mv["value_high"], mv["method"]))
    rungs += [
        ("segment", seg_mid, seg_low, seg_high, seg_method),
        ("model", formula.where(margin > 0), formula_low, formula_high, "retention_formula"),
    ]
    out = pd.DataFrame(index=frame.index)
    out["segment"] = frame["segment"]
    out["value"] = float(default_ltv)
    out["value_low"] = float(default_ltv)
    out["value_high"] = float(default_ltv)
    out["value_source"] = "default"
    out["value_method"] = "default"
    for source, value, low, high, method in reversed(rungs):  # better rungs overwrite worse
        known = value.notna()
        out.loc[known, "value"] = value[known]
        out.loc[known, "value_low"] = np.minimum(low[known].fillna(value[known]), value[known])
        out.loc[known, "value_high"] = np.maximum(high[known].fillna(value[known]), value[known])
        out.loc[known, "value_source"] = source
        out.loc[known, "value_method"] = method if isinstance(method, str) else method[known]
    return out.rename_axis("customer_id").reset_index()
