"""Targeting ranks by expected uplift (value x risk reduction - cost) within the budget."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from cximpact.actions.policies import PolicySet
from cximpact.actions.targeting import candidates, plan_targets, score_targets, within_budget
from cximpact.actions.uplift import TwoModelUplift, uplift_features
from cximpact.cases.business_case import load_playbook

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def _rules(budget: float = 1000, holdout: float = 0.0, **policy: object) -> PolicySet:
    """One policy ``call`` (cost 10, effectiveness 0.5) with ``policy`` overrides."""
    return PolicySet.model_validate(
        {
            "budget": budget,
            "holdout_share": holdout,
            "require_consent": False,
            "quiet_hours": None,
            "frequency_caps": {"per_customer": 99, "per_channel": 99},
            "channels": {"hook": {"type": "recording"}},
            "policies": [
                {
                    "name": "call",
                    "action": "retention_call",
                    "channel": "hook",
                    "cost": 10,
                    "effectiveness": 0.5,
                    **policy,
                }
            ],
        }
    )


def _frame() -> pd.DataFrame:
    exposure = pd.DataFrame(
        {
            "customer_id": ["risky_cheap", "valuable", "middle", "other_issue"],
            "issue": ["billing_error"] * 3 + ["late_delivery"],
            "segment": ["consumer", "premium", "smb", "consumer"],
            "value": [50.0, 5000.0, 800.0, 9000.0],
            "churn_probability": [0.9, 0.2, 0.3, 0.5],
        }
    )
    return candidates(exposure, pd.DataFrame({"case_id": [1], "issue": ["billing_error"]}))


def test_uplift_not_raw_risk_decides_the_order() -> None:
    scored = score_targets(_frame(), _rules(), {})
    # valuable: 5000*0.2*0.5-10 = 490; middle: 800*0.3*0.5-10 = 110; risky_cheap: 22.5-10 = 12.5
    assert list(scored["customer_id"]) == ["valuable", "middle", "risky_cheap"]
    assert scored["expected_uplift"].tolist() == pytest.approx([490.0, 110.0, 12.5])
    assert set(scored["uplift_source"]) == {"assumption"}
    assert "other_issue" not in set(scored["customer_id"])  # not a customer of an open case


def test_negative_uplift_is_never_targeted() -> None:
    scored = score_targets(_frame(), _rules(cost=200), {})
    assert list(scored["customer_id"]) == ["valuable"]


def test_eligibility_filters() -> None:
    rules = _rules(
        eligibility={"min_value": 500, "segments": ["smb"], "root_causes": ["billing_error"]}
    )
    assert list(score_targets(_frame(), rules, {})["customer_id"]) == ["middle"]


def test_budget_is_spent_best_first_and_holdouts_cost_nothing() -> None:
    frame = pd.DataFrame(
        {
            "cost": [10.0, 10.0, 10.0, 10.0],
            "holdout": [False, True, False, False],
            "policy": ["call"] * 4,
        }
    )
    assert within_budget(frame, _rules(budget=20)).tolist() == [True, True, True, False]
    per_policy = _rules(100)
    per_policy.policies[0].budget = 10
    assert within_budget(frame, per_policy).tolist() == [True, True, False, False]


def test_plan_records_holdout_keys_tiers_and_context() -> None:
    rules = _rules(holdout=0.5, context={"script": "About ${issue_label} (${value_tier})"})
    plan = plan_targets(
        _frame(),
        rules,
        load_playbook(),
        contacts=pd.DataFrame(columns=["customer_id"]),
        suppressed=set(),
        history=pd.DataFrame(columns=["customer_id", "channel", "created_at"]),
        now=NOW,
    )
    actions = plan.actions
    assert len(actions) == 3 and actions["idempotency_key"].is_unique
    assert set(actions["value_tier"]) == {"all"}
    assert actions["context"].iloc[0] == {"script": "About billing error (all)"}
    again = plan_targets(
        _frame(),
        rules,
        load_playbook(),
        contacts=pd.DataFrame(columns=["customer_id"]),
        suppressed=set(),
        history=pd.DataFrame(columns=["customer_id", "channel", "created_at"]),
        now=NOW,
    ).actions
    assert actions[["idempotency_key", "holdout"]].equals(again[["idempotency_key", "holdout"]])


def test_a_fitted_uplift_model_replaces_the_assumption() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    data = pd.DataFrame(
        {"churn_probability": rng.uniform(0, 1, n), "value": rng.uniform(10, 10000, n)}
    )
    treated = rng.random(n) < 0.5
    # the action divides the odds of churn by e: treated log-odds = log-odds - 1
    logit = np.log(data["churn_probability"] / (1 - data["churn_probability"]))
    p = np.where(treated, 1 / (1 + np.exp(-(logit - 1))), data["churn_probability"])
    churned = (rng.random(n) < p).astype(int)
    model = TwoModelUplift().fit(uplift_features(data), churned, treatment=treated)
    scored = score_targets(_frame(), _rules(), {}, model)
    assert set(scored["uplift_source"]) == {"model"}
    assert scored["risk_reduction"].to_numpy() == pytest.approx(
        model.predict(uplift_features(scored))
    )
    # one model per policy: a policy without its own model keeps the playbook assumption
    assumed = score_targets(_frame(), _rules(), {}, {"another_policy": model})
    assert set(assumed["uplift_source"]) == {"assumption"}
    learned = score_targets(_frame(), _rules(), {}, {"call": model})
    assert set(learned["uplift_source"]) == {"model"}
    truth = data["churn_probability"] - 1 / (1 + np.exp(-(logit - 1)))
    assert np.abs(model.predict(uplift_features(data)) - truth).mean() < 0.03
