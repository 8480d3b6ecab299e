"""Per-customer signal summaries: two-topic contacts count for both, cost is not doubled."""

import pandas as pd

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
