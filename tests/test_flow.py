"""End to end: the flow recovers the planted ranking on simulated enterprises of several seeds."""

import json
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from scipy.stats import kendalltau

from cximpact.flow import run
from cximpact.settings import load_settings
from cximpact.simulate import SimulationConfig, simulate, write_enterprise
from cximpact.store.analytics import AnalyticsStore
from cximpact.store.state import StateStore


def _run(tmp_path: Path, seed: int, customers: int = 20000):
    data = tmp_path / "data"
    write_enterprise(simulate(SimulationConfig(customers=customers, days=180, seed=seed)), data)
    settings = load_settings(db=tmp_path / "a.duckdb", horizon_days=180)  # truth: the window
    result = run(data, settings, today=date(2026, 7, 1))
    truth = json.loads((data / "truth.json").read_text())
    return result, truth, settings


RECOVERY_SEEDS = (0, 1, 2, 3)


@pytest.fixture(scope="module")
def recoveries(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Any, dict[str, Any]]]:
    """The flow on four simulated 20,000-customer enterprises, with their planted truth."""
    out = {}
    for seed in RECOVERY_SEEDS:
        result, truth, _ = _run(tmp_path_factory.mktemp(f"seed{seed}"), seed)
        out[seed] = (result, truth)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", RECOVERY_SEEDS)
def test_recovers_the_planted_ranking_on_every_seed(
    recoveries: dict[int, tuple[Any, dict[str, Any]]], seed: int
) -> None:
    """Planted truth: ``truth.json`` of the simulator (true effects, true lifetime values).

    On every seed: the top issue is found, the ranking agrees with the truth (Kendall tau over
    all planted issues at least 0.7), harmless issues rank below every harmful issue that
    carries at least 15% of the top issue's true exposure and their interval starts at exactly
    zero, the top three's intervals exclude zero, and the top issue's dollars are within 35%.
    """
    result, truth = recoveries[seed]
    issues = result.analysis.exposure.issues
    ranked = list(issues["issue"])
    true_ranked = [i["issue"] for i in truth["issues"]]
    assert ranked[0] == true_ranked[0]
    estimated = issues.set_index("issue")["revenue_at_risk"].reindex(true_ranked).fillna(0)
    true_amounts = [i["revenue_at_risk"] for i in truth["issues"]]
    assert kendalltau(true_amounts, estimated.to_numpy()).statistic >= 0.7
    top = truth["issues"][0]["revenue_at_risk"]
    material = [i["issue"] for i in truth["issues"] if i["revenue_at_risk"] >= 0.15 * top]
    for issue in (i["issue"] for i in truth["issues"] if i["harmless"]):
        if issue in ranked:
            assert ranked.index(issue) > max(ranked.index(m) for m in material), (issue, ranked)
    # harmless issues are indistinguishable from zero; the top three are clearly not
    bounds = issues.set_index("issue")
    for issue in (i["issue"] for i in truth["issues"] if i["harmless"]):
        if issue in bounds.index:
            assert bounds.loc[issue, "revenue_at_risk_low"] == 0, issue
    for issue in true_ranked[:3]:
        assert bounds.loc[issue, "revenue_at_risk_low"] > 0, issue
    assert (bounds["revenue_at_risk_low"] <= bounds["revenue_at_risk"] + 1e-6).all()
    assert (bounds["revenue_at_risk"] <= bounds["revenue_at_risk_high"] + 1e-6).all()
    estimated_top = float(issues.iloc[0]["revenue_at_risk"])
    assert abs(estimated_top - top) / top < 0.35


@pytest.mark.slow
def test_recovers_the_top_three_in_order_on_most_seeds(
    recoveries: dict[int, tuple[Any, dict[str, Any]]],
) -> None:
    """Top three in exact order on at least three of the four seeds, mean Kendall tau >= 0.8.

    Not on every seed: at 20,000 customers the third and fourth planted issues (1.6-2.2x apart
    in truth) are sometimes carried by a few hundred customers, and estimation noise plus
    misread root causes can swap them (measured over seeds 0-19 with
    ``benchmarks/bench_flow.py --seeds 20``: 19 of 20 in order; with the true root cause of
    every contact instead of the signals stage's, 18 of 20).
    """
    in_order, taus = 0, []
    for result, truth in recoveries.values():
        issues = result.analysis.exposure.issues
        true_ranked = [i["issue"] for i in truth["issues"]]
        in_order += list(issues["issue"][:3]) == true_ranked[:3]
        estimated = issues.set_index("issue")["revenue_at_risk"].reindex(true_ranked).fillna(0)
        taus.append(
            kendalltau([i["revenue_at_risk"] for i in truth["issues"]], estimated).statistic
        )
    assert in_order >= 3
    assert sum(taus) / len(taus) >= 0.8


def test_run_twice_is_idempotent_and_cases_are_not_duplicated(tmp_path: Path) -> None:
    first, _, settings = _run(tmp_path, 5, customers=3000)
    assert first.cases and all(created for _, created in first.cases)
    again = run(tmp_path / "data", settings, today=date(2026, 9, 1))
    assert all(r.inserted == 0 and r.updated == 0 for r in again.reports)
    assert not any(created for _, created in again.cases)
    due = {c.issue: (c.due, c.measurement_plan) for c, _ in first.cases}
    assert {c.issue: (c.due, c.measurement_plan) for c, _ in again.cases} == due  # fixed at open
    with StateStore(settings.state_url()) as state:
        open_issues = [c.issue for c in state.list_cases(include_terminal=False)]
    assert len(open_issues) == len(set(open_issues)) == len(first.cases)
    with AnalyticsStore(settings.db) as store:
        counts = {r.kind: r.rows_read for r in first.reports}
        assert store.count("interactions") == counts["interactions"]


