"""Gamma-Gamma spend model (Fader & Hardie 2013) and discounted customer lifetime value.

Published reference (checked by ``benchmarks/bench_clv.py``): on the 946 CDNOW repeat buyers,
with ``z̄`` = mean value of the repeat purchase days, Fader & Hardie (2013) report
p = 6.25, q = 3.74, γ = 15.44.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from cximpact.errors import ConfigError, ContractError, NotFittedError
from cximpact.value.bgnbd import BetaGeoFitter
from cximpact.value.gamma_gamma import (
    GammaGammaFitter,
    customer_lifetime_value,
    gamma_gamma_log_likelihood,
)

TRUE = {"p": 6.0, "q": 4.0, "v": 15.0}
BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def simulate_spend(
    n: int, params: dict[str, float], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw repeat buyers from the Gamma-Gamma process (Fader & Hardie 2013, section 2).

    ``ν ~ Gamma(q, rate γ)``; each of the customer's ``x`` transactions (``x = 1 + Poisson(3)``)
    is ``Gamma(p, rate ν)``. Returns ``x``, the mean value ``z̄`` and the customer's true mean
    spend ``p / ν``.
    """
    rng = np.random.default_rng(seed)
    nu = rng.gamma(params["q"], 1.0 / params["v"], n)
    x = 1 + rng.poisson(3.0, n)
    # the sum of x Gamma(p, ν) draws is Gamma(p x, ν)
    z = rng.gamma(params["p"] * x, 1.0 / nu) / x
    return x.astype(float), z, params["p"] / nu


def fitted_gg(params: dict[str, float]) -> GammaGammaFitter:
    model = GammaGammaFitter()
    model.params_ = dict(params)
    return model


def fitted_bg(params: dict[str, float]) -> BetaGeoFitter:
    model = BetaGeoFitter()
    model.params_ = dict(params)
    return model


def test_log_likelihood_matches_direct_density() -> None:
    """Eq. 3 against the density of z̄ written out with gamma functions (not log scale)."""
    x, z, _ = simulate_spend(200, TRUE, seed=1)
    p, q, v = TRUE.values()
    vector = gamma_gamma_log_likelihood([p, q, v], x, z)
    for xi, zi, got in zip(x, z, vector, strict=True):
        density = (
            math.gamma(p * xi + q)
            / (math.gamma(p * xi) * math.gamma(q))
            * v**q
            * zi ** (p * xi - 1)
            * xi ** (p * xi)
            / (v + xi * zi) ** (p * xi + q)
        )
        assert got == pytest.approx(math.log(density), rel=1e-9, abs=1e-9)


def test_density_integrates_to_one() -> None:
    from scipy import integrate

    for x in (1.0, 4.0):

        def density(z: float, x: float = x) -> float:
            return math.exp(gamma_gamma_log_likelihood(list(TRUE.values()), [x], [z])[0])

        total, _ = integrate.quad(density, 0, np.inf, limit=200)
        assert total == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_recovers_parameters_of_simulated_spend(seed: int) -> None:
    """40,000 repeat buyers (x = 1 + Poisson(3)).

    Tolerance: mean spend pγ/(q-1) within 5 %, each parameter within 20 %. Over seeds 30-39 the
    sampling s.d. of p and γ was about 5 % (q about 1.5 %), so 20 % is about 4 s.d.
    """
    x, z, _ = simulate_spend(40_000, TRUE, seed)
    model = GammaGammaFitter().fit(x, z)
    got = model.params_
    assert model.converged_
    truth_mean = TRUE["p"] * TRUE["v"] / (TRUE["q"] - 1)
    assert model.population_mean_spend() == pytest.approx(truth_mean, rel=0.05)
    for name, value in TRUE.items():
        assert got[name] == pytest.approx(value, rel=0.20), name
    at_truth = gamma_gamma_log_likelihood(list(TRUE.values()), x, z).sum()
    assert model.log_likelihood_ >= at_truth


