"""Effect estimators: known values, robust standard errors, recovery of planted effects."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cximpact.errors import ContractError
from cximpact.measure.estimators import (
    did_effect,
    holdout_effect,
    its_effect,
    ols,
    rate_ratio_effect,
    verdict_of,
)


def test_holdout_effect_known_value() -> None:
    """80/1000 treated vs 100/1000 held out: RR 0.8, se(log RR) = sqrt(1/80 - 1/1000 + 1/100 -
    1/1000) = 0.14318 (Katz 1978); 95% interval of 1 - RR by hand, to 1e-9."""
    effect = holdout_effect(80, 1000, 100, 1000)
    se = math.sqrt(1 / 80 - 1 / 1000 + 1 / 100 - 1 / 1000)
    assert effect.estimate == pytest.approx(0.2)
    assert effect.low == pytest.approx(1 - 0.8 * math.exp(1.959964 * se), abs=1e-6)
    assert effect.high == pytest.approx(1 - 0.8 * math.exp(-1.959964 * se), abs=1e-6)
    assert effect.verdict == "no_evidence"  # too few customers to tell
    diff_se = math.sqrt(0.08 * 0.92 / 1000 + 0.1 * 0.9 / 1000)
    assert effect.detail["absolute_reduction"] == pytest.approx(0.02)
    low, high = effect.detail["absolute_reduction_interval"]
    assert low == pytest.approx(0.02 - 1.959964 * diff_se, abs=1e-6)
    assert high == pytest.approx(0.02 + 1.959964 * diff_se, abs=1e-6)
    assert holdout_effect(800, 10_000, 1000, 10_000).verdict == "worked"
    assert holdout_effect(1200, 10_000, 1000, 10_000).verdict == "worse"


def test_holdout_zero_counts_stay_finite() -> None:
    effect = holdout_effect(0, 50, 0, 50)
    assert math.isfinite(effect.low) and math.isfinite(effect.high)
    with pytest.raises(ContractError, match="both groups"):
        holdout_effect(0, 0, 3, 10)


def test_verdict_rule() -> None:
    assert verdict_of(0.01, 0.3) == "worked"
    assert verdict_of(-0.3, -0.01) == "worse"
    assert verdict_of(-0.1, 0.2) == "no_evidence"


def test_rate_ratio_removes_volume_swings() -> None:
    same_rate = rate_ratio_effect(100, 10_000, 200, 20_000)
    assert same_rate.estimate == pytest.approx(0.0) and same_rate.verdict == "no_evidence"
    halved = rate_ratio_effect(400, 10_000, 400, 20_000)
    assert halved.estimate == pytest.approx(0.5) and halved.verdict == "worked"


def test_ols_hc1_equals_welch_standard_error_for_two_groups() -> None:
    """y = a + b g: the HC0 se of b is sqrt(s1^2/n1 + s0^2/n0) with ddof-0 variances; HC1 scales
    it by sqrt(n / (n - 2)) (MacKinnon & White 1985)."""
    rng = np.random.default_rng(0)
    g = np.r_[np.zeros(300), np.ones(200)]
    y = np.where(g == 1, rng.normal(2.0, 3.0, 500), rng.normal(1.0, 1.0, 500))
    fit = ols(np.column_stack([np.ones(500), g]), y)
    assert fit.params[1] == pytest.approx(y[g == 1].mean() - y[g == 0].mean())
    welch = math.sqrt(y[g == 1].var() / 200 + y[g == 0].var() / 300)
    assert fit.se[1] == pytest.approx(welch * math.sqrt(500 / 498), rel=1e-9)


def test_did_recovers_a_planted_effect_despite_group_and_period_differences() -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    treated, post = rng.integers(0, 2, n), rng.integers(0, 2, n)
    rate = 0.10 * np.where(treated == 1, 1.5, 1.0) * np.where(post == 1, 1.2, 1.0)
    rate = rate * np.where((treated == 1) & (post == 1), 0.7, 1.0)
    effect = did_effect((rng.random(n) < rate).astype(float), treated, post)
    assert effect.low < 0.3 < effect.high and effect.verdict == "worked"
    assert effect.estimate == pytest.approx(0.3, abs=0.1)


def test_did_needs_all_four_cells() -> None:
    with pytest.raises(ContractError, match="both before and after"):
        did_effect([0.0, 1.0, 0.0], [0, 0, 1], [0, 1, 0])


def test_its_recovers_a_level_drop_on_a_trending_autocorrelated_series() -> None:
    rng = np.random.default_rng(2)
    n, t0 = 120, 70
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = 0.5 * noise[i - 1] + rng.normal(0, 1.0)
    t = np.arange(n)
    y = 50 + 0.1 * t + noise - np.where(t >= t0, 15.0, 0.0)
    effect = its_effect(y, t0)
    base = 50 + 0.1 * t0
    assert effect.estimate == pytest.approx(15 / base, abs=0.03)
    assert effect.low < 15 / base < effect.high and effect.verdict == "worked"
    assert effect.detail["hac_lags"] >= 1


def test_its_refuses_too_short_series() -> None:
    with pytest.raises(ContractError, match="at least 3 points"):
        its_effect(np.ones(5), 1)