def test_exposure_never_double_counts(tmp_path: Path) -> None:
    result, _, _ = _run(tmp_path, 6, customers=2000)
    exposure = result.analysis.exposure
    per_customer = exposure.customers.groupby("customer_id")["revenue_at_risk"].sum()
    total = exposure.risk.set_index("customer_id")["revenue_at_risk"]
    assert (per_customer <= total.reindex(per_customer.index) + 1e-6).all()
    assert exposure.issues["revenue_at_risk"].sum() == pytest.approx(
        exposure.customers["revenue_at_risk"].sum()
    )


def test_without_outcomes_or_finance_risk_comes_from_marked_priors(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_enterprise(simulate(SimulationConfig(customers=2000, days=120, seed=8)), data)
    for kind in ("outcomes", "finance", "transactions"):
        (data / f"{kind}.csv").unlink()
    result = run(data, load_settings(db=tmp_path / "p.duckdb"), today=date(2026, 7, 1))
    issues = result.analysis.exposure.issues
    assert set(issues["risk_source"]) == {"prior"}
    assert set(result.analysis.values["value_source"]) <= {"model", "default"}
    assert all(c.business_case["risk_source"] == "prior" for c, _ in result.cases)
    assert all("priors" in c.business_case["narrative"] for c, _ in result.cases)


def test_cases_land_in_the_configured_transactional_store(tmp_path: Path, db_url: str) -> None:
    """SQLite by default; PostgreSQL through CXIMPACT_DATABASE_URL (real server, own schema)."""
    data = tmp_path / "data"
    write_enterprise(simulate(SimulationConfig(customers=2000, days=120, seed=9)), data)
    settings = load_settings(db=tmp_path / "c.duckdb", database_url=db_url)
    result = run(data, settings, today=date(2026, 7, 1))
    with StateStore(db_url) as state:
        stored = state.list_cases()
        first_audit = state.audit(stored[0].id)[0]
    assert {c.issue for c in stored} == {c.issue for c, _ in result.cases} != set()
    assert all(c.owner and c.due > date(2026, 7, 1) for c in stored)
    assert first_audit.action == "open"


def test_supervised_topic_mode_learns_root_causes_from_labelled_interactions(
    tmp_path: Path,
) -> None:
    """With labels, the flow's root causes come from the supervised classifier (and beat the
    keyword rules on interactions it was not trained on)."""
    enterprise = simulate(SimulationConfig(customers=3000, days=120, seed=12))
    data = tmp_path / "data"
    write_enterprise(enterprise, data)
    labelled = enterprise.interactions[["id", "text", "_topic"]].rename(columns={"_topic": "label"})
    train = labelled.iloc[::2]
    train[["text", "label"]].to_csv(tmp_path / "labels.csv", index=False)
    truth = labelled.set_index("id")["label"]
    held_out = set(labelled["id"]) - set(train["id"])

    def accuracy(settings_overrides: dict[str, Any], name: str) -> float:
        settings = load_settings(db=tmp_path / f"{name}.duckdb", **settings_overrides)
        signals = run(data, settings, today=date(2026, 7, 1)).analysis.signals
        test = signals[signals["interaction_id"].isin(held_out)]
        return float(
            (test["root_cause"].to_numpy() == truth[test["interaction_id"]].to_numpy()).mean()
        )

    keywords = accuracy({}, "k")
    supervised = accuracy(
        {"topic_mode": "supervised", "topic_training_file": tmp_path / "labels.csv"}, "s"
    )
    assert supervised > keywords + 0.03, (supervised, keywords)


def test_topic_modes_without_their_file_fail_with_a_fix(tmp_path: Path) -> None:
    from cximpact.errors import ConfigError
    from cximpact.flow import topic_model

    texts = pd.Series(["my bill is wrong"])
    with pytest.raises(ConfigError, match="CXIMPACT_TOPIC_TRAINING_FILE"):
        topic_model(load_settings(topic_mode="supervised"), texts)
    with pytest.raises(ConfigError, match="CXIMPACT_TOPIC_FEWSHOT_FILE"):
        topic_model(load_settings(topic_mode="few-shot"), texts)
    assert topic_model(load_settings(), texts) is None


@pytest.mark.slow
def test_harmful_issues_dollars_are_close_to_the_truth_on_average(
    recoveries: dict[int, tuple[Any, dict[str, Any]]],
) -> None:
    """Mean relative error of harmful planted issues' revenue at risk within ±9%, and at least
    60% of them within ±20% of the truth, over the four seeds.

    Not every issue within ±20%: at 20,000 customers even the true root cause of every contact
    leaves ~32% of harmful issues outside ±20% (sampling error of effects carried by a few
    hundred customers; ``benchmarks/bench_flow.py --seeds 20``: cximpact 67%, oracle topics
    68%). Before thread labels in self-training and the weaker L2 penalty the mean error on
    these seeds was −10.8%; it is −6.2%.
    """
    errors, within = [], []
    for result, truth in recoveries.values():
        estimated = result.analysis.exposure.issues.set_index("issue")["revenue_at_risk"]
        for issue in truth["issues"]:
            if issue["harmless"]:
                continue
            true = issue["revenue_at_risk"]
            error = (float(estimated.get(issue["issue"], 0.0)) - true) / true
            errors.append(error)
            within.append(abs(error) <= 0.2)
    assert abs(sum(errors) / len(errors)) <= 0.09
    assert sum(within) / len(within) >= 0.6
