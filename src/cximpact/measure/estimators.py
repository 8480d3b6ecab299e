"""Effect estimators for closing a case: each returns an :class:`Effect` with a confidence interval.

Every estimate is a *relative reduction* of the metric (churn, exposure): ``0.2`` means the
response removed 20% of it, a negative value means it got worse. The verdict follows the
interval: ``worked`` when the whole interval is above zero, ``worse`` when it is below, otherwise
``no_evidence``; so at a 95% level a response without effect is called ``worked`` at most 2.5% of
the time.

* :func:`holdout_effect` - randomised holdout: risk ratio of churn, treated vs held out, with the
  delta-method interval of its logarithm (Katz et al. 1978).
* :func:`rate_ratio_effect` - pre/post with volume adjustment: events per unit of contact volume
  before and after, log rate ratio with Poisson standard error.
* :func:`did_effect` - difference-in-differences by OLS with heteroskedasticity-robust (HC1)
  standard errors (phased rollout: first-wave segments vs the rest).
* :func:`its_effect` - interrupted time series: segmented regression with level and slope change
  and Newey-West (HAC) standard errors for autocorrelated daily series.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from cximpact.errors import ContractError

__all__ = [
    "Effect",
    "OLSResult",
    "did_effect",
    "holdout_effect",
    "its_effect",
    "ols",
    "rate_ratio_effect",
    "verdict_of",
]

FloatArray = npt.NDArray[np.float64]


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ContractError(f"confidence level must be in (0, 1); got {level}")
    return NormalDist().inv_cdf(0.5 + level / 2)


def verdict_of(low: float, high: float) -> str:
    """``worked`` if the interval is above 0, ``worse`` if below 0, else ``no_evidence``."""
    if low > 0:
        return "worked"
    if high < 0:
        return "worse"
    return "no_evidence"


@dataclass(frozen=True)
class Effect:
    """A measured effect: relative reduction of ``metric`` with its interval and verdict."""

    method: str
    metric: str
    estimate: float
    low: float
    high: float
    level: float
    p_value: float
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``worked``, ``no_evidence`` or ``worse`` (see :func:`verdict_of`)."""
        return verdict_of(self.low, self.high)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, with the verdict."""
        out = asdict(self)
        for key in ("estimate", "low", "high", "p_value"):
            out[key] = round(float(out[key]), 6)
        out["verdict"] = self.verdict
        return out


def _p_value(z: float) -> float:
    return 2.0 * (1.0 - NormalDist().cdf(abs(z))) if math.isfinite(z) else float("nan")


def _log_ratio_effect(
    method: str, metric: str, log_ratio: float, se: float, level: float, detail: dict[str, Any]
) -> Effect:
    z = _z(level)
    return Effect(
        method=method,
        metric=metric,
        estimate=1.0 - math.exp(log_ratio),
        low=1.0 - math.exp(log_ratio + z * se),
        high=1.0 - math.exp(log_ratio - z * se),
        level=level,
        p_value=_p_value(log_ratio / se) if se > 0 else float("nan"),
        detail=detail,
    )


def holdout_effect(
    churned_treated: int,
    n_treated: int,
    churned_control: int,
    n_control: int,
    *,
    level: float = 0.95,
    metric: str = "churn",
) -> Effect:
    """Relative churn reduction of a randomised holdout design.

    ``RR = (x_t / n_t) / (x_c / n_c)``; ``se(log RR) = sqrt(1/x_t - 1/n_t + 1/x_c - 1/n_c)``
    (Katz et al. 1978); estimate ``1 - RR``. A zero count gets 0.5 added to each cell
    (Haldane-Anscombe) so the interval stays finite. ``detail`` also holds the two-proportion
    difference ``p_c - p_t`` (percentage points of churn avoided) with its unpooled Wald interval.

    Parameters
    ----------
    churned_treated, n_treated : int
        Churned and total customers who received the response.
    churned_control, n_control : int
        Churned and total customers held out.
    level : float
        Confidence level of the interval.
    """
    if min(n_treated, n_control) <= 0:
        raise ContractError(
            f"a holdout needs customers in both groups; got {n_treated} treated and "
            f"{n_control} held out (check the plan's holdout share and the cohort)"
        )
    if not (0 <= churned_treated <= n_treated and 0 <= churned_control <= n_control):
        raise ContractError("churned counts must lie between 0 and the group sizes")
    xt, nt, xc, nc = map(float, (churned_treated, n_treated, churned_control, n_control))
    if xt == 0 or xc == 0:
        xt, nt, xc, nc = xt + 0.5, nt + 0.5, xc + 0.5, nc + 0.5
    log_rr = math.log((xt / nt) / (xc / nc))
    se = math.sqrt(max(1 / xt - 1 / nt + 1 / xc - 1 / nc, 0.0))
    rate_t, rate_c = churned_treated / n_treated, churned_control / n_control
    diff = rate_c - rate_t  # two-proportion difference, unpooled (Wald) standard error
    diff_se = math.sqrt(rate_t * (1 - rate_t) / n_treated + rate_c * (1 - rate_c) / n_control)
    z = _z(level)
    detail = {
        "treated": {"customers": n_treated, "churned": churned_treated},
        "control": {"customers": n_control, "churned": churned_control},
        "churn_rate_treated": round(rate_t, 6),
        "churn_rate_control": round(rate_c, 6),
        "absolute_reduction": round(diff, 6),
        "absolute_reduction_interval": [round(diff - z * diff_se, 6), round(diff + z * diff_se, 6)],
    }
    return _log_ratio_effect("randomised_holdout", metric, log_rr, se, level, detail)


def rate_ratio_effect(
    events_before: float,
    volume_before: float,
    events_after: float,
    volume_after: float,
    *,
    level: float = 0.95,
    metric: str = "churn",
) -> Effect:
    """Pre/post comparison of an event rate per unit of contact volume (volume adjusted).

    ``RR = (e_after / v_after) / (e_before / v_before)`` with Poisson
    ``se(log RR) = sqrt(1/e_after + 1/e_before)``; 0.5 is added to zero counts.
    Dividing by volume removes swings in overall traffic (season, growth) from the comparison;
    it cannot remove other changes that happened at the same time, which a holdout would.
    """
    if volume_before <= 0 or volume_after <= 0:
        raise ContractError(
            f"pre/post needs contact volume in both periods; got {volume_before} before and "
            f"{volume_after} after (is the measurement window inside the data?)"
        )
    eb, ea = max(float(events_before), 0.5), max(float(events_after), 0.5)
    log_rr = math.log((ea / volume_after) / (eb / volume_before))
    se = math.sqrt(1 / ea + 1 / eb)
    detail = {
        "events_before": float(events_before),
        "volume_before": float(volume_before),
        "events_after": float(events_after),
        "volume_after": float(volume_after),
    }
    return _log_ratio_effect("pre_post_volume_adjusted", metric, log_rr, se, level, detail)


@dataclass(frozen=True)
class OLSResult:
    """Coefficients and their robust covariance."""

    params: FloatArray
    cov: FloatArray

    @property
    def se(self) -> FloatArray:
        """Standard errors (square roots of the covariance diagonal)."""
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))


def ols(X: npt.ArrayLike, y: npt.ArrayLike, *, hac_lags: int = 0) -> OLSResult:
    """Least squares with HC1 (``hac_lags=0``) or Newey-West (Bartlett kernel) covariance.

    ``cov = (X'X)^-1 S (X'X)^-1 * n / (n - k)``, ``S = sum u_i^2 x_i x_i'`` plus, for HAC,
    ``sum_l w_l (G_l + G_l')`` with ``w_l = 1 - l / (L + 1)`` (Newey & West 1987).
    """
    Xa = np.asarray(X, dtype=float)
    ya = np.asarray(y, dtype=float)
    n, k = Xa.shape
    if n <= k:
        raise ContractError(f"regression needs more rows ({n}) than coefficients ({k})")
    bread = np.linalg.pinv(Xa.T @ Xa)
    params = bread @ Xa.T @ ya
    scores = Xa * (ya - Xa @ params)[:, None]
    meat = scores.T @ scores
    for lag in range(1, min(hac_lags, n - 1) + 1):
        gamma = scores[lag:].T @ scores[:-lag]
        meat += (1 - lag / (hac_lags + 1)) * (gamma + gamma.T)
    return OLSResult(params, bread @ meat @ bread * n / (n - k))


def did_effect(
    y: npt.ArrayLike,
    treated: npt.ArrayLike,
    post: npt.ArrayLike,
    *,
    level: float = 0.95,
    metric: str = "churn",
) -> Effect:
    """Difference-in-differences: ``y = b0 + b1 treated + b2 post + b3 treated*post``.

    The relative reduction is ``-b3 / (b0 + b1 + b2)``: the effect against the treated group's
    counterfactual after the change; its interval divides the HC1 interval of ``b3`` by that
    counterfactual (treated as known).
    """
    t = np.asarray(treated, dtype=float)
    p = np.asarray(post, dtype=float)
    groups = {(a, b) for a, b in zip(t.tolist(), p.tolist(), strict=True)}
    if len(groups) < 4:
        raise ContractError(
            "difference-in-differences needs rows for treated and comparison groups both before "
            f"and after the change; found {sorted(groups)}"
        )
    X = np.column_stack([np.ones_like(t), t, p, t * p])
    fit = ols(X, y)
    counterfactual = float(fit.params[0] + fit.params[1] + fit.params[2])
    if counterfactual <= 0:
        raise ContractError("the treated group's counterfactual level is not positive")
    b3, se = float(fit.params[3]), float(fit.se[3])
    return _relative_reduction(
        "difference_in_differences",
        metric,
        b3,
        se,
        counterfactual,
        level,
        {"did_coefficient": b3, "standard_error": se, "counterfactual": counterfactual},
    )


def _relative_reduction(
    method: str,
    metric: str,
    change: float,
    se: float,
    base: float,
    level: float,
    detail: dict[str, Any],
) -> Effect:
    """Effect of a regression coefficient ``change`` (with standard error ``se``) read as a
    relative reduction of ``base``: estimate ``-change / base`` and its normal interval."""
    z = _z(level)
    return Effect(
        method=method,
        metric=metric,
        estimate=-change / base,
        low=(-change - z * se) / base,
        high=(-change + z * se) / base,
        level=level,
        p_value=_p_value(change / se) if se > 0 else float("nan"),
        detail=detail,
    )


def its_effect(
    y: npt.ArrayLike,
    intervention: int,
    *,
    level: float = 0.95,
    hac_lags: int | None = None,
    metric: str = "exposure",
) -> Effect:
    """Interrupted time series: level change at ``intervention`` in a segmented regression.

    ``y_t = b0 + b1 t + b2 post_t + b3 (t - t0) post_t``; the relative reduction is
    ``-b2 / (b0 + b1 t0)`` (the level change against the pre-trend's value at the change), with
    Newey-West standard errors (default lag ``floor(4 (n/100)^(2/9))``).
    """
    ya = np.asarray(y, dtype=float)
    n = len(ya)
    if not (3 <= intervention <= n - 3):
        raise ContractError(
            f"interrupted time series needs at least 3 points before and after the change; "
            f"got {intervention} before and {n - intervention} after"
        )
    t = np.arange(n, dtype=float)
    post = (t >= intervention).astype(float)
    X = np.column_stack([np.ones(n), t, post, (t - intervention) * post])
    lags = hac_lags if hac_lags is not None else int(4 * (n / 100) ** (2 / 9))
    fit = ols(X, ya, hac_lags=lags)
    base = float(fit.params[0] + fit.params[1] * intervention)
    if base <= 0:
        raise ContractError("the pre-change trend reaches zero at the change; use another method")
    b2, se = float(fit.params[2]), float(fit.se[2])
    return _relative_reduction(
        "interrupted_time_series",
        metric,
        b2,
        se,
        base,
        level,
        {
            "level_change": b2,
            "slope_change": float(fit.params[3]),
            "standard_error": se,
            "baseline_at_change": base,
            "hac_lags": lags,
        },
    )
