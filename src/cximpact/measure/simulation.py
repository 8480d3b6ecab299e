"""How well the measurement design works: many simulated cases with a planted effect on churn.

Each repeat draws a case of the planned size, plants a relative churn reduction ``effect`` on the
treated customers, estimates it with the method's estimator and records the verdict. A paired
null case (same size, no effect, its own random stream) gives the false positive rate. Reported:
power (share of ``worked`` verdicts with the planted effect), false positive rate (share of
``worked`` verdicts without one), mean estimate and the coverage of the 95% interval.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cximpact.errors import ContractError
from cximpact.measure.design import plan_measurement
from cximpact.measure.estimators import Effect, did_effect, holdout_effect, rate_ratio_effect

__all__ = ["SIMULATED_METHODS", "evaluate_measurement"]

SIMULATED_METHODS = ("randomised_holdout", "pre_post_volume_adjusted", "phased_rollout")
_RESPONSE = {
    "randomised_holdout": ("retention_call", []),
    "pre_post_volume_adjusted": ("fix_root_cause", []),
    "phased_rollout": ("fix_root_cause", ["a", "b"]),
}


def _holdout_case(
    rng: np.random.Generator, plan: dict[str, Any], baseline: float, effect: float
) -> Effect:
    n_t, n_c = plan["planned_groups"]["treated"], plan["planned_groups"]["control"]
    x_t = int(rng.binomial(n_t, baseline * (1 - effect)))
    x_c = int(rng.binomial(n_c, baseline))
    return holdout_effect(x_t, n_t, x_c, n_c)


def _pre_post_case(
    rng: np.random.Generator, plan: dict[str, Any], baseline: float, effect: float
) -> Effect:
    n = plan["planned_sample_size"] // 2
    # overall contact volume drifts between the periods; churn scales with it
    volume_before, volume_after = n * 3.0, n * 3.0 * rng.uniform(0.8, 1.25)
    before = rng.binomial(n, baseline)
    after = rng.binomial(round(n * volume_after / volume_before), baseline * (1 - effect))
    return rate_ratio_effect(before, volume_before, after, volume_after)


def _did_case(
    rng: np.random.Generator, plan: dict[str, Any], baseline: float, effect: float
) -> Effect:
    n = plan["planned_sample_size"] // 4  # four cells: wave x period
    # the comparison wave has a different level; both share a common shock after the change
    level = {0: baseline, 1: baseline * 1.2}
    shock = rng.uniform(0.85, 1.15)
    ys, treated, post = [], [], []
    for t in (0, 1):
        for p in (0, 1):
            rate = level[t] * (shock if p else 1.0) * (1 - effect if t and p else 1.0)
            ys.append(rng.random(n) < rate)
            treated.append(np.full(n, t))
            post.append(np.full(n, p))
    return did_effect(np.concatenate(ys), np.concatenate(treated), np.concatenate(post))


_SIMULATORS = {
    "randomised_holdout": _holdout_case,
    "pre_post_volume_adjusted": _pre_post_case,
    "phased_rollout": _did_case,
}


def evaluate_measurement(
    effect: float,
    repeats: int,
    seed: int,
    *,
    method: str = "randomised_holdout",
    baseline_churn: float = 0.10,
    target_effect: float = 0.2,
    power: float = 0.8,
) -> dict[str, Any]:
    """Power, false positive rate, mean estimate and interval coverage of a measurement method.

    Parameters
    ----------
    effect : float
        Planted relative churn reduction (0.2 = treated customers churn 20% less).
    repeats : int
        Simulated cases.
    seed : int
        Random seed; same seed, same numbers.
    method : str
        One of :data:`SIMULATED_METHODS`.
    baseline_churn : float
        Churn over the measurement window without a response.
    target_effect, power : float
        What the plan is sized for; the simulated cases have the planned sample size.

    Returns
    -------
    dict
        ``method, power, false_positive_rate, mean_estimate, ci_coverage`` and the plan's size.
    """
    if method not in _SIMULATORS:
        raise ContractError(f"method {method!r} is not simulated; use one of {SIMULATED_METHODS}")
    if repeats < 1:
        raise ContractError(f"repeats must be at least 1; got {repeats}")
    if not -1 < effect < 1:
        raise ContractError(f"effect must be a relative reduction in (-1, 1); got {effect}")
    response, segments = _RESPONSE[method]
    sizing = plan_measurement(
        response,
        10**7,
        baseline_churn,
        90,
        segments=segments,
        target_effect=target_effect,
        power=power,
        duration_days=90,
    )
    simulate = _SIMULATORS[method]
    planted_rng, null_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)
    )
    planted = [simulate(planted_rng, sizing, baseline_churn, effect) for _ in range(repeats)]
    null = [simulate(null_rng, sizing, baseline_churn, 0.0) for _ in range(repeats)]
    return {
        "method": method,
        "power": round(float(np.mean([e.verdict == "worked" for e in planted])), 4),
        "false_positive_rate": round(float(np.mean([e.verdict == "worked" for e in null])), 4),
        "mean_estimate": round(float(np.mean([e.estimate for e in planted])), 4),
        "ci_coverage": round(float(np.mean([e.low <= effect <= e.high for e in planted])), 4),
        "worse_rate": round(float(np.mean([e.verdict == "worse" for e in planted])), 4),
        "effect": effect,
        "repeats": repeats,
        "seed": seed,
        "baseline_churn": baseline_churn,
        "target_effect": target_effect,
        "planned_sample_size": sizing["planned_sample_size"],
    }
