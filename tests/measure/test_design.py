"""The measurement plan: method by response and data, sample size from the MDE formula."""

from __future__ import annotations

import math
from statistics import NormalDist

import pandas as pd
import pytest

from cximpact.errors import ContractError
from cximpact.measure.design import (
    choose_method,
    holdout_mde,
    holdout_sample_size,
    in_holdout,
    plan_measurement,
)


def test_sample_size_matches_the_written_formula() -> None:
    """Unpooled two-proportion size with the Fleiss-Tytun-Ury continuity correction, by hand.

    p_c = 0.10, p_t = 0.08, equal groups, 5% two-sided, 80% power:
    n' = (1.95996 + 0.84162)^2 (0.09 + 0.0736) / 0.02^2 = 3209.9;
    n = n'/4 (1 + sqrt(1 + 4 / (n' 0.02)))^2 = 3309.2 -> 3310 per group (tolerance: exact).
    """
    z = NormalDist().inv_cdf(0.975) + NormalDist().inv_cdf(0.8)
    n0 = z**2 * (0.1 * 0.9 + 0.08 * 0.92) / 0.02**2
    expected = math.ceil(n0 / 4 * (1 + math.sqrt(1 + 4 / (n0 * 0.02))) ** 2)
    assert holdout_sample_size(0.1, 0.2) == (expected, expected)
    assert expected == 3310


def test_unequal_groups_need_more_customers_in_total() -> None:
    balanced = sum(holdout_sample_size(0.1, 0.2, control_share=0.5))
    ten_percent = holdout_sample_size(0.1, 0.2, control_share=0.1)
    assert sum(ten_percent) > balanced
    assert ten_percent[0] == pytest.approx(9 * ten_percent[1], abs=1)


def test_mde_at_the_planned_size_is_at_most_the_target() -> None:
    n_t, n_c = holdout_sample_size(0.1, 0.2, control_share=0.1)
    assert holdout_mde(0.1, n_t, n_c) <= 0.2
    assert holdout_mde(0.1, n_t // 4, n_c // 4) > 0.2


@pytest.mark.parametrize(
    ("response", "segments", "history", "method"),
    [
        ("retention_call", 3, 200, "randomised_holdout"),
        ("proactive_message", 1, 0, "randomised_holdout"),
        ("fix_root_cause", 3, 200, "phased_rollout"),
        ("fix_root_cause", 1, 120, "interrupted_time_series"),
        ("fix_root_cause", 1, 10, "pre_post_volume_adjusted"),
        ("monitor", 1, 0, "interrupted_time_series"),
    ],
)
def test_method_follows_response_and_data(
    response: str, segments: int, history: int, method: str
) -> None:
    assert choose_method(response, segments=segments, history_days=history) == method


def test_plan_holds_every_documented_field_and_is_powered_when_customers_suffice() -> None:
    plan = plan_measurement("retention_call", 60_000, 0.35, 365)
    for key in (
        "method",
        "metric",
        "comparison_group",
        "minimum_detectable_effect",
        "duration_days",
        "planned_sample_size",
        "baseline_churn_rate",
    ):
        assert key in plan
    assert plan["holdout_share"] == 0.1 and plan["adequately_powered"]
    assert plan["planned_sample_size"] <= 60_000
    assert plan["minimum_detectable_effect"] <= plan["target_effect"]


def test_few_customers_raise_the_holdout_share_then_say_underpowered() -> None:
    needed = sum(holdout_sample_size(0.1, 0.2, control_share=0.1))
    middle = plan_measurement("retention_call", needed - 500, 0.1, 90, duration_days=90)
    assert 0.1 < middle["holdout_share"] <= 0.5 and middle["adequately_powered"]
    tiny = plan_measurement("retention_call", 300, 0.1, 90, duration_days=90)
    assert tiny["holdout_share"] == 0.5 and not tiny["adequately_powered"]
    assert tiny["minimum_detectable_effect"] > 0.2


def test_phased_rollout_names_its_first_wave() -> None:
    plan = plan_measurement("fix_root_cause", 5000, 0.2, 365, segments=["smb", "ent", "consumer"])
    assert plan["method"] == "phased_rollout"
    assert set(plan["first_wave"]) < {"smb", "ent", "consumer"} and plan["first_wave"]


def test_holdout_assignment_is_stable_and_near_its_share() -> None:
    ids = pd.Series([f"c{i}" for i in range(20_000)])
    first = in_holdout(ids, 7, 0.1)
    assert (first == in_holdout(ids, 7, 0.1)).all()
    assert first.mean() == pytest.approx(0.1, abs=0.01)
    assert (first != in_holdout(ids, 8, 0.1)).any()  # another case, another draw


def test_invalid_inputs_are_contract_errors() -> None:
    with pytest.raises(ContractError, match="baseline"):
        holdout_sample_size(0.0, 0.2)
    with pytest.raises(ContractError, match="relative effect"):
        holdout_sample_size(0.1, 1.5)


def test_actions_hold_out_exactly_the_customers_a_case_measures_against() -> None:
    from cximpact.actions.guardrails import holdout_flags
    from cximpact.measure.design import in_holdout

    customers = pd.Series([f"C{i:05d}" for i in range(5000)])
    measured = in_holdout(customers, 7, 0.2)
    acted = holdout_flags(customers, [7] * len(customers), 0.2)
    assert (measured == acted).all()
    assert 0.17 < measured.mean() < 0.23
    per_case = holdout_flags(customers[:4], [7, 7, 8, 8], [0.0, 0.0, 0.99, 0.99])
    assert list(per_case[:2]) == [False, False] and per_case[2:].all()
