"""Attributable exposure: no double counting, exact for one issue, zero without issues."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cximpact.exposure.attribution import (
    allocate_attributable_risk,
    allocate_pairs,
    over_horizon,
    sigmoid,
)


def test_allocation_sums_to_attributable_risk_and_never_exceeds_total() -> None:
    rng = np.random.default_rng(3)
    logit = rng.normal(-1.5, 1.0, 500)
    contributions = rng.uniform(-0.5, 2.0, (500, 6)) * (rng.random((500, 6)) < 0.4)
    full = logit + np.clip(contributions, 0, None).sum(axis=1)
    result = allocate_attributable_risk(full, contributions)
    np.testing.assert_allclose(
        result.allocated.sum(axis=1), result.p_full - result.p_base, atol=1e-12
    )
    assert np.all(result.allocated >= 0)
    assert np.all(result.allocated.sum(axis=1) <= result.p_full + 1e-12)


def test_single_issue_gets_exactly_its_counterfactual_difference() -> None:
    logit = np.array([0.3])
    result = allocate_attributable_risk(logit, np.array([[0.0, 1.2, 0.0]]))
    expected = sigmoid(np.array([0.3]))[0] - sigmoid(np.array([0.3 - 1.2]))[0]
    assert result.allocated[0, 1] == pytest.approx(expected)
    assert result.allocated[0, 0] == 0 and result.allocated[0, 2] == 0


def test_symmetric_issues_share_equally_and_negative_effects_get_nothing() -> None:
    result = allocate_attributable_risk(np.array([0.0]), np.array([[0.7, 0.7, -1.0]]))
    assert result.allocated[0, 0] == pytest.approx(result.allocated[0, 1])
    assert result.allocated[0, 2] == 0


def test_no_issues_means_no_attributable_risk() -> None:
    result = allocate_attributable_risk(np.array([-2.0, 1.0]), np.zeros((2, 3)))
    assert np.all(result.allocated == 0)
    np.testing.assert_allclose(result.p_full, result.p_base)


def test_horizon_conversion_keeps_the_guarantee_and_matches_constant_hazard() -> None:
    logit = np.array([-2.0, 0.5])
    contributions = np.array([[1.0, 0.4], [0.0, 2.0]])
    result = allocate_attributable_risk(logit, contributions, horizon_factor=2.0)
    np.testing.assert_allclose(result.allocated.sum(axis=1), result.p_full - result.p_base)
    p = sigmoid(logit)
    np.testing.assert_allclose(result.p_full, 1 - (1 - p) ** 2)
    assert np.all(result.p_full > p)


@st.composite
def _customers(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, float]:
    n = draw(st.integers(1, 30))
    k = draw(st.integers(1, 6))
    finite = st.floats(-6, 6, allow_nan=False)
    logit = np.array(draw(st.lists(finite, min_size=n, max_size=n)))
    effects = np.array(draw(st.lists(st.floats(-2, 4), min_size=n * k, max_size=n * k)))
    mask = np.array(draw(st.lists(st.booleans(), min_size=n * k, max_size=n * k)))
    factor = draw(st.floats(0.1, 5))
    return logit, (effects * mask).reshape(n, k), factor


@settings(max_examples=300, deadline=None)
@given(_customers())
def test_property_allocation_never_double_counts(
    case: tuple[np.ndarray, np.ndarray, float],
) -> None:
    """For any customers and issues: allocations are >= 0, sum to p_full - p_base <= p_full."""
    logit, contributions, factor = case
    result = allocate_attributable_risk(logit, contributions, horizon_factor=factor)
    assert np.all(result.allocated >= -1e-12)
    np.testing.assert_allclose(
        result.allocated.sum(axis=1), result.p_full - result.p_base, atol=1e-9
    )
    assert np.all(result.allocated.sum(axis=1) <= result.p_full + 1e-9)
    assert np.all(result.allocated[contributions <= 0] == 0)


@pytest.mark.parametrize("horizon", [1.0, 0.5, 2.5])
def test_pair_allocation_follows_its_definition_in_probabilities(horizon: float) -> None:
    """The allocation runs on odds; its numbers are those of the definition on probabilities."""
    rng = np.random.default_rng(5)
    n = 300
    logit = np.clip(rng.normal(-1.5, 2.0, n), -8, 8)
    row = np.sort(rng.integers(0, n, 900))
    effect = rng.uniform(-0.5, 2.0, len(row))
    p_full, p_base, allocated = allocate_pairs(logit, row, effect, horizon)
    positive = np.clip(effect, 0.0, None)
    removed = np.bincount(row, positive, minlength=n)
    # atol: 1 - p in the definition is rounded to doubles near 1 (the odds are not)
    definition = over_horizon(sigmoid(logit), horizon)
    np.testing.assert_allclose(p_full, definition, rtol=1e-10, atol=1e-15)
    definition = over_horizon(sigmoid(logit - removed), horizon)
    np.testing.assert_allclose(p_base, definition, rtol=1e-10, atol=1e-15)
    marginal = p_full[row] - over_horizon(sigmoid(logit[row] - positive), horizon)
    marginal[positive <= 0] = 0.0
    total = np.bincount(row, marginal, minlength=n)[row]
    share = np.divide(marginal, total, out=np.zeros_like(marginal), where=total > 0)
    np.testing.assert_allclose(allocated, share * (p_full - p_base)[row], rtol=1e-9, atol=1e-15)
    assert np.all(allocated[effect <= 0] == 0)
