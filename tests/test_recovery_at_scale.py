"""Recovery at 100,000 customers: enough customers per planted issue for dollars, not only order.

At 20,000 customers (``tests/test_flow.py``) small issues are carried by a few hundred customers
and the sampling error of their effects alone moves their dollars by more than 20%, even with
the true root cause of every contact (``benchmarks/bench_flow.py``'s oracle-topics baseline).
At 100,000 customers the planted ranking and the money of the top issues are recovered on
every seed measured: ``bench_flow.py --customers 100000 --seeds 6`` (seeds 0-5) met every
assertion below on all six; these two seeds keep the suite to about two minutes.
"""

from datetime import date
from typing import Any

import pytest
from scipy.stats import kendalltau

from cximpact.flow import run
from cximpact.settings import load_settings
from cximpact.simulate import SimulationConfig, simulate, write_enterprise

SEEDS = (4, 5)


@pytest.fixture(scope="module", params=SEEDS)
def recovery(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    seed = request.param
    tmp = tmp_path_factory.mktemp(f"scale{seed}")
    enterprise = simulate(SimulationConfig(customers=100_000, days=180, seed=seed))
    write_enterprise(enterprise, tmp / "data")
    settings = load_settings(db=tmp / "a.duckdb", horizon_days=180)  # truth: the window
    result = run(tmp / "data", settings, today=date(2026, 7, 1))
    return result.analysis.exposure.issues.set_index("issue"), enterprise.truth["issues"]


@pytest.mark.slow
def test_top_three_in_order_and_their_dollars_within_20_percent(recovery: Any) -> None:
    issues, truth = recovery
    true_ranked = [i["issue"] for i in truth]
    assert list(issues.index[:3]) == true_ranked[:3]
    for planted in truth[:3]:
        estimated = float(issues.loc[planted["issue"], "revenue_at_risk"])
        assert abs(estimated - planted["revenue_at_risk"]) <= 0.2 * planted["revenue_at_risk"]
    estimated_all = issues["revenue_at_risk"].reindex(true_ranked).fillna(0)
    assert kendalltau([i["revenue_at_risk"] for i in truth], estimated_all).statistic >= 0.9


@pytest.mark.slow
def test_most_harmful_issues_within_20_percent_and_harmless_ones_at_zero(recovery: Any) -> None:
    issues, truth = recovery
    harmful = [i for i in truth if not i["harmless"]]
    within = [
        abs(float(issues["revenue_at_risk"].get(i["issue"], 0.0)) - i["revenue_at_risk"])
        <= 0.2 * i["revenue_at_risk"]
        for i in harmful
    ]
    assert sum(within) / len(within) >= 0.8
    ranked = list(issues.index)
    lowest_harmful = max(ranked.index(i["issue"]) for i in harmful)
    for planted in (i for i in truth if i["harmless"]):
        if planted["issue"] in issues.index:
            assert ranked.index(planted["issue"]) > lowest_harmful, planted["issue"]
            assert issues.loc[planted["issue"], "revenue_at_risk_low"] == 0, planted["issue"]
