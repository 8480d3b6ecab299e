"""Planning against the state store: open cases only, once per customer and case, warnings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cximpact.actions.service import fit_uplift, load_contacts, plan_actions
from cximpact.actions.store import ActionStore
from cximpact.errors import ContractError, LowSampleWarning
from cximpact.settings import load_settings


def _policies(tmp_path: Path, budget: float = 1000) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"""
budget: {budget}
holdout_share: 0.2
require_consent: false
quiet_hours: null
channels: {{hook: {{type: recording}}}}
policies:
  - {{name: call, action: retention_call, channel: hook, cost: 5, effectiveness: 0.3}}
"""
    )
    return path


def _exposure(n: int = 50, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(start, start + n)],
            "issue": ["billing_error"] * n,
            "segment": ["consumer"] * n,
            "value": [1000.0 + i for i in range(n)],
            "churn_probability": [0.3] * n,
        }
    )


def test_plans_once_for_open_cases_only(sqlite_store: ActionStore, tmp_path: Path) -> None:
    settings = load_settings(actions_policies_file=_policies(tmp_path))
    empty = plan_actions(sqlite_store, _exposure(), settings)
    assert empty.created == 0 and empty.skipped == {}  # no open case: nothing to do
    case, _ = sqlite_store.upsert_case("billing_error", {"severity": "high", "due": "2030-01-01"})
    first = plan_actions(sqlite_store, _exposure(), settings)
    assert first.created == 50 and first.treated + first.held_out == 50
    assert first.uplift_source == "assumption" and first.planned_cost == 5.0 * first.treated
    again = plan_actions(sqlite_store, _exposure(), settings)
    assert again.created == 0 and again.skipped == {"already_planned": 50}
    sqlite_store.transition(case.id, "dismissed", actor="t", reason="not ours")
    assert plan_actions(sqlite_store, _exposure(), settings).skipped == {}


def test_uplift_model_waits_for_enough_outcomes(sqlite_store: ActionStore, tmp_path: Path) -> None:
    settings = load_settings(actions_policies_file=_policies(tmp_path))
    sqlite_store.upsert_case("billing_error", {"severity": "high", "due": "2030-01-01"})
    plan_actions(sqlite_store, _exposure(), settings)
    assert fit_uplift(sqlite_store) is None  # no outcomes at all: silently the assumption
    for action in sqlite_store.list_actions()[:10]:
        sqlite_store.record_outcome("retained", idempotency_key=action.idempotency_key)
    with pytest.warns(LowSampleWarning, match="too few"):
        assert fit_uplift(sqlite_store) is None


def test_contacts_file_contract(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("customer_id,email,do_not_contact\nC1,a@x,yes\nC2,b@x,\n")
    contacts = load_contacts(path)
    assert contacts["do_not_contact"].tolist() == [True, False]
    assert contacts["timezone"].tolist() == ["", ""]
    (tmp_path / "bad.csv").write_text("id,email\n1,a@x\n")
    with pytest.raises(ContractError, match="customer_id"):
        load_contacts(tmp_path / "bad.csv")
    assert load_contacts(None).empty


def test_budget_holds_across_planning_runs(sqlite_store: ActionStore, tmp_path: Path) -> None:
    settings = load_settings(actions_policies_file=_policies(tmp_path, budget=100))
    sqlite_store.upsert_case("billing_error", {"severity": "high", "due": "2030-01-01"})
    first = plan_actions(sqlite_store, _exposure(50), settings)
    assert first.treated == 20 and first.planned_cost == 100.0  # 20 x 5
    assert first.skipped["over_budget"] == 50 - first.created
    later = plan_actions(sqlite_store, _exposure(30, start=100), settings)
    assert later.treated == 0 and later.skipped["over_budget"] > 0  # the window's budget is spent


def test_action_outcomes_reach_the_case_measurement(tmp_path: Path) -> None:
    """`cximpact cases measure` carries the treated vs held-out churn of the case's actions."""
    from cximpact.cases.commands import _action_outcomes

    settings = load_settings(
        db=tmp_path / "cx.duckdb", actions_policies_file=_policies(tmp_path, budget=10_000)
    )
    with ActionStore(settings.state_url()) as store:
        store.upgrade()
        case, _ = store.upsert_case("billing_error", {"severity": "high", "due": "2030-01-01"})
        assert _action_outcomes(settings, case.id) == {}  # no outcomes yet
        plan_actions(store, _exposure(), settings)
        for action in store.list_actions():
            outcome = "churned" if action.holdout else "retained"
            store.record_outcome(outcome, idempotency_key=action.idempotency_key)
    found = _action_outcomes(settings, case.id)["action_outcomes"]
    assert found["case_id"] == case.id and found["treated"] > 0
    assert found["treated_churn_rate"] == 0.0
