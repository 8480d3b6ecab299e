"""Subscription lifetime value from a survival model: expected discounted margin still to come.

For customers who pay a recurring margin, lifetime value is the margin times the discounted
time they are still expected to stay. The time to churn is modelled with a Weibull accelerated
failure time model (:class:`lifelines.WeibullAFTFitter`) on the customer's age (years since the
customer's start date), with covariates products held, log monthly revenue (the plan) and
segment:

.. math::

    S(t \\mid x) = \\exp\\left(-\\left(t / \\lambda(x)\\right)^{\\rho}\\right), \\qquad
    \\lambda(x) = \\exp(\\beta_0 + \\beta^\\top x).

The exports only show customers who were still there when the observation window began, so the
fit is **left-truncated** at each customer's age at the window start (``entry_col``), and churn
dates after the window are censored. A customer of age ``a`` is then worth, over ``Y`` years at
annual discount rate ``d``, in quarterly steps evaluated at mid-quarter,

.. math::

    \\mathrm{LTV} = 12\\, m \\sum_{q=1}^{4Y} \\frac{1}{4}
        \\frac{S(a + (q - \\tfrac12)/4 \\mid x)}{S(a \\mid x)} (1 + d)^{-(q - 1/2)/4}.

The interval comes from the parameters' sampling distribution (normal with the fit's covariance
matrix, percentiles of the values under the draws): it measures how well the model is pinned
down, not how far one customer may stray from the average.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from cximpact.errors import ContractError, NotFittedError

__all__ = ["SurvivalValueModel", "survival_frame"]

FloatArray = npt.NDArray[np.float64]
_DAYS_PER_YEAR = 365.25
_MIN_STAY = 1.0 / _DAYS_PER_YEAR  # a customer who left on their first day stayed one day


def survival_frame(
    customers: pd.DataFrame,
    churn_dates: pd.Series,
    *,
    window_start: pd.Timestamp,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Model input: ages at entry and exit, churn event and covariates, one row per customer.

    Parameters
    ----------
    customers
        Customers contract frame (``id, start_date, segment, products, monthly_revenue``).
    churn_dates
        Churn date per customer id (missing for customers still active).
    window_start, as_of
        First and last day of the observation window; churn after ``as_of`` is censored.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id: ``age_entry``, ``age_exit`` (years), ``event`` (1 = churned in
        the window), ``products``, ``log_revenue`` and one 0/1 column per segment but the first.
        Customers who churned before ``window_start`` are left out.
    """
    frame = customers.set_index("id")
    start = pd.to_datetime(frame["start_date"], utc=True).dt.tz_localize(None)
    window_start = pd.Timestamp(window_start).tz_localize(None)
    as_of = pd.Timestamp(as_of).tz_localize(None)
    churn = pd.to_datetime(churn_dates.reindex(frame.index), utc=True).dt.tz_localize(None)
    event = churn.notna() & (churn <= as_of)
    end = churn.where(event, as_of)
    entry = ((window_start - start).dt.days / _DAYS_PER_YEAR).clip(lower=0.0).fillna(0.0)
    exit_ = ((end - start).dt.days / _DAYS_PER_YEAR).fillna(0.0)
    out = pd.DataFrame(index=frame.index)
    out["age_entry"] = entry
    out["age_exit"] = np.maximum(exit_, entry + _MIN_STAY)
    out["event"] = event.astype(int)
    out["products"] = frame["products"].astype(float).fillna(1.0)
    out["log_revenue"] = np.log1p(frame["monthly_revenue"].astype(float).clip(lower=0).fillna(0))
    segments = pd.get_dummies(frame["segment"].fillna("unknown"), prefix="segment", dtype=float)
    out = pd.concat([out, segments.iloc[:, 1:]], axis=1)
    # Customers who left before the window are outside the left-truncated sample: kept, they
    # would become invented first-day churns.
    return out[~(churn.notna() & (churn < window_start)).to_numpy()]


@dataclass(frozen=True)
class _Weibull:
    """Weibull AFT parameters in matrix form: ``log λ = X β`` (with intercept), ``log ρ``."""

    columns: list[str]
    beta: FloatArray  # intercept first, then ``columns``
    log_rho: float

    def log_survival(self, design: FloatArray, age: FloatArray) -> FloatArray:
        scale = np.exp(design @ self.beta)
        out: FloatArray = -((np.maximum(age, 0.0) / scale) ** np.exp(self.log_rho))
        return out


