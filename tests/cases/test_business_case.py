"""Business case arithmetic, routing and severity."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cximpact.cases.business_case import build_business_case, load_playbook, measurement_plan
from cximpact.cases.routing import load_routing, severity_of
from cximpact.errors import ConfigError


def _issue(**over: float | str) -> pd.Series:
    base = {
        "issue": "billing_error",
        "revenue_at_risk": 100_000.0,
        "revenue_at_risk_low": 80_000.0,
        "revenue_at_risk_high": 120_000.0,
        "customers": 200,
        "aggregate_ltv": 900_000.0,
        "contacts": 400,
        "repeat_contacts": 100,
        "handling_cost": 2_000.0,
        "risk_source": "model",
    }
    return pd.Series(base | over)


def _affected(n: int = 30) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "value": range(n),
            "value_source": "finance",
            "revenue_at_risk": 1.0,
            "why": "1 contact",
        }
    )


def test_cost_of_inaction_and_recommendation_is_best_net_value() -> None:
    playbook = load_playbook()
    case = build_business_case(
        _issue(), _affected(), playbook=playbook, horizon_days=360, window_days=180
    )
    # repeat cost: 2000 * 100/400 = 500 over 180 days -> 1000 over 360 days
    assert case["repeat_contact_cost"] == pytest.approx(1000.0)
    assert case["cost_of_inaction"] == pytest.approx(101_000.0)
    nets = {o["response"]: o["net_value"] for o in case["options"]}
    assert case["recommended_response"] == max(nets, key=nets.__getitem__)
    fix = next(o for o in case["options"] if o["response"] == "fix_root_cause")
    assert fix["expected_benefit"] == pytest.approx(0.6 * 100_000 + 1000)
    assert [c["customer_id"] for c in case["top_customers"]][:2] == ["c29", "c28"]
    assert "$100,000" in case["narrative"]


def test_small_issue_recommends_cheap_option() -> None:
    case = build_business_case(
        _issue(revenue_at_risk=5_000.0, customers=10),
        _affected(10),
        playbook=load_playbook(),
        horizon_days=180,
        window_days=180,
    )
    assert case["recommended_response"] != "fix_root_cause"


def test_payback_uses_the_horizon_and_losing_options_are_not_recommended() -> None:
    """Benefit over 6 months at $10k/month against a $25k fix: payback 2.5 months."""
    case = build_business_case(
        _issue(revenue_at_risk=100_000.0, repeat_contacts=0),
        _affected(),
        playbook=load_playbook(),
        horizon_days=182,
        window_days=182,
    )
    fix = next(o for o in case["options"] if o["response"] == "fix_root_cause")
    assert fix["payback_months"] == pytest.approx(25_000 / (60_000 / (182 / 30.4)), abs=0.05)
    tiny = build_business_case(
        _issue(revenue_at_risk=50.0, customers=3),
        _affected(3),
        playbook=load_playbook(),
        horizon_days=365,
        window_days=365,
    )
    assert tiny["recommended_response"] == "monitor" and tiny["cost_of_intervention"] == 0
    assert "monitor" in tiny["narrative"]


def test_measurement_plan_mde_shrinks_with_sample_size() -> None:
    small = measurement_plan("retention_call", 200, 0.1, 365)
    large = measurement_plan("retention_call", 20_000, 0.1, 365)
    assert small["method"] == "randomised_holdout"
    assert large["minimum_detectable_effect"] < small["minimum_detectable_effect"]
    assert measurement_plan("fix_root_cause", 500, 0.1, 365)["method"] == "pre_post_volume_adjusted"


def test_routing_first_match_and_fallback_and_due_date() -> None:
    routing = load_routing()
    assert routing.route("billing_error")[0] == "Billing Operations"
    assert routing.route("never_heard_of_it") == (routing.fallback.team, routing.fallback.owner)
    assert routing.due("critical", date(2026, 1, 1)) == date(2026, 1, 8)


def test_bad_routing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("rules: []\nfallback: {team: x}\n")
    with pytest.raises(ConfigError, match="owner"):
        load_routing(path)


def test_severity_levels() -> None:
    assert severity_of(0.3, 0.1) == "critical"
    assert severity_of(0.12, 0.1) == "high"
    assert severity_of(0.12, 0.6) == "critical"
    assert severity_of(0.01, 0.1) == "low"
