"""The ``model`` rung of the value ladder: customer-level models fitted on the company's history.

* Subscription customers (a positive monthly margin) when churn outcomes exist: a Weibull
  survival model of time to churn (:class:`~cximpact.value.survival.SurvivalValueModel`) times
  the margin — method ``survival``.
* Customers without a recurring margin but with a purchase history: BG/NBD for the number of
  future purchases and Gamma-Gamma for their value (:mod:`cximpact.value.bgnbd`,
  :mod:`cximpact.value.gamma_gamma`), times the margin share of spend — method
  ``bgnbd_gamma_gamma``; the interval comes from refits on bootstrap resamples of customers.

A model that cannot be fitted (no churn observed, too few repeat buyers) is skipped with a note;
the ladder then falls through to segment values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cximpact.errors import CximpactError
from cximpact.value.bgnbd import BetaGeoFitter
from cximpact.value.evaluate import rfm_summary
from cximpact.value.gamma_gamma import GammaGammaFitter, customer_lifetime_value
from cximpact.value.survival import SurvivalValueModel, survival_frame

__all__ = ["ModelValues", "model_values"]

_MIN_EVENTS = 20  # churn events needed to fit a survival model
_MIN_REPEATERS = 20  # repeat buyers needed to fit Gamma-Gamma
_BOOTSTRAP = 20


@dataclass
class ModelValues:
    """Model values (``value, value_low, value_high, method`` by customer id) and notes."""

    values: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _subscription_values(
    customers: pd.DataFrame,
    churn_dates: pd.Series,
    *,
    window_start: pd.Timestamp,
    as_of: pd.Timestamp,
    years: float,
    discount_rate: float,
    issue_flags: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame | None, str | None]:
    margin = customers.set_index("id")["monthly_margin"].astype(float)
    if not (margin > 0).any():
        return None, None
    frame = survival_frame(customers, churn_dates, window_start=window_start, as_of=as_of)
    events = int(frame["event"].sum())
    if events < _MIN_EVENTS:
        return None, f"survival model skipped: {events} churn events (needs {_MIN_EVENTS})"
    issues = _issue_covariates(issue_flags, frame.index)
    model = SurvivalValueModel().fit(pd.concat([frame, issues], axis=1))
    # valued as if their problems were fixed: the issue covariates are left at zero
    subscribers = frame[(margin.reindex(frame.index) > 0).to_numpy()]
    point, low, high = model.expected_years(subscribers, years=years, discount_rate=discount_rate)
    annual = 12.0 * margin.reindex(subscribers.index).to_numpy()
    out = pd.DataFrame(
        {"value": annual * point, "value_low": annual * low, "value_high": annual * high},
        index=subscribers.index,
    )
    out["method"] = "survival"
    return out, None


def _issue_covariates(flags: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame:
    """0/1 issue columns (``issue:<name>``) for the survival fit; no columns without flags.

    Customers who met a problem churn faster; fitted without it, their extra hazard spreads
    over everyone and every lifetime value comes out short (by about a tenth on the simulator).
    With the issues as covariates, values are predicted with them at zero: the value a
    customer keeps when the problem is fixed, the amount revenue at risk puts in danger.
    Issues held by fewer than ``_MIN_EVENTS`` customers are left out (unstable coefficients).
    """
    if flags is None or flags.empty:
        return pd.DataFrame(index=index)
    aligned = flags.reindex(index).fillna(0).astype(float)
    aligned = aligned.loc[:, aligned.sum() >= _MIN_EVENTS]
    return aligned.add_prefix("issue:")


def _purchase_values(
    transactions: pd.DataFrame,
    who: pd.Index,
    *,
    as_of: pd.Timestamp,
    years: float,
    discount_rate: float,
    margin_rate: float,
    seed: int = 0,
) -> tuple[pd.DataFrame | None, str | None]:
    mine = transactions[transactions["customer_id"].isin(who)]
    if mine.empty:
        return None, None
    summary = rfm_summary(
        transactions, "customer_id", "timestamp", "amount", as_of.strftime("%Y-%m-%d")
    )
    x = summary["frequency"].to_numpy(dtype=float)
    t_x = summary["recency"].to_numpy(dtype=float)
    big_t = summary["T"].to_numpy(dtype=float)
    spend = summary["monetary_value"].to_numpy(dtype=float)
    repeat = (x > 0) & (spend > 0)
    if repeat.sum() < _MIN_REPEATERS:
        return None, (
            f"purchase model skipped: {int(repeat.sum())} repeat buyers (needs {_MIN_REPEATERS})"
        )
    target = summary.index.isin(who)
    months = max(1, round(years * 12))
    monthly = (1.0 + discount_rate) ** (1 / 12) - 1

    def clv(rows: np.ndarray) -> np.ndarray:
        bg = BetaGeoFitter(penalizer=0.001).fit(x[rows], t_x[rows], big_t[rows])
        keep = rows[repeat[rows]]
        gg = GammaGammaFitter(penalizer=0.001).fit(x[keep], spend[keep])
        return margin_rate * customer_lifetime_value(
            bg, gg, x[target], t_x[target], big_t[target], spend[target], months, monthly
        )

    try:
        point = clv(np.arange(len(x)))
        rng = np.random.default_rng(seed)
        draws = np.stack([clv(rng.integers(0, len(x), len(x))) for _ in range(_BOOTSTRAP)])
    except (CximpactError, ValueError, FloatingPointError) as exc:
        return None, f"purchase model skipped: {exc}"
    out = pd.DataFrame(
        {
            "value": point,
            "value_low": np.minimum(np.percentile(draws, 5, axis=0), point),
            "value_high": np.maximum(np.percentile(draws, 95, axis=0), point),
        },
        index=summary.index[target],
    )
    out["method"] = "bgnbd_gamma_gamma"
    return out, None


def model_values(
    customers: pd.DataFrame,
    outcomes: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    window_start: pd.Timestamp,
    as_of: pd.Timestamp,
    years: float = 10.0,
    discount_rate: float = 0.10,
    purchase_margin_rate: float = 0.30,
    issue_flags: pd.DataFrame | None = None,
) -> ModelValues:
    """Customer-level model values for the ladder's ``model`` rung.

    Parameters
    ----------
    customers, outcomes, transactions
        Contract frames (``outcomes``: ``customer_id, churn_date``; ``transactions``:
        ``customer_id, timestamp, amount``); empty frames are fine.
    window_start, as_of
        The observation window: churn is observed in it and purchases up to ``as_of``.
    years
        Value horizon in years.
    discount_rate
        Annual discount rate.
    purchase_margin_rate
        Margin share of spend for purchase-history values.
    issue_flags
        0/1 per customer (index) and issue (columns), from
        :func:`~cximpact.exposure.issues.issue_flags`: covariates of the survival model,
        set to zero when values are predicted (the value if the problem is fixed).

    Returns
    -------
    ModelValues
        Values indexed by customer id (customers no model covers are absent) and notes on
        models that were skipped.
    """
    notes: list[str] = []
    parts: list[pd.DataFrame] = []
    churn_dates = (
        outcomes.drop_duplicates("customer_id", keep="last").set_index("customer_id")["churn_date"]
        if len(outcomes)
        else pd.Series(dtype=object)
    )
    if len(outcomes):
        subs, note = _subscription_values(
            customers,
            churn_dates,
            window_start=window_start,
            as_of=as_of,
            years=years,
            discount_rate=discount_rate,
            issue_flags=issue_flags,
        )
        notes += [note] if note else []
        parts += [subs] if subs is not None else []
    margin = customers.set_index("id")["monthly_margin"].astype(float)
    no_margin = margin.index[~(margin > 0).to_numpy()]
    if len(transactions) and len(no_margin):
        buys, note = _purchase_values(
            transactions,
            no_margin,
            as_of=as_of,
            years=years,
            discount_rate=discount_rate,
            margin_rate=purchase_margin_rate,
        )
        notes += [note] if note else []
        parts += [buys] if buys is not None else []
    values = (
        pd.concat(parts)
        if parts
        else pd.DataFrame(columns=["value", "value_low", "value_high", "method"])
    )
    return ModelValues(values[~values.index.duplicated(keep="first")], notes)
