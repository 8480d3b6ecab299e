"""Churn risk model: learns planted issue effects; priors when there are no outcomes."""

import numpy as np
import pandas as pd
import pytest

from cximpact.errors import NotFittedError
from cximpact.risk.model import PRIOR_ATTRIBUTABLE_SHARE, ChurnRiskModel, customer_features


def _data(n: int = 20000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "tenure_years": rng.exponential(4, n),
            "products": 1 + rng.poisson(1, n),
            "issue:billing": (rng.random(n) < 0.2).astype(float),
            "issue:address": (rng.random(n) < 0.2).astype(float),
        }
    )
    logit = -2 - 0.1 * X["tenure_years"] + 1.2 * X["issue:billing"]
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))
    return X, y


def test_learns_issue_effects_in_log_odds() -> None:
    X, y = _data()
    model = ChurnRiskModel(shrink=False).fit(X, y)
    assert model.source_ == "model"
    assert model.issue_effects_["billing"] == pytest.approx(1.2, abs=0.15)
    assert abs(model.issue_effects_["address"]) < 0.15
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1)


def test_priors_without_outcomes_are_marked_and_follow_one_in_five_rule() -> None:
    X, _ = _data(100)
    model = ChurnRiskModel(prior_churn_rate=0.05).fit(X, None)
    assert model.source_ == "prior"
    contrib = model.issue_contributions(X)
    with_issue = X["issue:billing"].to_numpy() == 1
    p = model.predict_proba(X)[:, 1]
    base = 0.05
    # odds lift of 1/(1-0.2): for small p, p_with ~ p_base / 0.8
    assert p[with_issue & (X["issue:address"].to_numpy() == 0)][0] == pytest.approx(
        base / (1 - PRIOR_ATTRIBUTABLE_SHARE), rel=0.05
    )
    assert contrib.shape == (len(X), 2)


def test_not_fitted_and_fit_returns_self() -> None:
    X, y = _data(200)
    model = ChurnRiskModel(C=2.0)
    with pytest.raises(NotFittedError):
        model.predict_proba(X)
    assert model.fit(X, y) is model
    assert model.C == 2.0  # parameters stored as given


def test_customer_features_shape() -> None:
    customers = pd.DataFrame(
        {
            "id": ["a", "b"],
            "start_date": pd.to_datetime(["2020-01-01", "2025-01-01"]),
            "segment": ["x", "y"],
            "products": [1, 3],
            "monthly_revenue": [10.0, 20.0],
        }
    )
    flags = pd.DataFrame({"billing": [1]}, index=pd.Index(["b"], name="customer_id"))
    out = customer_features(customers, flags, as_of=pd.Timestamp("2026-01-01"))
    assert list(out.index) == ["a", "b"]
    assert out.loc["a", "issue:billing"] == 0 and out.loc["b", "issue:billing"] == 1
    assert out.loc["a", "tenure_years"] == pytest.approx(6.0, abs=0.01)


def test_follows_the_scikit_learn_estimator_contract() -> None:
    from sklearn.base import clone

    X, y = _data(n=3000)
    model = ChurnRiskModel(C=0.5, shrink=False)
    assert clone(model).get_params() == {"C": 0.5, "prior_churn_rate": 0.1, "shrink": False}
    fitted = model.fit(X, y)
    assert list(fitted.classes_) == [0, 1]
    assert set(np.unique(fitted.predict(X))) <= {0, 1}
    assert fitted.predict_proba(X).shape == (len(X), 2)


def test_language_signals_raise_risk_but_never_touch_issue_effects() -> None:
    """Words that follow the intent to leave sharpen the probability, not the attribution."""
    X, y = _data()
    rng = np.random.default_rng(1)
    said = np.where(y == 1, rng.random(len(y)) < 0.5, rng.random(len(y)) < 0.02)
    with_words = X.assign(**{"signal:churn_language": said.astype(float)})
    plain = ChurnRiskModel(shrink=False).fit(X, y)
    both = ChurnRiskModel(shrink=False).fit(with_words, y)
    pd.testing.assert_series_equal(both.issue_effects_, plain.issue_effects_)
    p = both.predict_proba(with_words)[:, 1]
    assert p[said].mean() > 2 * p[~said].mean()
    # the counterfactual subtracts the attribution effects from the risk model's log-odds
    contributions = both.issue_contributions(with_words)
    column = both.issue_columns_.index("issue:address")
    assert contributions[:, column] == pytest.approx(
        with_words["issue:address"].to_numpy() * both.issue_effects_["address"]
    )


def test_signal_covariates_summarise_what_each_customer_said() -> None:
    from cximpact.risk.model import signal_covariates

    signals = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "competitors": ["acme", "", ""],
            "sentiment_label": ["negative", "neutral", "positive"],
            "escalation": [False, True, False],
            "churn_language": [False, False, False],
            "repeat_contact": [False, True, False],
        }
    )
    out = signal_covariates(signals)
    assert out.loc["a", "signal:competitor"] == 1.0 and out.loc["b", "signal:competitor"] == 0.0
    assert out.loc["a", "signal:escalation"] == 1.0
    assert out.loc["a", "signal:negative_share"] == 0.5
    assert out.loc["a", "signal:repeat_contacts"] == pytest.approx(np.log(2))
    assert out.loc["b", "signal:contacts"] == pytest.approx(np.log(2))


@pytest.mark.parametrize("seed", range(6))
def test_few_signal_covariates_equal_signal_covariates(seed: int) -> None:
    """The array variant gives each customer the frame function's numbers (missing ids left
    out, missing labels and competitors counted as not said)."""
    from cximpact.risk.model import SIGNAL_COLUMNS, few_signal_covariates, signal_covariates

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    signals = pd.DataFrame(
        {
            "customer_id": pd.Series(rng.choice(["a", "b", "c", "d", None], n), dtype="str"),
            "competitors": pd.Series(rng.choice(["", "acme", None, " "], n), dtype="str"),
            "sentiment_label": pd.Series(rng.choice(["negative", "neutral", None], n), dtype="str"),
            "escalation": rng.random(n) < 0.2,
            "churn_language": rng.random(n) < 0.1,
            "repeat_contact": rng.random(n) < 0.3,
        }
    )
    expected = signal_covariates(signals)
    got = few_signal_covariates({c: signals[c].to_numpy() for c in signals.columns})
    assert list(expected.columns) == list(SIGNAL_COLUMNS)
    assert set(got) == set(expected.index)
    for customer, row in got.items():
        np.testing.assert_array_equal(row, expected.loc[customer].to_numpy())
