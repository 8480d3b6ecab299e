"""The measurement plan, fixed when a case opens: method, metric, comparison group, size, MDE.

The method follows the response and the data:

* a customer-level action (message, offer, call) -> **randomised holdout**: a share of eligible
  customers, chosen by a hash of customer and case, does not get it;
* a root-cause fix with customers in two or more segments -> **phased rollout** by segment,
  measured by difference-in-differences (first wave against the rest);
* a fix with a daily history of the issue of 28 days or more -> **interrupted time series**;
* otherwise -> **pre/post with volume adjustment**;
* ``monitor`` (no response) -> interrupted time series of the issue's daily volume.

Sample size for a holdout comes from the unpooled two-proportion formula with the continuity
correction of Fleiss, Tytun & Ury (1980) for unequal groups: the smallest held-out share between
``holdout_share`` and one half that reaches the target relative effect at 5% two-sided
significance and the target power. The MDE reported is the smallest relative reduction of churn
the planned groups detect with that power.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cximpact.errors import ContractError

__all__ = [
    "CUSTOMER_ACTIONS",
    "choose_method",
    "holdout_mde",
    "holdout_sample_size",
    "in_holdout",
    "plan_measurement",
]

CUSTOMER_ACTIONS = frozenset({"proactive_message", "retention_offer", "retention_call"})
"""Responses that act on individual customers, so a randomised holdout is possible."""

_MIN_ITS_DAYS = 28
_SHARES = tuple(round(s, 2) for s in np.arange(0.10, 0.51, 0.05))


def _z(alpha: float, power: float) -> tuple[float, float]:
    normal = NormalDist()
    return normal.inv_cdf(1 - alpha / 2), normal.inv_cdf(power)


def holdout_sample_size(
    baseline: float,
    relative_effect: float,
    *,
    control_share: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> tuple[int, int]:
    """Customers needed (treated, held out) to detect a relative churn reduction.

    The two-proportion formula with unpooled (Wald) variances, ``r = n_t / n_c``:
    ``n' = (z_a + z_b)^2 (p_c q_c + p_t q_t / r) / d^2``, then the continuity correction of
    Fleiss, Tytun & Ury (1980): ``n_c = n'/4 (1 + sqrt(1 + 2 (r + 1) / (r n' d)))^2``; ``p_c``
    is the baseline churn over the measurement window, ``p_t = p_c (1 - effect)``,
    ``d = p_c - p_t``. The correction covers the small-sample optimism of the normal
    approximation for the log-risk-ratio test the case is closed with.
    """
    if not 0 < baseline < 1:
        raise ContractError(f"baseline churn must be in (0, 1); got {baseline}")
    if not 0 < relative_effect < 1:
        raise ContractError(f"relative effect must be in (0, 1); got {relative_effect}")
    if not 0 < control_share < 1:
        raise ContractError(f"holdout share must be in (0, 1); got {control_share}")
    z_a, z_b = _z(alpha, power)
    r = (1 - control_share) / control_share
    pc, pt = baseline, baseline * (1 - relative_effect)
    d = pc - pt
    n0 = (z_a + z_b) ** 2 * (pc * (1 - pc) + pt * (1 - pt) / r) / d**2
    n_c = math.ceil(n0 / 4 * (1 + math.sqrt(1 + 2 * (r + 1) / (r * n0 * d))) ** 2)
    return math.ceil(r * n_c), n_c


def holdout_mde(
    baseline: float, n_treated: int, n_control: int, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest relative churn reduction the groups detect.

    ``(z_a + z_b) sqrt(p q (1/n_t + 1/n_c)) / p``, capped at 10.
    """
    z_a, z_b = _z(alpha, power)
    p = min(max(baseline, 1e-4), 0.99)
    n_t, n_c = max(n_treated, 1), max(n_control, 1)
    return float(min((z_a + z_b) * math.sqrt(p * (1 - p) * (1 / n_t + 1 / n_c)) / p, 10.0))


def choose_method(response: str, *, segments: int = 1, history_days: int = 0) -> str:
    """The measurement method for a response, given the data (see the module docstring)."""
    if response in CUSTOMER_ACTIONS:
        return "randomised_holdout"
    if response == "monitor":
        return "interrupted_time_series"
    if segments >= 2:
        return "phased_rollout"
    if history_days >= _MIN_ITS_DAYS:
        return "interrupted_time_series"
    return "pre_post_volume_adjusted"


def holdout_assignment(
    customer_ids: Iterable[Any], case_ids: Iterable[Any], share: float | Iterable[float]
) -> npt.NDArray[np.bool_]:
    """Whether each (customer, case) pair is held out: ``sha256("customer:case") < share``.

    The one assignment rule of the project: outbound actions
    (:func:`cximpact.actions.guardrails.holdout_flags`) hold out exactly the customers a case's
    measurement (:func:`in_holdout`) compares against. Deterministic, stateless, independent of
    order and batch; the first 8 bytes of the digest are read as a number in [0, 1).

    Parameters
    ----------
    customer_ids, case_ids : iterable
        The pairs, aligned.
    share : float or iterable of float
        Share held out, one for all pairs or one per pair.
    """
    units = np.array(
        [
            int.from_bytes(hashlib.sha256(f"{c}:{k}".encode()).digest()[:8], "big") / 2**64
            for c, k in zip(customer_ids, case_ids, strict=True)
        ],
        dtype=float,
    )
    per_pair = [float(share)] if isinstance(share, int | float) else [float(v) for v in share]
    shares = np.broadcast_to(np.asarray(per_pair, dtype=float), units.shape)
    return np.asarray(units < shares, dtype=bool)


