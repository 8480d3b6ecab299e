"""``cximpact presets``, ``cximpact invest`` and ``issues --preset``: JSON shapes, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cximpact.cli import app

runner = CliRunner()


def _invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("metrics-cli")
    data = tmp / "data"
    _invoke(
        "simulate",
        "--customers",
        "2000",
        "--days",
        "120",
        "--seed",
        "5",
        "--out",
        str(data),
        "--json",
    )
    _invoke("run", "--data", str(data), "--db", str(tmp / "a.duckdb"), "--json")
    return tmp / "a.duckdb"


def test_issues_with_a_preset_keep_the_keys_and_add_priority(db: Path) -> None:
    plain = _invoke("issues", "--db", str(db), "--json", "--limit", "50")
    ranked = _invoke("issues", "--db", str(db), "--json", "--limit", "50", "--preset", "growth")
    assert {r["issue"] for r in plain} == {r["issue"] for r in ranked}
    for row in ranked:
        assert set(plain[0]) < set(row)
        assert {"priority_rank", "priority_score", "priority_components"} <= set(row)
        assert sum(row["priority_components"].values()) == pytest.approx(
            row["priority_score"], abs=1e-5
        )
    assert [r["priority_rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    balanced = _invoke("issues", "--db", str(db), "--json", "--limit", "50", "--preset", "balanced")
    assert [r["issue"] for r in balanced] == [r["issue"] for r in plain]


def test_the_preset_setting_applies_without_the_option(db: Path) -> None:
    env = {"CXIMPACT_STRATEGY_PRESET": "turnaround"}
    by_setting = _invoke("issues", "--db", str(db), "--json", env=env)
    by_option = _invoke("issues", "--db", str(db), "--json", "--preset", "turnaround")
    assert by_setting == by_option


def test_presets_list_show_and_compare(db: Path) -> None:
    names = [p["name"] for p in _invoke("presets", "list", "--json")]
    assert names[0] == "balanced" and "growth" in names
    shown = _invoke("presets", "show", "profit_protection", "--json")
    assert shown["headline_metrics"][0] == "cost_per_contact"
    assert sum(shown["weights"].values()) == pytest.approx(1.0)
    assert set(shown["case_thresholds"]) == {"amount", "share", "mode"}
    compared = _invoke("presets", "compare", "balanced", "turnaround", "--db", str(db), "--json")
    rows = compared["issues"]
    assert [r["rank_turnaround"] for r in rows] == list(range(1, len(rows) + 1))
    for r in rows:
        assert r["moved"] == r["rank_balanced"] - r["rank_turnaround"]
        assert (r["driver"] is None) == (r["moved"] == 0)


def test_invest_json_shape_measured_from_the_db(db: Path) -> None:
    out = _invoke(
        "invest",
        "proactive_status_notifications",
        "--db",
        str(db),
        "--json",
        "--set",
        "one_off_cost=1000",
        "--years",
        "3",
        "--discount-rate",
        "0.08",
    )
    assert {
        "per_year",
        "npv",
        "roi",
        "payback_months",
        "cash_flows",
        "inputs",
        "measured",
        "assumed",
        "set",
        "sensitivity",
        "attribution_plan",
        "formulas",
    } <= set(out)
    assert {
        "contacts_prevented",
        "problems_prevented",
        "customers_retained",
        "cost_saved",
        "revenue_protected",
    } <= set(out["per_year"])
    assert [c["year"] for c in out["cash_flows"]] == [0, 1, 2, 3]
    assert out["cash_flows"][0]["cash_flow"] == -1000
    assert out["discount_rate"] == 0.08 and out["set"] == ["one_off_cost"]
    assert "targeted_contact_share" in out["measured"]
    assert out["attribution_plan"]["method"] == "randomised_holdout"
    assert all(
        {"input", "npv_at_low", "npv_at_high", "swing"} <= set(r) for r in out["sensitivity"]
    )


def test_invest_on_assumptions_alone(tmp_path: Path) -> None:
    out = _invoke(
        "invest",
        "agent_knowledge",
        "--assumptions-only",
        "--json",
        "--db",
        str(tmp_path / "none.duckdb"),
    )
    assert out["measured"] == [] and out["data"] is None
    assert out["attribution_plan"]["method"] == "pre_post_volume_adjusted"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["invest", "teleportation", "--assumptions-only"], "not in the catalogue"),
        (["invest", "agent_knowledge"], "does not exist"),
        (["invest", "agent_knowledge", "--assumptions-only", "--set", "x"], "name=number"),
        (["presets", "show", "nope"], "is unknown"),
    ],
)
def test_errors_are_one_line_without_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cximpact", *args, "--db", str(tmp_path / "missing.duckdb")]
        if args[0] == "invest"
        else [sys.executable, "-m", "cximpact", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3  # one line, soft-wrapped at most
