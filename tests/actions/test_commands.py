"""The command line end to end: run plans actions, worker delivers, outcomes feed measurement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from cximpact.actions.commands import LIST_FIELDS
from cximpact.cli import app
from cximpact.errors import NotFoundError
from cximpact.simulate import SimulationConfig, simulate, write_enterprise

runner = CliRunner()


def _invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


@pytest.fixture
def planned(tmp_path: Path, http_receiver: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A simulated enterprise run with CXIMPACT_ACTIONS_PLAN_ON_RUN; returns the --db."""
    enterprise = simulate(SimulationConfig(customers=600, days=120, seed=3))
    write_enterprise(enterprise, tmp_path / "data")
    ids = enterprise.customers["id"]
    pd.DataFrame(
        {
            "customer_id": ids,
            "email": [f"{c}@example.com" for c in ids],
            "timezone": "UTC",
            "consent": "email;phone",
            "do_not_contact": [i % 10 == 0 for i in range(len(ids))],
        }
    ).to_csv(tmp_path / "contacts.csv", index=False)
    (tmp_path / "suppressed.txt").write_text(f"# legal hold\n{ids.iloc[1]}\n")
    (tmp_path / "policies.yaml").write_text(
        f"""
budget: 100000
holdout_share: 0.3
quiet_hours: null
channels:
  crm: {{type: webhook, url: "{http_receiver.url}"}}
policies:
  - name: call
    action: retention_call
    playbook: retention_call
    channel: crm
    contact_method: phone
    context: {{script: "About ${{issue_label}}"}}
"""
    )
    for name, value in {
        "ACTIONS_PLAN_ON_RUN": "true",
        "ACTIONS_POLICIES_FILE": str(tmp_path / "policies.yaml"),
        "ACTIONS_CONTACTS_FILE": str(tmp_path / "contacts.csv"),
        "ACTIONS_SUPPRESSION_FILE": str(tmp_path / "suppressed.txt"),
        "ACTIONS_WEBHOOK_SECRET": "s3cret",
        "CASE_THRESHOLD_SHARE": "0",
        "CASE_THRESHOLD_AMOUNT": "1000",
    }.items():
        monkeypatch.setenv(f"CXIMPACT_{name}", value)
    db = tmp_path / "a.duckdb"
    out = _invoke("run", "--data", str(tmp_path / "data"), "--db", str(db), "--json")
    assert out["cases"]
    return db


def test_run_plans_worker_delivers_outcomes_measure(planned: Path, http_receiver: Any) -> None:
    db = str(planned)
    actions = _invoke("actions", "--db", db, "--json")
    assert actions and set(LIST_FIELDS) <= set(actions[0])
    assert {a["holdout"] for a in actions} == {True, False}
    assert len({a["idempotency_key"] for a in actions}) == len(actions)
    assert {a["state"] for a in actions} == {"queued", "held_out"}
    assert _invoke("actions", "plan", "--db", db, "--json")["created"] == 0  # idempotent

    stats = _invoke("worker", "--db", db, "--drain", "--drain-wait", "0", "--poll", "0", "--json")
    treated = {a["idempotency_key"] for a in actions if not a["holdout"]}
    assert stats["delivered"] == len(treated) and stats["outbox"]["dead"] == 0
    assert set(http_receiver.keys()) == treated
    assert {a["state"] for a in _invoke("actions", "--db", db, "--state", "sent", "--json")} == {
        "sent"
    }

    first, *rest = actions
    recorded = _invoke(
        "actions", "outcome", "churned", "--key", first["idempotency_key"], "--db", db, "--json"
    )
    assert recorded[0]["outcome"] == "churned"
    outcomes = Path(db).with_name("outcomes.csv")
    pd.DataFrame(
        {
            "customer_id": [a["customer_id"] for a in rest],
            "case_id": [a["case_id"] for a in rest],
            "outcome": ["retained" if i % 3 else "churned" for i in range(len(rest))],
            "at": "2026-06-01T00:00:00",
        }
    ).to_csv(outcomes, index=False)
    assert _invoke("actions", "outcomes", str(outcomes), "--db", db, "--json")["updated"] >= len(
        rest
    )
    measured = _invoke("actions", "measure", "--db", db, "--json")
    assert sum(m["treated"] + m["held_out"] for m in measured) == len(actions)
    with_holdout = [m for m in measured if m["held_out"]]
    assert with_holdout and all(m["holdout_churn_rate"] is not None for m in with_holdout)
    for m in measured:  # a case with nobody held out is not measurable: no made-up effect
        if not m["held_out"]:
            assert m["holdout_churn_rate"] is None and m["churn_reduction"] is None


def test_guardrail_files_are_honoured(planned: Path) -> None:
    contacts = pd.read_csv(Path(planned).with_name("contacts.csv"))
    dnc = set(contacts.loc[contacts["do_not_contact"], "customer_id"])
    suppressed = contacts["customer_id"].iloc[1]
    planned_ids = {a["customer_id"] for a in _invoke("actions", "--db", str(planned), "--json")}
    assert planned_ids and not planned_ids & (dnc | {suppressed})


def test_missing_store_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CXIMPACT_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["actions", "--db", str(tmp_path / "none.duckdb")])
    assert isinstance(result.exception, NotFoundError)
    assert "cximpact run" in str(result.exception)