def in_holdout(customer_ids: pd.Series, case_id: int, share: float) -> npt.NDArray[np.bool_]:
    """Whether each customer is held out of case ``case_id``'s action (see
    :func:`holdout_assignment`)."""
    return holdout_assignment(customer_ids.astype(str), [case_id] * len(customer_ids), share)


def _window_churn(churn_rate: float, duration_days: int, horizon_days: int) -> float:
    """Churn over the measurement window from churn over the horizon (constant hazard)."""
    p = min(max(churn_rate, 1e-4), 0.99)
    return float(1 - (1 - p) ** (duration_days / max(horizon_days, 1)))


def _holdout(
    customers: int, baseline: float, target: float, share: float, power: float
) -> dict[str, Any]:
    chosen, needed = (
        _SHARES[-1],
        holdout_sample_size(baseline, target, control_share=0.5, power=power),
    )
    for candidate in (s for s in _SHARES if s >= share):
        n_t, n_c = holdout_sample_size(baseline, target, control_share=candidate, power=power)
        if n_t + n_c <= customers:
            chosen, needed = candidate, (n_t, n_c)
            break
    n_c = max(round(customers * chosen), 1)
    n_t = max(customers - n_c, 1)
    return {
        "comparison_group": (
            f"{chosen:.0%} of eligible customers held out (stable hash of customer and case)"
        ),
        "holdout_share": chosen,
        "planned_sample_size": needed[0] + needed[1],
        "planned_groups": {"treated": needed[0], "control": needed[1]},
        "available": {"treated": n_t, "control": n_c},
        "minimum_detectable_effect": round(holdout_mde(baseline, n_t, n_c, power=power), 3),
    }


def _observational(
    method: str, customers: int, baseline: float, target: float, power: float, segments: list[str]
) -> dict[str, Any]:
    # Pre/post compares two periods of about the affected cohort, with Poisson variance (1/q
    # times the binomial one); difference-in-differences has four cells (wave x period) and
    # twice the variance of a two-group comparison, so each cell needs twice a group's size.
    per_group = holdout_sample_size(baseline, target, control_share=0.5, power=power)[1]
    if method == "phased_rollout":
        planned, n = 8 * per_group, max(customers // 4, 1)
    else:
        planned, n = 2 * math.ceil(per_group / (1 - baseline)), max(customers // 2, 1)
    plan: dict[str, Any] = {
        "planned_sample_size": planned,
        "available": {"customers": customers},
        "minimum_detectable_effect": round(
            holdout_mde(baseline, n, n, power=power)
            * (math.sqrt(2) if method == "phased_rollout" else 1),
            3,
        ),
    }
    if method == "phased_rollout":
        first = sorted(segments)[::2]
        plan["first_wave"] = first
        plan["comparison_group"] = (
            f"segments {sorted(set(segments) - set(first))} get the fix one duration later"
        )
    elif method == "interrupted_time_series":
        plan["comparison_group"] = "the issue's own daily trend before the change, extrapolated"
    else:
        plan["comparison_group"] = "affected customers in an equal window before the change"
    return plan


def plan_measurement(
    response: str,
    customers: int,
    churn_rate: float,
    horizon_days: int,
    *,
    segments: list[str] | None = None,
    history_days: int = 0,
    target_effect: float = 0.2,
    power: float = 0.8,
    holdout_share: float = 0.1,
    duration_days: int = 90,
) -> dict[str, Any]:
    """The plan fixed when a case opens.

    Parameters
    ----------
    response : str
        The recommended response (a playbook option or ``monitor``).
    customers : int
        Customers affected by the issue (eligible for the response).
    churn_rate : float
        Their mean churn probability over ``horizon_days``.
    horizon_days : int
        Horizon of ``churn_rate``.
    segments : list of str, optional
        Segments holding the affected customers (a phased rollout needs two or more).
    history_days : int
        Days of daily history of the issue (an interrupted time series needs 28 or more).
    target_effect : float
        Relative churn reduction the plan is sized to detect (the planning MDE).
    power, holdout_share, duration_days
        Target power, smallest held-out share, measurement window in days.

    Returns
    -------
    dict
        ``method, metric, comparison_group, baseline_churn_rate, target_effect,
        minimum_detectable_effect, planned_sample_size, duration_days`` and method details.
    """
    duration = min(horizon_days, duration_days)
    baseline = _window_churn(churn_rate, duration, horizon_days)
    segs = sorted(set(segments or []))
    method = choose_method(response, segments=len(segs), history_days=history_days)
    plan: dict[str, Any] = {
        "method": method,
        "metric": "churn of affected customers (primary) and the issue's daily contact share "
        "(exposure)",
        "baseline_churn_rate": round(baseline, 4),
        "target_effect": target_effect,
        "power": power,
        "significance": 0.05,
        "duration_days": duration,
    }
    if method == "randomised_holdout":
        plan |= _holdout(max(customers, 2), baseline, target_effect, holdout_share, power)
    else:
        plan |= _observational(method, max(customers, 1), baseline, target_effect, power, segs)
    plan["adequately_powered"] = plan["minimum_detectable_effect"] <= target_effect
    return plan