def test_conditional_expected_profit_is_the_posterior_mean() -> None:
    """E[Z|z̄, x] (eq. 5) vs the mean true spend p/ν of simulated customers with similar z̄."""
    x, z, true_mean = simulate_spend(400_000, TRUE, seed=7)
    predicted = fitted_gg(TRUE).conditional_expected_average_profit(x, z)
    # calibrated on average within bins of the prediction
    edges = np.quantile(predicted, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, predicted, side="right") - 1, 0, 9)
    for k in range(10):
        chosen = bins == k
        se = true_mean[chosen].std() / math.sqrt(chosen.sum())
        assert predicted[chosen].mean() == pytest.approx(
            true_mean[chosen].mean(), abs=max(4 * se, 0.005 * true_mean[chosen].mean())
        )


def test_conditional_expected_profit_shrinks_towards_population_mean() -> None:
    model = fitted_gg(TRUE)
    population = model.population_mean_spend()
    out = model.conditional_expected_average_profit([0, 1, 100], [500.0, 500.0, 500.0])
    assert out[0] == pytest.approx(population)
    assert population < out[1] < out[2] < 500.0


def test_estimator_contract() -> None:
    x, z, _ = simulate_spend(1000, TRUE, seed=2)
    x0, z0 = x.copy(), z.copy()
    model = GammaGammaFitter(penalizer=0.0)
    assert model.get_params() == {"penalizer": 0.0, "tol": 1e-10, "max_iter": 1000}
    with pytest.raises(NotFittedError):
        model.conditional_expected_average_profit([1], [10.0])
    assert model.fit(x, z) is model
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(z, z0)
    assert GammaGammaFitter().fit(x, z).params_ == model.params_
    assert pickle.loads(pickle.dumps(model)).params_ == model.params_
    with pytest.raises(ConfigError, match="no parameter"):
        model.set_params(alpha=1.0)


@pytest.mark.parametrize(
    ("x", "z", "message"),
    [
        ([0, 1], [1.0, 2.0], "repeat buyers"),
        ([1, 2], [0.0, 2.0], "must be > 0"),
        ([1, 2], [1.0], "same length"),
        ([], [], "no customers"),
    ],
)
def test_invalid_spend_inputs(x: list[float], z: list[float], message: str) -> None:
    with pytest.raises(ContractError, match=message):
        GammaGammaFitter().fit(x, z)


def test_clv_equals_hand_computed_discounted_sum() -> None:
    bg, gg = fitted_bg(BG), fitted_gg(TRUE)
    x, t_x, T, z = (
        np.array([0.0, 2.0, 6.0]),
        np.array([0, 20, 35.0]),
        np.full(3, 39.0),
        np.array([0.0, 20.0, 45.0]),
    )
    got = customer_lifetime_value(
        bg, gg, x, t_x, T, z, horizon_months=3, discount_rate_monthly=0.02
    )
    spend = gg.conditional_expected_average_profit(x, z)
    expected = np.zeros(3)
    for m in (1, 2, 3):
        step = bg.predict_purchases(m * 4.345, x, t_x, T) - bg.predict_purchases(
            (m - 1) * 4.345, x, t_x, T
        )
        expected += spend * step / 1.02**m
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # no discount: value = spend * E[Y(3 months)]
    flat = customer_lifetime_value(bg, gg, x, t_x, T, z, 3, 0.0)
    np.testing.assert_allclose(flat, spend * bg.predict_purchases(3 * 4.345, x, t_x, T))
    assert got[2] > got[1] > 0


def test_clv_rejects_bad_settings_and_unfitted_models() -> None:
    bg, gg = fitted_bg(BG), fitted_gg(TRUE)
    with pytest.raises(ConfigError, match="horizon_months"):
        customer_lifetime_value(bg, gg, [1], [1.0], [2.0], [3.0], horizon_months=0)
    with pytest.raises(ConfigError, match="discount"):
        customer_lifetime_value(bg, gg, [1], [1.0], [2.0], [3.0], discount_rate_monthly=-0.1)
    with pytest.raises(NotFittedError):
        customer_lifetime_value(BetaGeoFitter(), gg, [1], [1.0], [2.0], [3.0])