class SurvivalValueModel:
    """Weibull time-to-churn model turned into expected discounted margin (lifetime value).

    Parameters
    ----------
    penalizer
        L2 penalty of the lifelines fit (stabilises rare segments).
    draws
        Parameter draws for the value interval (0: no interval, the point value repeated).
    seed
        Seed of the parameter draws.
    """

    def __init__(self, penalizer: float = 0.01, draws: int = 40, seed: int = 0) -> None:
        self.penalizer = penalizer
        self.draws = draws
        self.seed = seed

    def fit(self, frame: pd.DataFrame) -> SurvivalValueModel:
        """Fit on :func:`survival_frame` output (needs at least one churn event)."""
        from lifelines import WeibullAFTFitter  # heavy import, only when a model is fitted

        if int(frame["event"].sum()) == 0:
            raise ContractError("no churn in the window: a survival model cannot be fitted")
        self.columns_ = [c for c in frame.columns if c not in ("age_entry", "age_exit", "event")]
        data = frame[["age_entry", "age_exit", "event", *self.columns_]]
        self.means_ = data[self.columns_].mean()
        self.scales_ = data[self.columns_].std().replace(0.0, 1.0).fillna(1.0)
        data = data.assign(
            **{c: (data[c] - self.means_[c]) / self.scales_[c] for c in self.columns_}
        )
        fitter = WeibullAFTFitter(penalizer=self.penalizer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter; checked through the result
            fitter.fit(data, "age_exit", "event", entry_col="age_entry")
        params = fitter.params_
        beta = [float(params[("lambda_", "Intercept")])] + [
            float(params[("lambda_", c)]) for c in self.columns_
        ]
        self.weibull_ = _Weibull(
            self.columns_, np.array(beta), float(params[("rho_", "Intercept")])
        )
        order = [("lambda_", "Intercept")] + [("lambda_", c) for c in self.columns_]
        order.append(("rho_", "Intercept"))
        self.covariance_ = fitter.variance_matrix_.loc[order, order].to_numpy(dtype=float)
        self.fitter_ = fitter
        return self

    def _design(self, frame: pd.DataFrame) -> FloatArray:
        if not hasattr(self, "weibull_"):
            raise NotFittedError("SurvivalValueModel is not fitted; call fit() first")
        x = frame.reindex(columns=self.columns_, fill_value=0.0).astype(float)
        x = (x - self.means_) / self.scales_
        return np.column_stack([np.ones(len(x)), x.to_numpy(dtype=float)])

    def survival(self, frame: pd.DataFrame, ages: FloatArray) -> FloatArray:
        """``S(age | x)`` for each row of ``frame`` at each age, shape (rows, ages)."""
        design = self._design(frame)
        columns = [self.weibull_.log_survival(design, np.full(len(design), a)) for a in ages]
        return np.exp(np.column_stack(columns))

    def expected_years(
        self,
        frame: pd.DataFrame,
        *,
        years: float = 10.0,
        discount_rate: float = 0.10,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Discounted expected years still to stay: point, low (5%) and high (95%).

        Parameters
        ----------
        frame
            :func:`survival_frame` rows of the customers to value; their age now is
            ``age_exit``.
        years
            Value horizon in years.
        discount_rate
            Annual discount rate.
        """
        design = self._design(frame)
        age = frame["age_exit"].to_numpy(dtype=float)
        steps = np.arange(1, round(years * 4) + 1, dtype=np.float64) - 0.5
        offsets: FloatArray = steps / 4.0
        weights: FloatArray = 0.25 * (1.0 + discount_rate) ** (-offsets)
        point = self._years(self.weibull_, design, age, offsets, weights)
        if self.draws <= 0:
            return point, point.copy(), point.copy()
        mean = np.append(self.weibull_.beta, self.weibull_.log_rho)
        rng = np.random.default_rng(self.seed)
        samples = rng.multivariate_normal(mean, self.covariance_, size=self.draws, method="eigh")
        drawn = np.stack(
            [
                self._years(
                    _Weibull(self.columns_, s[:-1], float(s[-1])), design, age, offsets, weights
                )
                for s in samples
            ]
        )
        low = np.minimum(np.percentile(drawn, 5, axis=0), point)
        high = np.maximum(np.percentile(drawn, 95, axis=0), point)
        return point, low, high

    @staticmethod
    def _years(
        weibull: _Weibull,
        design: FloatArray,
        age: FloatArray,
        offsets: FloatArray,
        weights: FloatArray,
    ) -> FloatArray:
        now = weibull.log_survival(design, age)
        total = np.zeros(len(age))
        for offset, weight in zip(offsets, weights, strict=True):
            total += weight * np.exp(weibull.log_survival(design, age + offset) - now)
        return total
