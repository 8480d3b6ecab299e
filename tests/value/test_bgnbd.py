"""BG/NBD (Fader, Hardie & Lee 2005): likelihood, recovery, predictions, estimator contract.

Published reference (checked by ``benchmarks/bench_clv.py`` on the 2,357-customer CDNOW sample,
calibration 1997-01-01..1997-09-30, frequency = distinct purchase days - 1, weeks): FHL 2005
report r = 0.243, α = 4.414, a = 0.793, b = 2.426 and log-likelihood -9582.4. The tests here do
not read ../shared (absent on users' machines); one optional test runs when the file exists.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest
from scipy import special

from cximpact.errors import ContractError, NotFittedError
from cximpact.value.bgnbd import (
    BetaGeoFitter,
    _log_likelihood_and_grad,
    bgnbd_log_likelihood,
    group_rows,
)

CDNOW = Path(__file__).resolve().parents[3] / "shared" / "data" / "cdnow_sample_transactions.csv"
TRUE = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}


def simulate_bgnbd(
    n: int,
    params: dict[str, float],
    T: np.ndarray | float,
    seed: int,
    holdout: float = 0.0,
) -> dict[str, np.ndarray]:
    """Draw customers from the BG/NBD generative process (FHL 2005, section 2).

    ``λ ~ Gamma(r, rate α)``, ``p ~ Beta(a, b)``; purchases while alive are Poisson(λ); after each
    repeat purchase the customer dies with probability ``p``. The first purchase is at time 0.
    Returns the calibration summary ``(x, t_x, T)``, whether the customer is alive at ``T`` and
    the number of purchases in ``(T, T + holdout]``.
    """
    rng = np.random.default_rng(seed)
    big_t = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    end = big_t + holdout
    now = np.zeros(n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    future = np.zeros(n)
    active = np.ones(n, dtype=bool)  # alive and not past the end of the window
    alive = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        nxt = now[idx] + rng.exponential(1.0, len(idx)) / lam[idx]
        beyond = nxt > end[idx]
        active[idx[beyond]] = False
        idx, nxt = idx[~beyond], nxt[~beyond]
        now[idx] = nxt
        in_cal = nxt <= big_t[idx]
        x[idx[in_cal]] += 1
        t_x[idx[in_cal]] = nxt[in_cal]
        future[idx[~in_cal]] += 1
        dies = rng.random(len(idx)) < p[idx]
        died = idx[dies]
        active[died] = False
        # dead before T if the death followed a calibration purchase
        alive[died[now[died] <= big_t[died]]] = False
    return {"x": x, "t_x": t_x, "T": big_t, "alive": alive, "future": future}


def fitted(params: dict[str, float]) -> BetaGeoFitter:
    """A model with the given parameters, as if fitted."""
    model = BetaGeoFitter()
    model.params_ = dict(params)
    return model


def direct_log_likelihood(params: dict[str, float], x: float, t_x: float, T: float) -> float:
    """FHL 2005 eq. 6 written out term by term, not on the log scale."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]

    def beta(u: float, v: float) -> float:
        return math.exp(math.lgamma(u) + math.lgamma(v) - math.lgamma(u + v))

    common = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
    first = beta(a, b + x) / beta(a, b) * common / (alpha + T) ** (r + x)
    second = 0.0
    if x > 0:
        second = beta(a + 1, b + x - 1) / beta(a, b) * common / (alpha + t_x) ** (r + x)
    return math.log(first + second)


# --- likelihood ------------------------------------------------------------------------------


def test_log_likelihood_matches_direct_per_customer_formula() -> None:
    sim = simulate_bgnbd(300, TRUE, np.linspace(5, 60, 300), seed=1)
    for params in (TRUE, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}):
        vector = bgnbd_log_likelihood(
            [params[k] for k in ("r", "alpha", "a", "b")], sim["x"], sim["t_x"], sim["T"]
        )
        direct = [
            direct_log_likelihood(params, x, tx, T)
            for x, tx, T in zip(sim["x"], sim["t_x"], sim["T"], strict=True)
        ]
        np.testing.assert_allclose(vector, direct, rtol=1e-10, atol=1e-10)


def test_analytic_gradient_matches_finite_differences() -> None:
    sim = simulate_bgnbd(200, TRUE, 40.0, seed=2)
    theta = np.array([0.7, 5.0, 1.3, 3.0])
    _, grad = _log_likelihood_and_grad(theta, sim["x"], sim["t_x"], sim["T"], grad=True)
    assert grad is not None
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6 * theta[k]
        up = bgnbd_log_likelihood(theta + step, sim["x"], sim["t_x"], sim["T"]).sum()
        down = bgnbd_log_likelihood(theta - step, sim["x"], sim["t_x"], sim["T"]).sum()
        assert grad[:, k].sum() == pytest.approx((up - down) / (2 * step[k]), rel=1e-5)


