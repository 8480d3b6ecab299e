"""`cximpact cases ...`, `cximpact monitor` and `cximpact evaluate measurement` end to end."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cximpact.cli import app
from cximpact.flow import open_cases
from cximpact.measure.design import in_holdout
from cximpact.settings import load_settings
from cximpact.store.analytics import AnalyticsStore
from cximpact.store.state import StateStore

from .conftest import make_analysis

runner = CliRunner()
DAY = date(2026, 5, 1)
REQUIRED = {
    "id",
    "issue",
    "state",
    "owner",
    "due",
    "revenue_at_risk",
    "cost_of_inaction",
    "cost_of_intervention",
    "recommended_response",
    "measurement_plan",
    "overdue",
    "escalated_to",
    "stale",
}


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """An analytics file with signals and exposure, and a state store with opened cases."""
    path = tmp_path / "acme.duckdb"
    analysis = make_analysis(
        {"billing_error": 100_000.0, "app_login": 40_000.0}, spike={"app_login": 45}
    )
    with AnalyticsStore(path) as store:
        store.replace_table("signals", analysis.signals)
        store.replace_table("customer_exposure", analysis.exposure.customers)
    settings = load_settings(db=path)
    with StateStore(settings.state_url()) as state:
        state.upgrade()
        open_cases(state, analysis, settings, today=DAY)
    return path


def test_cases_json_has_the_documented_fields(db: Path) -> None:
    cases = json.loads(_invoke("cases", "--db", str(db), "--json", "--today", "2026-05-02"))
    assert cases and all(set(c) >= REQUIRED for c in cases)
    assert [c["revenue_at_risk"] for c in cases] == sorted(
        (c["revenue_at_risk"] for c in cases), reverse=True
    )
    assert not any(c["overdue"] for c in cases)
    late = json.loads(_invoke("cases", "--db", str(db), "--json", "--today", "2027-01-01"))
    assert all(c["overdue"] for c in late)
    table = _invoke("cases", "--db", str(db), "--today", "2027-01-01")
    assert "overdue" in table


def test_show_in_every_format(db: Path, tmp_path: Path) -> None:
    md = _invoke("cases", "show", "1", "--db", str(db))
    assert md.startswith("# Case 1: ") and "Cost of inaction" in md
    as_json = json.loads(_invoke("cases", "show", "1", "--db", str(db), "--format", "json"))
    assert as_json["id"] == 1 and as_json["business_case"]["options"]
    out = tmp_path / "case.html"
    _invoke("cases", "show", "1", "--db", str(db), "--format", "html", "--out", str(out))
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Cost of inaction" in page
    bad = runner.invoke(app, ["cases", "show", "1", "--db", str(db), "--format", "pdf"])
    assert bad.exit_code != 0


def test_escalate_command_escalates_overdue_cases_once(db: Path) -> None:
    first = json.loads(
        _invoke("cases", "escalate", "--db", str(db), "--today", "2027-01-01", "--json")
    )
    assert first and {c["escalated_to"] for c in first} <= {"cfo-office", "cto-office"}
    again = json.loads(
        _invoke("cases", "escalate", "--db", str(db), "--today", "2027-01-02", "--json")
    )
    assert again == []
    listed = json.loads(_invoke("cases", "--db", str(db), "--json"))
    assert all(c["escalated_to"] for c in listed)


def test_edit_moves_the_due_date_and_is_audited(db: Path) -> None:
    out = json.loads(
        _invoke(
            "cases", "edit", "1", "--due", "2030-01-01", "--actor", "ana", "--db", str(db), "--json"
        )
    )
    assert out["due"] == "2030-01-01"
    with StateStore(load_settings(db=db).state_url()) as state:
        entry = state.audit(1)[-1]
    assert entry.action == "edit" and entry.actor == "ana"
    assert entry.before is not None and entry.before["due"] != "2030-01-01"


def test_monitor_shows_detections_and_candidate_topics(db: Path, tmp_path: Path) -> None:
    topics = tmp_path / "topics.csv"
    pd.DataFrame(
        {
            "topic": ["esim activation", "old topic", "tiny"],
            "share_recent": [0.06, 0.10, 0.001],
            "share_before": [0.0, 0.09, 0.0],
        }
    ).to_csv(topics, index=False)
    report = json.loads(
        _invoke("monitor", "--db", str(db), "--topics", str(topics), "--recent", "--json")
    )
    spikes = [d for d in report["detections"] if d["kind"] == "spike"]
    assert any(d["root_cause"] == "app_login" and d["date"] == "2026-04-30" for d in spikes)
    assert all(d["recent"] for d in report["detections"])
    assert [t["topic"] for t in report["candidate_issues"]] == ["esim activation"]
    with StateStore(load_settings(db=db).state_url()) as state:
        login = next(c for c in state.list_cases() if c.issue == "app_login")
    assert login.evidence and login.evidence["detections"]


def _holdout_world(db: Path, case_id: int, treated_rate: float, control_rate: float) -> None:
    """20,000 customers with a billing contact before 1 March; churn after it at the given rates."""
    rng = np.random.default_rng(5)
    ids = pd.Series([f"c{i}" for i in range(20_000)])
    held = in_holdout(ids, case_id, 0.1)
    churns = rng.random(len(ids)) < np.where(held, control_rate, treated_rate)
    days = pd.Timestamp("2026-03-02") + pd.to_timedelta(rng.integers(0, 80, len(ids)), unit="D")
    signals = pd.DataFrame(
        {
            "customer_id": pd.concat([ids, pd.Series(["x"] * 200)], ignore_index=True),
            "timestamp": list(
                pd.Timestamp("2026-01-01")
                + pd.to_timedelta(rng.integers(0, 59, len(ids)), unit="D")
            )
            + list(pd.date_range("2025-12-01", periods=200, freq="D")),
            "root_cause": ["billing_error"] * len(ids) + ["plan_question"] * 200,
        }
    )
    with AnalyticsStore(db) as store:
        store.replace_table("signals", signals)
        store.replace_table(
            "outcomes", pd.DataFrame({"customer_id": ids[churns], "churn_date": days[churns]})
        )
        store.replace_table("customers", pd.DataFrame({"id": ids, "segment": "smb"}))


def test_measure_closes_a_case_with_the_measured_verdict(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    settings = load_settings(db=db)
    with StateStore(settings.state_url()) as state:
        state.upgrade()
        case, _ = state.upsert_case(
            "billing_error",
            {
                "severity": "high",
                "due": "2026-12-31",
                "measurement_plan": {
                    "method": "randomised_holdout",
                    "holdout_share": 0.1,
                    "duration_days": 90,
                },
            },
        )
        for step in ("accepted", "in_progress", "fix_deployed", "measuring"):
            state.transition(case.id, step, actor="ana")
    _holdout_world(db, case.id, treated_rate=0.06, control_rate=0.12)
    out = json.loads(
        _invoke(
            "cases",
            "measure",
            str(case.id),
            "--close",
            "--change",
            "2026-03-01",
            "--db",
            str(db),
            "--json",
        )
    )
    churn = out["churn"]
    assert out["state"] == "closed" and out["verdict"] == "worked"
    assert churn["method"] == "randomised_holdout" and churn["low"] <= 0.5 <= churn["high"]
    assert churn["detail"]["control"]["customers"] == pytest.approx(2000, rel=0.1)
    with StateStore(settings.state_url()) as state:
        closed = state.get_case(case.id)
    assert closed.verdict == "worked" and closed.measurement_result is not None
    assert closed.measurement_result["churn"]["estimate"] == churn["estimate"]


def test_measure_without_effect_finds_no_evidence_and_keeps_the_case_open(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    settings = load_settings(db=db)
    with StateStore(settings.state_url()) as state:
        state.upgrade()
        case, _ = state.upsert_case(
            "billing_error",
            {
                "severity": "high",
                "due": "2026-12-31",
                "measurement_plan": {"method": "randomised_holdout", "holdout_share": 0.1},
            },
        )
    _holdout_world(db, case.id, treated_rate=0.1, control_rate=0.1)
    out = json.loads(
        _invoke(
            "cases", "measure", str(case.id), "--change", "2026-03-01", "--db", str(db), "--json"
        )
    )
    assert out["verdict"] == "no_evidence" and out["state"] == "open"


def test_evaluate_measurement_prints_the_documented_keys() -> None:
    out = json.loads(
        _invoke(
            "evaluate",
            "measurement",
            "--effect",
            "0.2",
            "--repeats",
            "300",
            "--seed",
            "1",
            "--json",
        )
    )
    assert {"method", "power", "false_positive_rate", "mean_estimate", "ci_coverage"} <= set(out)
    assert out["method"] == "randomised_holdout" and out["power"] >= 0.75
