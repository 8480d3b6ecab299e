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