def test_group_rows_counts_identical_rows() -> None:
    x = np.array([1.0, 0.0, 1.0, 1.0])
    t = np.array([2.0, 0.0, 2.0, 3.0])
    (ux, ut), counts = group_rows(x, t)  # distinct rows in order of first appearance
    assert ux.tolist() == [1.0, 0.0, 1.0]
    assert ut.tolist() == [2.0, 0.0, 3.0]
    assert counts.tolist() == [2.0, 1.0, 1.0]


# --- parameter recovery ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_recovers_parameters_of_simulated_customers(seed: int) -> None:
    """20,000 customers, T ~ U(20, 78) weeks.

    Tolerance: mean purchase rate r/α and mean dropout a/(a+b) within 5 %, each parameter
    within 20 %. Over seeds 40-49 the sampling s.d. was r 1.2 %, α 1.5 %, a 4.4 %, b 5.6 %, so
    20 % is about 4 s.d. for the least identified parameter.
    """
    rng = np.random.default_rng(seed + 100)
    sim = simulate_bgnbd(20_000, TRUE, rng.uniform(20, 78, 20_000), seed=seed)
    model = BetaGeoFitter().fit(sim["x"], sim["t_x"], sim["T"])
    got = model.params_
    assert model.converged_
    assert got["r"] / got["alpha"] == pytest.approx(TRUE["r"] / TRUE["alpha"], rel=0.05)
    assert got["a"] / (got["a"] + got["b"]) == pytest.approx(
        TRUE["a"] / (TRUE["a"] + TRUE["b"]), rel=0.05
    )
    for name, value in TRUE.items():
        assert got[name] == pytest.approx(value, rel=0.20), name
    # the estimate beats the truth in likelihood (it is the maximum)
    at_truth = bgnbd_log_likelihood(list(TRUE.values()), sim["x"], sim["t_x"], sim["T"]).sum()
    assert model.log_likelihood_ >= at_truth


def test_grouped_fit_equals_ungrouped_likelihood_maximum() -> None:
    """Daily-rounded data have many duplicate rows; grouping must not change the optimum."""
    sim = simulate_bgnbd(3000, TRUE, 39.0, seed=5)
    x, t_x, T = sim["x"], np.floor(sim["t_x"] * 7) / 7, sim["T"]
    model = BetaGeoFitter().fit(x, t_x, T)
    assert model.n_groups_ < model.n_customers_ == 3000
    total = bgnbd_log_likelihood(list(model.params_.values()), x, t_x, T).sum()
    assert model.log_likelihood_ == pytest.approx(total, rel=1e-12)


# --- predictions -----------------------------------------------------------------------------


@pytest.mark.parametrize("t", [5.0, 39.0, 78.0])
def test_expected_purchases_matches_monte_carlo(t: float) -> None:
    """E[X(t)] (eq. 7) vs the mean of 200,000 simulated customers; tolerance 4 standard errors."""
    for params in (TRUE, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}):
        sim = simulate_bgnbd(200_000, params, t, seed=int(t))
        se = sim["x"].std() / math.sqrt(len(sim["x"]))
        assert float(fitted(params).expected_purchases(t)) == pytest.approx(
            sim["x"].mean(), abs=4 * se
        )


def test_expected_purchases_handles_a_equal_one() -> None:
    near = {**TRUE, "a": 1.0}
    value = float(fitted(near).expected_purchases(30.0))
    below = float(fitted({**TRUE, "a": 1.0 - 1e-4}).expected_purchases(30.0))
    above = float(fitted({**TRUE, "a": 1.0 + 1e-4}).expected_purchases(30.0))
    assert np.isfinite(value) and min(below, above) - 1e-3 <= value <= max(below, above) + 1e-3


def test_conditional_expectation_matches_monte_carlo_holdout() -> None:
    """Mean of E[Y(t)|x, t_x, T] (eq. 10) vs simulated holdout purchases, overall and by x."""
    sim = simulate_bgnbd(200_000, TRUE, 39.0, seed=21, holdout=39.0)
    model = fitted(TRUE)
    predicted = model.predict_purchases(39.0, sim["x"], sim["t_x"], sim["T"])
    se = sim["future"].std() / math.sqrt(len(predicted))
    assert predicted.mean() == pytest.approx(sim["future"].mean(), abs=4 * se)
    for x in (0, 1, 3):
        chosen = sim["x"] == x
        se = sim["future"][chosen].std() / math.sqrt(chosen.sum())
        assert predicted[chosen].mean() == pytest.approx(sim["future"][chosen].mean(), abs=4 * se)
    # law of total expectation: mean conditional = E[X(T + t)] - E[X(T)]
    unconditional = model.expected_purchases(78.0) - model.expected_purchases(39.0)
    assert predicted.mean() == pytest.approx(float(unconditional), abs=4 * se)


