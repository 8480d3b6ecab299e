"""Strategy presets: explainable rankings, balanced = today's order, validated user presets."""

from __future__ import annotations

import typing
from datetime import date
from pathlib import Path
from typing import Any

import annotated_types as at
import numpy as np
import pandas as pd
import pytest
import yaml

from cximpact.errors import ConfigError, NotFoundError
from cximpact.flow import FlowResult, material_issues_of, run
from cximpact.metrics.presets import (
    FEATURES,
    METRIC_IDS,
    StrategyPreset,
    compare_rankings,
    issue_features,
    load_presets,
    material_under_preset,
    preset_from_settings,
    prioritise,
)
from cximpact.settings import load_settings
from cximpact.simulate import SimulationConfig, simulate, write_enterprise

AS_OF = pd.Timestamp("2026-07-01")
BUILT_INS = {"balanced", "growth", "profit_protection", "exit_valuation", "turnaround"}


def _hand_made() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two issues: ``billing`` holds more revenue at risk among long-standing customers,
    ``onboarding`` less, all of it among customers who started 30 days ago."""
    issues = pd.DataFrame(
        {
            "rank": [1, 2],
            "issue": ["billing", "onboarding"],
            "revenue_at_risk": [6000.0, 4000.0],
            "customers": [3, 2],
            "contacts": [6, 4],
            "repeat_contacts": [1, 0],
            "handling_cost": [60.0, 40.0],
            "escalations": [0, 0],
            "churn_language": [0, 0],
            "competitor_mentions": [0, 0],
            "share_of_exposure": [0.6, 0.4],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["old1", "old2", "old3", "new1", "new2"],
            "issue": ["billing"] * 3 + ["onboarding"] * 2,
            "value": [10000.0, 10000.0, 10000.0, 10000.0, 10000.0],
            "revenue_at_risk": [2000.0, 2000.0, 2000.0, 2000.0, 2000.0],
            "attributable_probability": [0.2] * 5,
        }
    )
    profiles = pd.DataFrame(
        {
            "id": ["old1", "old2", "old3", "new1", "new2"],
            "start_date": [AS_OF - pd.Timedelta(days=d) for d in (2000, 3000, 4000, 30, 30)],
            "monthly_revenue": [100.0] * 5,
            "monthly_margin": [40.0] * 5,
        }
    )
    signals = pd.DataFrame(
        {
            "customer_id": ["old1", "new1"],
            "timestamp": [AS_OF - pd.Timedelta(days=50), AS_OF - pd.Timedelta(days=2)],
            "root_cause": ["billing", "onboarding"],
        }
    )
    return issues, customers, signals, profiles


def test_growth_moves_the_issue_of_new_customers_up_and_says_why() -> None:
    issues, customers, signals, profiles = _hand_made()
    presets = load_presets()
    balanced = prioritise(issues, customers, signals, presets["balanced"], profiles=profiles)
    growth = prioritise(issues, customers, signals, presets["growth"], profiles=profiles)
    assert list(balanced["issue"]) == ["billing", "onboarding"]
    assert list(growth["issue"]) == ["onboarding", "billing"]
    top = growth.iloc[0]
    # onboarding holds all the new-customer exposure: 0.45 of its score comes from it
    assert top["contribution_new_customer_exposure"] == pytest.approx(0.45)
    assert top["feature_new_customer_exposure"] == pytest.approx(4000.0)
    parts = growth.filter(like="contribution_").sum(axis=1)
    np.testing.assert_allclose(parts, growth["priority_score"])
    moved = compare_rankings(balanced, growth).set_index("issue")
    assert moved.loc["onboarding", "moved"] == 1
    assert moved.loc["onboarding", "driver"] == "new_customer_exposure"


def test_prioritise_does_not_modify_its_inputs() -> None:
    frames = _hand_made()
    before = [f.copy() for f in frames]
    issues, customers, signals, profiles = frames
    prioritise(issues, customers, signals, load_presets()["exit_valuation"], profiles=profiles)
    for frame, copy in zip(frames, before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)


def test_features_without_profiles_are_reported_unavailable() -> None:
    issues, customers, signals, _ = _hand_made()
    ranked = prioritise(issues, customers, signals, load_presets()["growth"])
    assert set(ranked.attrs["unavailable"]) == {
        "new_customer_exposure",
        "recurring_revenue_at_risk",
    }
    features = issue_features(issues, customers, signals)
    assert list(features.columns) == list(FEATURES)


def test_rising_contacts_counts_recent_contacts_above_the_earlier_rate() -> None:
    issues, customers, _, _ = _hand_made()
    days = pd.date_range(AS_OF - pd.Timedelta(days=99), AS_OF, freq="D")
    # billing: one contact a day throughout; onboarding: none until 5 a day in the last 28
    billing = pd.DataFrame({"timestamp": days, "root_cause": "billing"})
    recent = days[-28:].repeat(5)
    onboarding = pd.DataFrame({"timestamp": recent, "root_cause": "onboarding"})
    signals = pd.concat([billing, onboarding], ignore_index=True)
    features = issue_features(issues, customers, signals, as_of=AS_OF, recent_days=28)
    assert features.loc["onboarding", "rising_contacts"] == pytest.approx(140.0)
    assert features.loc["billing", "rising_contacts"] == pytest.approx(0.0, abs=1.0)


# ------------------------------------------------------------------ on a simulated enterprise


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> FlowResult:
    tmp = tmp_path_factory.mktemp("presets")
    write_enterprise(simulate(SimulationConfig(customers=3000, days=120, seed=2)), tmp / "data")
    return run(tmp / "data", load_settings(db=tmp / "a.duckdb"), today=date(2026, 6, 1))


def _rank(result: FlowResult, name: str, profiles: pd.DataFrame | None = None) -> pd.DataFrame:
    analysis = result.analysis
    return prioritise(
        analysis.exposure.issues,
        analysis.exposure.customers,
        analysis.signals,
        load_presets()[name],
        profiles=analysis.customers if profiles is None else profiles,
        as_of=analysis.as_of,
    )


def test_balanced_is_the_revenue_at_risk_order(simulated: FlowResult) -> None:
    issues = simulated.analysis.exposure.issues
    ranked = _rank(simulated, "balanced")
    assert list(ranked["issue"]) == list(issues.sort_values("rank")["issue"])
    np.testing.assert_allclose(
        ranked["priority_score"], ranked["share_of_exposure"], rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("name", sorted(BUILT_INS - {"balanced"}))
def test_every_preset_ranks_by_its_explained_score(simulated: FlowResult, name: str) -> None:
    ranked = _rank(simulated, name)
    scores = ranked["priority_score"].to_numpy()
    assert np.all(np.diff(scores) <= 1e-15)  # sorted by score
    assert scores.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(ranked.filter(like="contribution_").sum(axis=1), scores)
    assert list(ranked["priority_rank"]) == list(range(1, len(ranked) + 1))
    assert ranked.attrs["unavailable"] == []


def test_growth_lifts_an_issue_concentrated_in_new_customers(simulated: FlowResult) -> None:
    """The same simulated data, except that every customer of the lowest-ranked issue that
    carries exposure started 30 days ago: growth ranks that issue higher than balanced does."""
    analysis = simulated.analysis
    assert analysis.customers is not None
    issues = analysis.exposure.issues
    exposed = issues[issues["revenue_at_risk"] > 0].sort_values("rank")
    target = str(exposed.iloc[-1]["issue"])
    rows = analysis.exposure.customers
    carriers = set(rows.loc[rows["issue"] == target, "customer_id"])
    tenure_days = np.where(analysis.customers["id"].isin(carriers), 30, 3000)
    profiles = analysis.customers.assign(
        start_date=analysis.as_of - pd.to_timedelta(tenure_days, unit="D")
    )
    balanced = _rank(simulated, "balanced", profiles)
    growth = _rank(simulated, "growth", profiles)
    rank = {n: f.set_index("issue")["priority_rank"] for n, f in (("b", balanced), ("g", growth))}
    assert rank["g"][target] < rank["b"][target]
    row = growth.set_index("issue").loc[target]
    assert row["contribution_new_customer_exposure"] == max(
        growth["contribution_new_customer_exposure"]
    )


def test_a_preset_changes_which_issues_get_a_case(simulated: FlowResult) -> None:
    settings = load_settings(case_threshold_amount=5000, case_threshold_share=0.05)
    issues = simulated.analysis.exposure.issues
    today = set(material_issues_of(issues, settings)["issue"])
    assert (
        set(material_issues_of(issues, settings, simulated.analysis)["issue"]) == today
    )  # balanced
    turnaround = settings.model_copy(update={"strategy_preset": "turnaround"})
    chosen = set(material_issues_of(issues, turnaround, simulated.analysis)["issue"])
    ranked = _rank(simulated, "turnaround")
    preset = load_presets()["turnaround"]
    expected = set(ranked.loc[material_under_preset(ranked, preset, turnaround), "issue"])
    assert chosen == expected
    assert chosen != today


# ------------------------------------------------------------------ loading and validation


def _write(tmp_path: Path, presets: Any) -> Path:
    path = tmp_path / "presets.yaml"
    path.write_text(yaml.safe_dump(presets), encoding="utf-8")
    return path


GOOD: dict[str, Any] = {
    "description": "Mine",
    "weights": {"revenue_at_risk": 1.0, "cost_to_serve": 1.0},
    "headline_metrics": ["cost_per_contact"],
}


def test_built_ins_and_headline_metric_ids() -> None:
    presets = load_presets()
    assert set(presets) == BUILT_INS
    for preset in presets.values():
        assert set(preset.headline_metrics) <= set(METRIC_IDS)
    assert presets["balanced"].weights == {"revenue_at_risk": 1.0}
    assert presets["balanced"].case_threshold_amount is None  # the settings decide


def test_user_presets_are_merged_over_the_built_ins(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "presets": {
                "mine": GOOD,
                "growth": GOOD | {"description": "replaced"},
                "cautious_growth": {"extends": "growth", "case_threshold_amount": 9000},
            }
        },
    )
    presets = load_presets(path)
    assert set(presets) == BUILT_INS | {"mine", "cautious_growth"}
    assert presets["growth"].description == "replaced"
    assert presets["cautious_growth"].case_threshold_amount == 9000
    assert presets["cautious_growth"].weights == presets["growth"].weights  # the user's growth
    settings = load_settings(strategy_presets_file=path, strategy_preset="mine")
    assert preset_from_settings(settings).name == "mine"
    with pytest.raises(NotFoundError, match=r"'nope' is unknown.*balanced"):
        preset_from_settings(settings, "nope")


def _invalid_values(annotation: Any, metadata: list[Any]) -> list[Any]:
    """Values just outside each declared constraint (scikit-learn's generated invalid params)."""
    bad: list[Any] = []
    for rule in metadata:
        if isinstance(rule, at.Ge):
            bad.append(rule.ge - 1)
        elif isinstance(rule, at.Gt):
            bad.append(rule.gt)
        elif isinstance(rule, at.Le):
            bad.append(rule.le + 1)
        elif isinstance(rule, at.Lt):
            bad.append(rule.lt)
        elif isinstance(rule, at.MinLen):
            bad.append({} if typing.get_origin(annotation) is dict else [])
        elif isinstance(rule, at.MaxLen):
            bad.append("x" * (rule.max_length + 1))
    if typing.Literal in {typing.get_origin(a) for a in typing.get_args(annotation)}:
        bad.append("not_a_choice")
    return bad


def _cases() -> list[Any]:
    cases = []
    for name, field in StrategyPreset.model_fields.items():
        if name in {"name"}:
            continue
        for value in _invalid_values(field.annotation, field.metadata):
            cases.append(pytest.param(name, value, id=f"{name}={value!r}"[:60]))
    weight = typing.get_args(StrategyPreset.model_fields["weights"].annotation)[1]
    inner = typing.get_args(weight)[1].metadata
    cases += [
        pytest.param("weights", {"revenue_at_risk": v}, id=f"weight={v}")
        for v in _invalid_values(float, inner)
    ]
    cases += [
        pytest.param("weights", {"not_a_feature": 1.0}, id="unknown feature"),
        pytest.param("weights", {"revenue_at_risk": 0.0}, id="all weights zero"),
        pytest.param("headline_metrics", ["not_a_metric"], id="unknown metric id"),
        pytest.param("headline_metrics", ["ebitda_impact"] * 2, id="metric twice"),
        pytest.param("colour", "blue", id="unknown field"),
    ]
    return cases


@pytest.mark.parametrize(("field", "value"), _cases())
def test_invalid_user_presets_are_clear_errors(tmp_path: Path, field: str, value: Any) -> None:
    path = _write(tmp_path, {"presets": {"mine": GOOD | {field: value}}})
    with pytest.raises(ConfigError) as caught:
        load_presets(path)
    message = str(caught.value)
    assert str(path) in message and "'mine'" in message
    assert field in message or "weights" in message


def test_every_constraint_generates_at_least_one_case() -> None:
    """A constraint added later is covered by the generated tests, not forgotten."""
    covered = {c.values[0] for c in _cases()}
    constrained = {n for n, f in StrategyPreset.model_fields.items() if f.metadata and n != "name"}
    assert constrained <= covered


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("presets: [1, 2]", "expected a top-level 'presets' mapping"),
        ("other: {}", "expected a top-level 'presets' mapping"),
        ("presets: {mine: 3}", "must be a mapping"),
        ("presets: {balanced: {description: x}}", "cannot be redefined"),
        ("presets: {mine: {extends: nope}}", "extends unknown preset 'nope'"),
        ("presets: {a: {extends: b}, b: {extends: a}}", "extend each other in a cycle"),
        ("presets: {Bad-Name: {description: x}}", "field name"),
        ("presets: {mine: [", "cannot be read"),
    ],
)
def test_malformed_preset_files_are_clear_errors(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "presets.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        load_presets(path)


def test_a_missing_presets_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"strategy presets file .*missing\.yaml"):
        load_presets(tmp_path / "missing.yaml")


def test_compare_names_the_driver_with_the_presets_own_weights() -> None:
    """A feature that is zero for every issue keeps its weight: here it explains B's fall."""
    from cximpact.metrics.presets import compare_rankings

    first = pd.DataFrame(
        {"issue": ["B", "A"], "priority_rank": [1, 2], "priority_score": [0.8, 0.2]}
    )
    second = pd.DataFrame(
        {
            "issue": ["A", "B"],
            "priority_rank": [1, 2],
            "priority_score": [0.5, 0.4],
            "contribution_x": [0.3, 0.3],
            "contribution_y": [0.2, 0.1],
            "contribution_z": [0.0, 0.0],
        }
    )
    weights = pd.Series({"x": 0.5, "y": 0.25, "z": 0.25})
    with_weights = compare_rankings(first, second, weights).set_index("issue")["driver"]
    read_back = compare_rankings(first, second).set_index("issue")["driver"]
    assert with_weights["B"] == "z"  # B had 0.8 of the first score and nothing on z
    assert read_back["B"] == "x"  # z's weight is lost when read back from contributions
    assert with_weights["A"] == "x"
