"""Per-customer signal summaries: two-topic contacts count for both, cost is not doubled."""

import numpy as np
import pandas as pd
import pytest

from cximpact.exposure.issues import customer_signal_summary, issue_flags


def _signals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "interaction_id": ["a", "b", "c"],
            "customer_id": ["x", "x", "y"],
            "timestamp": pd.to_datetime(["2026-01-01"] * 3),
            "root_cause": ["billing_error", "other", "long_wait"],
            "secondary_root_cause": ["long_wait", "", ""],
            "sentiment_label": ["negative", "neutral", "neutral"],
            "sentiment": [-0.5, 0.0, 0.0],
            "competitors": ["Verizon", "", ""],
            "handling_cost": [10.0, 5.0, 4.0],
            "repeat_contact": [False, False, False],
            "escalation": [True, False, False],
            "churn_language": [False, False, False],
        }
    )


def test_flags_use_primary_and_secondary_topics_but_not_other() -> None:
    flags = issue_flags(_signals())
    assert list(flags.columns) == ["billing_error", "long_wait"]
    assert flags.loc["x"].tolist() == [1, 1] and flags.loc["y"].tolist() == [0, 1]


def test_summary_counts_contacts_per_topic_and_splits_cost() -> None:
    summary = customer_signal_summary(_signals()).set_index(["customer_id", "root_cause"])
    assert summary.loc[("x", "billing_error"), "contacts"] == 1
    assert summary.loc[("x", "long_wait"), "contacts"] == 1
    assert summary["handling_cost"].sum() == 14.0  # 10 split in two, 4; "other" not an issue
    assert summary.loc[("x", "long_wait"), "competitors"] == "Verizon"
    assert summary.loc[("x", "billing_error"), "escalations"] == 1


def test_bootstrap_interval_collapses_to_the_point_without_sampling_noise() -> None:
    """Priors carry no sampling uncertainty: every draw equals the point estimate, so the
    bootstrap (long layout) must reproduce the dense allocation exactly."""
    import numpy as np

    from cximpact.exposure.issues import compute_exposure
    from cximpact.risk.model import ChurnRiskModel

    rng = np.random.default_rng(1)
    n = 300
    features = pd.DataFrame(
        {
            "tenure_years": rng.uniform(0, 10, n),
            "issue:billing_error": (rng.random(n) < 0.3).astype(float),
            "issue:long_wait": (rng.random(n) < 0.3).astype(float),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )
    model = ChurnRiskModel(prior_churn_rate=0.2).fit(features, None)
    values = pd.DataFrame(
        {
            "customer_id": features.index,
            "segment": "x",
            "value": rng.uniform(100, 1000, n),
            "value_low": 50.0,
            "value_high": 2000.0,
            "value_source": "finance",
        }
    )
    summary = customer_signal_summary(_signals()).iloc[:0]
    result = compute_exposure(
        features,
        model,
        values,
        summary,
        active=pd.Series(True, index=features.index),
        horizon_factor=1.5,
    )
    issues = result.issues.set_index("issue")
    np.testing.assert_allclose(issues["revenue_at_risk_low"], issues["revenue_at_risk"], rtol=1e-9)
    np.testing.assert_allclose(issues["revenue_at_risk_high"], issues["revenue_at_risk"], rtol=1e-9)
    assert (issues["revenue_at_risk"] > 0).all()


def test_sampled_bootstrap_agrees_with_the_exact_one() -> None:
    """Above the sample size the interval comes from a weighted sample (Horvitz-Thompson);
    small issues keep all their customers and come out exact."""
    from cximpact.exposure.issues import _bootstrap_intervals
    from cximpact.risk.model import ChurnRiskModel

    rng = np.random.default_rng(4)
    n = 6000
    X = pd.DataFrame(
        {
            "tenure_years": rng.exponential(3, n),
            "issue:a": (rng.random(n) < 0.3).astype(float),
            "issue:b": (rng.random(n) < 0.2).astype(float),
            "issue:c": (rng.random(n) < 0.01).astype(float),
        }
    )
    logit = -1.5 + X["issue:a"] + 0.4 * X["issue:b"] + 1.5 * X["issue:c"] - 0.1 * X["tenure_years"]
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))
    model = ChurnRiskModel(shrink=False).fit(X, y)
    value = rng.gamma(2.0, 500.0, n)
    args = (model, X, model.decision_function(X), value, ["a", "b", "c"], 1.0)
    exact = _bootstrap_intervals(*args, draws=300)
    sampled = _bootstrap_intervals(*args, draws=300, sample=1500, small_issue=100)
    width = exact["revenue_at_risk_high"] - exact["revenue_at_risk_low"]
    for column in ("revenue_at_risk_low", "revenue_at_risk_high"):
        assert (abs(sampled[column] - exact[column]) < 0.15 * width).all(), column
    assert (exact["revenue_at_risk_low"] > 0).all()
    # issue c (about 60 customers) is below small_issue: all its customers are kept
    assert sampled.loc["c"].to_numpy() == pytest.approx(exact.loc["c"].to_numpy(), rel=0.05)


def test_why_quotes_what_the_detectors_matched() -> None:
    from cximpact.exposure.issues import _why

    long = pd.DataFrame(
        {
            "contacts": [2, 1],
            "issue": ["billing_error", "billing_error"],
            "repeat_contacts": [1, 0],
            "escalations": [1, 0],
            "escalation_phrase": ["speak to a manager", ""],
            "churn_language": [1, 0],
            "churn_phrase": ["close my account", ""],
            "competitors": ["Acme", ""],
            "mean_sentiment": [-0.6, 0.2],
        }
    )
    why = _why(long)
    assert why.iloc[0] == (
        '2 contacts on billing_error; repeat contact; asked to escalate ("speak to a manager"); '
        'talked about leaving ("close my account"); mentioned Acme; negative sentiment'
    )
    assert why.iloc[1] == "1 contact on billing_error"