def test_probability_alive_matches_simulated_share_alive() -> None:
    sim = simulate_bgnbd(200_000, TRUE, 39.0, seed=22)
    p_alive = fitted(TRUE).probability_alive(sim["x"], sim["t_x"], sim["T"])
    assert np.all((p_alive > 0) & (p_alive <= 1))
    assert np.all(p_alive[sim["x"] == 0] == 1.0)
    assert p_alive.mean() == pytest.approx(sim["alive"].mean(), abs=0.005)


def test_predictions_are_stable_for_heavy_buyers() -> None:
    model = fitted(TRUE)
    out = model.predict_purchases(10.0, [0, 50, 300], [0.0, 38.0, 38.9], [39.0, 39.0, 39.0])
    assert np.all(np.isfinite(out)) and out[2] > out[1] > out[0] > 0


def test_grouped_prediction_equals_row_by_row() -> None:
    sim = simulate_bgnbd(500, TRUE, 39.0, seed=8)
    x, t_x, T = sim["x"], np.floor(sim["t_x"]), sim["T"]
    model = fitted(TRUE)
    grouped = model.predict_purchases(10.0, x, t_x, T)
    single = [
        model.predict_purchases(10.0, [a], [b], [c])[0] for a, b, c in zip(x, t_x, T, strict=True)
    ]
    np.testing.assert_allclose(grouped, single, rtol=1e-12)


# --- estimator contract ----------------------------------------------------------------------


def test_init_stores_parameters_as_given_and_sklearn_can_clone() -> None:
    model = BetaGeoFitter(penalizer=0.01, tol=1e-8, max_iter=50)
    assert (model.penalizer, model.tol, model.max_iter) == (0.01, 1e-8, 50)
    assert not hasattr(model, "params_")
    base = pytest.importorskip("sklearn.base")
    clone = base.clone(model)
    assert clone.penalizer == 0.01 and clone is not model


def test_not_fitted_error_before_fit() -> None:
    model = BetaGeoFitter()
    with pytest.raises(NotFittedError, match="fit"):
        model.expected_purchases(10.0)
    with pytest.raises(NotFittedError):
        model.predict_purchases(10.0, [1], [2.0], [3.0])
    with pytest.raises(NotFittedError):
        model.probability_alive([1], [2.0], [3.0])


def test_fit_returns_self_is_deterministic_picklable_and_does_not_mutate() -> None:
    sim = simulate_bgnbd(2000, TRUE, 39.0, seed=3)
    x, t_x, T = sim["x"].copy(), sim["t_x"].copy(), sim["T"].copy()
    model = BetaGeoFitter()
    assert model.fit(x, t_x, T) is model
    np.testing.assert_array_equal(x, sim["x"])
    np.testing.assert_array_equal(t_x, sim["t_x"])
    np.testing.assert_array_equal(T, sim["T"])
    again = BetaGeoFitter().fit(list(x), list(t_x), list(T))
    assert again.params_ == model.params_
    restored = pickle.loads(pickle.dumps(model))
    assert restored.params_ == model.params_
    np.testing.assert_array_equal(
        restored.predict_purchases(10.0, x, t_x, T), model.predict_purchases(10.0, x, t_x, T)
    )


def test_penalizer_shrinks_parameters() -> None:
    sim = simulate_bgnbd(2000, TRUE, 39.0, seed=4)
    plain = BetaGeoFitter().fit(sim["x"], sim["t_x"], sim["T"]).params_
    shrunk = BetaGeoFitter(penalizer=0.1).fit(sim["x"], sim["t_x"], sim["T"]).params_
    assert sum(v**2 for v in shrunk.values()) < sum(v**2 for v in plain.values())


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1, 2], [1.0], [2.0, 3.0], "same length"),
        ([-1], [0.0], [2.0], "non-negative integers"),
        ([1.5], [1.0], [2.0], "non-negative integers"),
        ([1], [3.0], [2.0], "recency <= T"),
        ([0], [1.0], [2.0], "recency must be 0"),
        ([1], [1.0], [-2.0], ">= 0"),
        ([1], [float("nan")], [2.0], "finite"),
        ([], [], [], "empty"),
    ],
)
def test_invalid_inputs_raise_contract_error(
    x: list[float], t_x: list[float], T: list[float], message: str
) -> None:
    with pytest.raises(ContractError, match=message):
        BetaGeoFitter().fit(x, t_x, T)


def test_gammaln_identity_used_by_likelihood() -> None:
    """Sanity: betaln agrees with the gamma-function definition used in FHL 2005."""
    assert special.betaln(0.793, 2.426) == pytest.approx(
        math.lgamma(0.793) + math.lgamma(2.426) - math.lgamma(0.793 + 2.426)
    )


@pytest.mark.skipif(not CDNOW.exists(), reason="needs ../shared/data/cdnow_sample_transactions.csv")
def test_cdnow_published_parameters() -> None:
    import pandas as pd

    from cximpact.value.evaluate import rfm_summary

    summary = rfm_summary(pd.read_csv(CDNOW), "customer_id", "date", "amount", "1997-09-30")
    model = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert model.params_[name] == pytest.approx(value, rel=0.01), name
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
