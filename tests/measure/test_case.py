"""Measuring a case from stored frames: cohorts, windows, methods and the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cximpact.errors import ContractError
from cximpact.measure.case import measure_case

CHANGE = pd.Timestamp("2026-04-01")
AS_OF = pd.Timestamp("2026-07-01")


def _world(drop: float, seed: int = 0, n: int = 30_000) -> dict[str, pd.DataFrame]:
    """Customers contact about billing before their churn window; after the change, churn in the
    first-wave segment ('a') falls by ``drop``; the issue's contact share falls by ``drop`` too."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"c{i}" for i in range(n)])
    segment = np.where(np.arange(n) % 2 == 0, "a", "b")
    contact = pd.Timestamp("2025-12-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    after = contact >= CHANGE
    rate = np.where(after & (segment == "a"), 0.10 * (1 - drop), 0.10)
    churned = rng.random(n) < rate
    churn_date = contact + pd.to_timedelta(rng.integers(1, 20, n), unit="D")
    days = pd.date_range("2025-12-01", "2026-06-30", freq="D")
    routine = pd.DataFrame(
        {
            "customer_id": "r",
            "timestamp": np.repeat(days, 150),
            "root_cause": "plan_question",
        }
    )
    keep = ~after | (rng.random(n) >= drop)  # fewer billing contacts after the fix
    signals = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": ids[keep],
                    "timestamp": contact[keep],
                    "root_cause": "billing_error",
                }
            ),
            routine,
        ],
        ignore_index=True,
    )
    return {
        "signals": signals,
        "outcomes": pd.DataFrame({"customer_id": ids[churned], "churn_date": churn_date[churned]}),
        "customers": pd.DataFrame({"customer_id": ids, "segment": segment}),
    }


def _measure(plan: dict[str, object], world: dict[str, pd.DataFrame]) -> dict[str, object]:
    return measure_case(
        plan,
        case_id=1,
        issue="billing_error",
        change=CHANGE,
        as_of=AS_OF,
        signals=world["signals"],
        outcomes=world["outcomes"],
        customers=world["customers"],
    )


def test_phased_rollout_measures_the_first_wave_against_the_rest() -> None:
    plan = {"method": "phased_rollout", "first_wave": ["a"], "duration_days": 90}
    worked = _measure(plan, _world(0.5))
    assert worked["method"] == "difference_in_differences" and worked["verdict"] == "worked"
    assert worked["churn"]["low"] <= 0.5 <= worked["churn"]["high"]  # type: ignore[index]
    assert _measure(plan, _world(0.0, seed=1))["verdict"] == "no_evidence"


def test_exposure_effect_is_a_time_series_of_the_issue_share() -> None:
    result = _measure({"method": "interrupted_time_series", "duration_days": 60}, _world(0.5))
    exposure = result["exposure"]
    assert exposure["method"] == "interrupted_time_series"  # type: ignore[index]
    assert exposure["verdict"] == "worked"  # type: ignore[index]
    assert result["complete"] is True


def test_window_is_cut_at_the_data_and_reported_incomplete() -> None:
    result = measure_case(
        {"method": "pre_post_volume_adjusted", "duration_days": 90},
        case_id=1,
        issue="billing_error",
        change=CHANGE,
        as_of=CHANGE + pd.Timedelta(days=30),
        **_world(0.0),
    )
    assert result["complete"] is False
    assert result["window"]["end"] == "2026-05-01T00:00:00"  # type: ignore[index]


def test_no_data_after_the_change_is_an_error() -> None:
    with pytest.raises(ContractError, match="ingest newer"):
        measure_case(
            {"method": "randomised_holdout"},
            case_id=1,
            issue="billing_error",
            change=AS_OF,
            as_of=AS_OF,
            **_world(0.0),
        )
