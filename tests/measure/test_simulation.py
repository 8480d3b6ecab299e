"""The measurement design, evaluated by simulation: power, false positives, bias, coverage.

Seeds are fixed and repeats large enough that the numbers are stable: with 1,500 repeats the
standard error of a power near 0.85 is 0.009, of a false positive rate near 0.025 it is 0.004.
"""

from __future__ import annotations

from typing import Any

import pytest

from cximpact.errors import ContractError
from cximpact.measure import simulation
from cximpact.measure.estimators import Effect, holdout_effect
from cximpact.measure.simulation import evaluate_measurement


def test_planned_size_reaches_80_percent_power_at_effect_0_2() -> None:
    result = evaluate_measurement(0.2, 1500, 11)
    assert result["method"] == "randomised_holdout"
    assert result["power"] >= 0.8
    assert result["mean_estimate"] == pytest.approx(0.2, abs=0.015)
    assert 0.93 <= result["ci_coverage"] <= 0.97


def test_no_effect_is_called_worked_at_most_5_percent_of_the_time() -> None:
    result = evaluate_measurement(0.0, 1500, 12)
    assert result["power"] <= 0.05 and result["false_positive_rate"] <= 0.05
    assert result["mean_estimate"] == pytest.approx(0.0, abs=0.015)


def test_a_biased_estimator_would_be_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above are sharp enough: an estimator off by 0.05 fails them."""

    def biased(*args: Any, **kwargs: Any) -> Effect:
        e = holdout_effect(*args, **kwargs)
        return Effect(e.method, e.metric, e.estimate + 0.05, e.low + 0.05, e.high + 0.05, 0.95, 0)

    monkeypatch.setattr(simulation, "holdout_effect", biased)
    planted = evaluate_measurement(0.2, 1500, 11)
    null = evaluate_measurement(0.0, 1500, 12)
    assert abs(planted["mean_estimate"] - 0.2) > 0.015 or planted["ci_coverage"] < 0.93
    assert null["false_positive_rate"] > 0.05


@pytest.mark.parametrize("method", ["pre_post_volume_adjusted", "phased_rollout"])
def test_observational_designs_are_unbiased_and_keep_false_positives_low(method: str) -> None:
    planted = evaluate_measurement(0.2, 300, 3, method=method)
    assert planted["mean_estimate"] == pytest.approx(0.2, abs=0.03)
    assert planted["power"] >= 0.7
    assert planted["false_positive_rate"] <= 0.06


def test_same_seed_same_numbers_and_bad_input() -> None:
    assert evaluate_measurement(0.1, 50, 5) == evaluate_measurement(0.1, 50, 5)
    with pytest.raises(ContractError, match="not simulated"):
        evaluate_measurement(0.2, 10, 0, method="astrology")
    with pytest.raises(ContractError, match="repeats"):
        evaluate_measurement(0.2, 0, 0)
