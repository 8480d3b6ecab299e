"""The investment calculator: known-value arithmetic, measured vs assumed, overrides,
sensitivity, attribution plans and clear errors for bad assumption files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from cximpact.errors import ConfigError, NotFoundError
from cximpact.flow import FlowResult, run
from cximpact.metrics.invest import (
    BENEFIT_INPUTS,
    COST_INPUTS,
    REQUIRED,
    attribution_plan,
    build_inputs,
    cash_flows,
    evaluate_investment,
    get_initiative,
    load_initiatives,
    measure_baseline,
    net_present_value,
    parse_overrides,
    payback_months,
    return_on_investment,
    sensitivity,
    yearly_effects,
)
from cximpact.settings import load_settings
from cximpact.simulate import SimulationConfig, simulate, write_enterprise

CATALOGUE = {
    "proactive_status_notifications",
    "self_service_top_intents",
    "agent_knowledge",
    "onboarding_education",
}

#: Hand-made inputs: 1000 contacts x 0.5 targeted x 0.2 deflected = 100 contacts x 5 = 500
#: saved; 100 problem customers x 0.5 prevented x 0.2 retained = 10 x 100 = 1000 protected;
#: no word of mouth. Benefit 1500 a year, running cost 500, one-off 2000.
HAND: dict[str, float] = {
    "contacts_per_year": 1000,
    "targeted_contact_share": 0.5,
    "deflection_rate": 0.2,
    "handling_cost_per_contact": 5,
    "problem_customers_per_year": 100,
    "problem_prevention_rate": 0.5,
    "retained_per_prevented_problem": 0.2,
    "customer_value": 100,
    "referrals_per_retained_customer": 0,
    "word_of_mouth_value_premium": 0.25,
    "first_year_realisation": 1.0,
    "one_off_cost": 2000,
    "running_cost_per_year": 500,
}


def test_yearly_effects_follow_the_formulas() -> None:
    effects = yearly_effects(HAND)
    assert effects["contacts_prevented"] == pytest.approx(100)
    assert effects["cost_saved"] == pytest.approx(500)
    assert effects["problems_prevented"] == pytest.approx(50)
    assert effects["customers_retained"] == pytest.approx(10)
    assert effects["revenue_protected"] == pytest.approx(1000)
    assert effects["benefit"] == pytest.approx(1500)
    referred = yearly_effects(HAND | {"referrals_per_retained_customer": 0.1})
    # 10 retained x 0.1 referrals x 100 value x 1.25 (word-of-mouth premium)
    assert referred["word_of_mouth_value"] == pytest.approx(125)


def test_npv_roi_and_payback_known_values() -> None:
    """Discounted cash flow, end-of-year convention (Brealey, Myers & Allen, *Principles of
    Corporate Finance*, ch. 2): NPV = sum_t CF_t / (1 + r)^t. By hand, r = 10%, 3 years,
    CF = (-2000, 1000, 1000, 1000): NPV = -2000 + 1000 (1/1.1 + 1/1.21 + 1/1.331) = 486.852;
    PV(costs) = 2000 + 500 x 2.486852 = 3243.426, ROI = NPV / PV(costs) = 0.150104; the
    cumulative cash flow reaches zero at the end of year 2: 24 months. Tolerance 1e-6."""
    flows = cash_flows(HAND, 3)
    np.testing.assert_allclose(flows, [-2000, 1000, 1000, 1000])
    assert net_present_value(flows, 0.10) == pytest.approx(486.851991, abs=1e-6)
    roi = return_on_investment(HAND, 3, 0.10)
    assert roi == pytest.approx(486.851991 / 3243.425995, abs=1e-6)
    assert payback_months(flows) == pytest.approx(24.0)


def test_first_year_ramp_delays_payback() -> None:
    """Year one realises half the benefit: CF = (-2000, 250, 1000, 1000); cumulative -1750,
    -750, +250, so payback = 24 + 12 x 750 / 1000 = 33 months."""
    flows = cash_flows(HAND | {"first_year_realisation": 0.5}, 3)
    np.testing.assert_allclose(flows, [-2000, 250, 1000, 1000])
    assert payback_months(flows) == pytest.approx(33.0)


def test_payback_is_none_when_never_reached_and_zero_without_upfront_cost() -> None:
    assert payback_months(np.array([-1000.0, 100.0, 100.0])) is None
    assert payback_months(np.array([0.0, 100.0])) == 0.0
    # nothing up front but a loss every year never pays back
    assert payback_months(np.array([0.0, -100.0, -100.0, -100.0])) is None
    # a dip below zero after an early gain: payback when it turns for good (year 2, 6 months)
    assert payback_months(np.array([0.0, -100.0, 200.0])) == pytest.approx(18.0)
    assert (
        return_on_investment(HAND | {"one_off_cost": 0, "running_cost_per_year": 0}, 3, 0.1) is None
    )


def test_catalogue_initiatives_are_complete_and_cited() -> None:
    initiatives = load_initiatives()
    assert set(initiatives) >= CATALOGUE
    status = initiatives["proactive_status_notifications"].assumptions
    assert "five customers" in status["retained_per_prevented_problem"].source
    assert "25%" in status["word_of_mouth_value_premium"].source
    assert "30%" in status["targeted_contact_share"].source
    for initiative in initiatives.values():
        assert set(initiative.assumptions) == set(REQUIRED)
    with pytest.raises(NotFoundError, match="expected one of"):
        get_initiative(initiatives, "teleportation")


# ------------------------------------------------------------------ overrides and sensitivity


def test_set_overrides_win_and_widen_the_range() -> None:
    initiative = load_initiatives()["agent_knowledge"]
    inputs = build_inputs(initiative, None, parse_overrides(["deflection_rate=0.9"]))
    item = inputs["deflection_rate"]
    assert (item.value, item.basis, item.high) == (0.9, "set", 0.9)
    assert inputs["one_off_cost"].basis == "assumed"
    result = evaluate_investment(initiative, inputs, years=5)
    assert result["set"] == ["deflection_rate"]
    assert "deflection_rate" not in result["assumed"]


@pytest.mark.parametrize(
    ("pairs", "match"),
    [
        (["deflection_rate"], "expected name=number"),
        (["deflection_rate=lots"], "expected name=number"),
        (["=3"], "expected name=number"),
        (["warp_factor=3"], "unknown input"),
        (["deflection_rate=1.5"], r"expected a number in \[0, 1.0\]"),
        (["one_off_cost=-5"], "expected a number in"),
    ],
)
def test_bad_overrides_are_clear_errors(pairs: list[str], match: str) -> None:
    initiative = load_initiatives()["agent_knowledge"]
    with pytest.raises(ConfigError, match=match):
        build_inputs(initiative, None, parse_overrides(pairs))


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_npv_moves_with_each_input_in_its_direction(name: str) -> None:
    """Benefit inputs never lower the NPV as they rise; costs never raise it."""
    inputs = build_inputs(load_initiatives()[name])
    base = {k: i.value for k, i in inputs.items()}
    for key, item in inputs.items():
        grid = np.linspace(item.low, item.high, 7)
        npvs = [net_present_value(cash_flows(base | {key: v}, 5), 0.1) for v in grid]
        steps = np.diff(npvs)
        if key in BENEFIT_INPUTS:
            assert np.all(steps >= -1e-6), key
        else:
            assert key in COST_INPUTS and np.all(steps <= 1e-6), key
    rows = sensitivity(inputs, 5, 0.1)
    swings = [r["swing"] for r in rows]
    assert swings == sorted(swings, reverse=True)  # tornado order
    for r in rows:
        rising = r["npv_at_high"] >= r["npv_at_low"]
        assert rising == (r["input"] in BENEFIT_INPUTS) or r["swing"] == 0


# ------------------------------------------------------------------ attribution


def test_attribution_follows_randomisability_segments_and_history() -> None:
    initiatives = load_initiatives()
    common: dict[str, Any] = {"customers": 5000, "churn_rate": 0.2, "expected_effect": 0.2}
    ab = attribution_plan(initiatives["proactive_status_notifications"], **common)
    assert ab["method"] == "randomised_holdout" and ab["planned_sample_size"] > 0
    rollout = attribution_plan(
        initiatives["agent_knowledge"], **common, segments=["consumer", "smb"]
    )
    assert rollout["method"] == "phased_rollout"
    its = attribution_plan(initiatives["agent_knowledge"], **common, history_days=90)
    assert its["method"] == "interrupted_time_series"
    short = attribution_plan(initiatives["self_service_top_intents"], **common, history_days=10)
    assert short["method"] == "pre_post_volume_adjusted"
    big = attribution_plan(
        initiatives["onboarding_education"], **(common | {"customers": 1_000_000})
    )
    assert (
        big["adequately_powered"]
        and not attribution_plan(
            initiatives["onboarding_education"], **(common | {"customers": 50})
        )["adequately_powered"]
    )


# ------------------------------------------------------------------ measured from the data


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> FlowResult:
    tmp = tmp_path_factory.mktemp("invest")
    write_enterprise(simulate(SimulationConfig(customers=2000, days=120, seed=3)), tmp / "data")
    return run(tmp / "data", load_settings(db=tmp / "a.duckdb"), today=date(2026, 6, 1))


def test_baseline_is_measured_from_the_company_data(simulated: FlowResult) -> None:
    analysis = simulated.analysis
    initiative = load_initiatives()["agent_knowledge"]
    signals = analysis.signals
    measured = measure_baseline(
        initiative,
        signals,
        analysis.exposure.customers,
        analysis.exposure.issues,
        window_days=analysis.window_days,
    )
    targeted = signals["root_cause"].isin(initiative.addresses)
    per_year = 365 / analysis.window_days
    assert measured["contacts_per_year"].value == pytest.approx(len(signals) * per_year)
    assert measured["targeted_contact_share"].value == pytest.approx(targeted.mean())
    assert measured["handling_cost_per_contact"].value == pytest.approx(
        signals.loc[targeted, "handling_cost"].mean()
    )
    rows = analysis.exposure.customers
    carriers = rows.loc[rows["issue"].isin(initiative.addresses), "customer_id"].nunique()
    assert measured["problem_customers_per_year"].value == pytest.approx(carriers * per_year)
    assert "retained_per_prevented_problem" in measured  # risk learned from outcomes
    for m in measured.values():
        assert m.low <= m.value <= m.high
    inputs = build_inputs(initiative, measured, {"customer_value": 1234.0})
    result = evaluate_investment(initiative, inputs)
    assert set(result["measured"]) == set(measured) - {"customer_value"}
    assert result["set"] == ["customer_value"]
    assert "deflection_rate" in result["assumed"] and "one_off_cost" in result["assumed"]
    sources = {i["name"]: i["source"] for i in result["inputs"]}
    assert "share of contacts" in sources["targeted_contact_share"]


def test_onboarding_is_measured_on_new_customers_only(simulated: FlowResult) -> None:
    analysis = simulated.analysis
    assert analysis.customers is not None
    initiative = load_initiatives()["onboarding_education"]
    start = pd.to_datetime(analysis.customers["start_date"])
    new = pd.Index(analysis.customers.loc[(analysis.as_of - start).dt.days < 365, "id"])
    args = (initiative, analysis.signals, analysis.exposure.customers, analysis.exposure.issues)
    everyone = measure_baseline(*args, window_days=analysis.window_days)
    first_year = measure_baseline(*args, window_days=analysis.window_days, new_customers=new)
    assert 0 < first_year["targeted_contact_share"].value < everyone["targeted_contact_share"].value
    assert (
        first_year["problem_customers_per_year"].value
        < everyone["problem_customers_per_year"].value
    )


# ------------------------------------------------------------------ bad assumption files


def _file(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "assumptions.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content)
    path.write_text(text, encoding="utf-8")
    return path


def test_an_assumptions_file_overrides_one_key_and_labels_it(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        {"initiatives": {"agent_knowledge": {"assumptions": {"deflection_rate": {"value": 0.2}}}}},
    )
    item = load_initiatives(path)["agent_knowledge"].assumptions["deflection_rate"]
    assert item.value == 0.2 and item.low == 0.05 and str(path) in item.source


NEW = {
    "description": "A chatbot",
    "addresses": ["plan_question"],
    "randomisable": False,
    "assumptions": {
        "one_off_cost": {"value": 1, "low": 0, "high": 2, "source": "quote"},
        "running_cost_per_year": {"value": 1, "low": 0, "high": 2, "source": "quote"},
        "targeted_contact_share": {"value": 0.1, "low": 0, "high": 0.2, "source": "assumption"},
        "deflection_rate": {"value": 0.1, "low": 0, "high": 0.2, "source": "assumption"},
        "problem_prevention_rate": {"value": 0.1, "low": 0, "high": 0.2, "source": "assumption"},
    },
}


def test_a_new_initiative_takes_the_shared_defaults(tmp_path: Path) -> None:
    initiative = load_initiatives(_file(tmp_path, {"initiatives": {"chatbot": NEW}}))["chatbot"]
    assert initiative.assumptions["retained_per_prevented_problem"].value == 0.2


def _broken(field: str, value: Any) -> dict[str, Any]:
    entry = {k: v for k, v in NEW.items()}
    entry["assumptions"] = dict(NEW["assumptions"])  # type: ignore[call-overload]
    if field.startswith("assumptions."):
        entry["assumptions"][field.split(".", 1)[1]] = value
    else:
        entry[field] = value
    return {"initiatives": {"chatbot": entry}}


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("initiatives: [", "cannot be read"),
        ("[1, 2]", "expected a mapping with 'initiatives'"),
        ({"initiativs": {}}, "unknown top-level keys"),
        ({"initiatives": {"chatbot": 3}}, "must be a mapping"),
        (
            _broken(
                "assumptions.deflection_rate", {"value": 0.5, "low": 0, "high": 0.2, "source": "x"}
            ),
            "low <= value <= high",
        ),
        (
            _broken(
                "assumptions.deflection_rate", {"value": 1.5, "low": 0, "high": 2, "source": "x"}
            ),
            "is a share",
        ),
        (
            _broken(
                "assumptions.deflection_rate", {"value": -1, "low": -2, "high": 0, "source": "x"}
            ),
            "greater than or equal",
        ),
        (
            _broken("assumptions.deflection_rate", {"value": 0.1, "high": 0.2, "source": "x"}),
            "deflection_rate.low: Field required",
        ),
        (
            _broken("assumptions.warp_factor", {"value": 1, "low": 0, "high": 2, "source": "x"}),
            r"unknown \['warp_factor'\]",
        ),
        (_broken("addresses", []), "field addresses"),
        (_broken("randomisable", "sometimes"), "field randomisable"),
        (_broken("colour", "blue"), "field colour"),
    ],
)
def test_bad_assumption_files_are_clear_errors(tmp_path: Path, content: Any, match: str) -> None:
    path = _file(tmp_path, content)
    with pytest.raises(ConfigError, match=match) as caught:
        load_initiatives(path)
    assert str(path) in str(caught.value)


def test_missing_fields_of_a_new_initiative_are_named(tmp_path: Path) -> None:
    entry = {k: v for k, v in NEW.items() if k != "assumptions"}
    path = _file(tmp_path, {"initiatives": {"chatbot": entry}})
    with pytest.raises(ConfigError, match=r"'chatbot'.*missing \['one_off_cost'"):
        load_initiatives(path)


def test_years_and_discount_rate_are_checked() -> None:
    initiative = load_initiatives()["agent_knowledge"]
    inputs = build_inputs(initiative)
    with pytest.raises(ConfigError, match="--years"):
        evaluate_investment(initiative, inputs, years=0)
    with pytest.raises(ConfigError, match="--discount-rate"):
        evaluate_investment(initiative, inputs, discount_rate=1.5)
