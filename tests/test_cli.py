"""The command line: JSON shapes, tables, and clean errors (no tracebacks)."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cximpact.cli import app

runner = CliRunner()
FIXTURES = Path(__file__).parent / "ingest" / "fixtures"


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    _invoke(
        "simulate",
        "--customers",
        "3000",
        "--days",
        "120",
        "--seed",
        "2",
        "--out",
        str(tmp / "data"),
    )
    out = json.loads(
        _invoke("run", "--data", str(tmp / "data"), "--db", str(tmp / "a.duckdb"), "--json")
    )
    assert out["issues"] and out["cases"]
    return tmp / "a.duckdb"


def test_issues_json_is_ranked_by_revenue_at_risk(ran: Path) -> None:
    issues = json.loads(_invoke("issues", "--db", str(ran), "--json"))
    assert {"issue", "revenue_at_risk", "customers", "aggregate_ltv"} <= set(issues[0])
    amounts = [i["revenue_at_risk"] for i in issues]
    assert amounts == sorted(amounts, reverse=True)


def test_customers_json_is_ranked_by_value_with_reasons(ran: Path) -> None:
    top = json.loads(_invoke("issues", "--db", str(ran), "--json"))[0]["issue"]
    rows = json.loads(_invoke("customers", "--issue", top, "--db", str(ran), "--json"))
    values = [r["value"] for r in rows]
    assert values == sorted(values, reverse=True)
    assert all(r["issue"] == top and r["why"] and r["value_source"] for r in rows)


def test_cases_json_and_show(ran: Path) -> None:
    cases = json.loads(_invoke("cases", "--db", str(ran), "--json"))
    fields = {
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
    }
    assert cases and fields <= set(cases[0])
    markdown = _invoke("cases", "show", str(cases[0]["id"]), "--db", str(ran))
    assert markdown.startswith(f"# Case {cases[0]['id']}: {cases[0]['issue']}")
    assert "Measurement plan" in markdown
    shown = json.loads(
        _invoke("cases", "show", str(cases[0]["id"]), "--db", str(ran), "--format", "json")
    )
    assert shown["business_case"]["top_customers"]


def test_ingest_json_with_builtin_mapping(tmp_path: Path) -> None:
    db = str(tmp_path / "z.duckdb")
    zendesk = next(p for p in FIXTURES.iterdir() if "zendesk" in p.name)
    data = json.loads(
        _invoke("ingest", "interactions", str(zendesk), "--map", "zendesk", "--db", db, "--json")
    )
    assert {"rows_read", "accepted", "quarantined", "by_rule"} <= set(data)
    assert data["rows_read"] == data["accepted"] + data["quarantined"] > 0
    assert data["by_rule"].get("unknown_customer", 0) == data["quarantined"]  # no customers yet


def test_settings_lists_every_setting() -> None:
    rows = json.loads(_invoke("settings", "--json"))
    assert {"db", "database_url", "horizon_days"} <= {r["name"] for r in rows}


def test_demo_prints_issues_customers_and_cases(tmp_path: Path) -> None:
    out = _invoke("demo", "--customers", "2000", "--days", "120", "--out", str(tmp_path / "demo"))
    for heading in ("Issues ranked by revenue at risk", "Top customers of", "Cases"):
        assert heading in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["issues", "--db", "{tmp}/missing.duckdb"], "does not exist"),
        (["ingest", "interactions", "{tmp}/binary.csv", "--db", "{tmp}/x.duckdb"], "binary"),
        (["ingest", "calls", "{tmp}/binary.csv", "--db", "{tmp}/x.duckdb"], "unknown kind"),
        (["run", "--data", "{tmp}/nowhere", "--db", "{tmp}/x.duckdb"], "does not exist"),
    ],
)
def test_errors_are_one_clear_line_without_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "binary.csv").write_bytes(b"\x00\x01\x02\x03" * 100)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "cximpact", *argv], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and message in proc.stderr
    assert proc.stderr.startswith("error:")


def test_cases_assign_and_transition_are_audited(ran: Path) -> None:
    case = json.loads(_invoke("cases", "--db", str(ran), "--json"))[0]
    moved = json.loads(
        _invoke(
            "cases",
            "--db",
            str(ran),
            "transition",
            str(case["id"]),
            "accepted",
            "--actor",
            "ana",
            "--json",
        )
    )
    assert moved["state"] == "accepted"
    owned = json.loads(
        _invoke(
            "cases", "assign", str(case["id"]), "bob", "--team", "Ops", "--db", str(ran), "--json"
        )
    )
    assert (owned["owner"], owned["team"]) == ("bob", "Ops")
    result = runner.invoke(
        app, ["cases", "transition", str(case["id"]), "closed", "--db", str(ran)]
    )
    assert result.exit_code != 0  # accepted -> closed is not allowed, and closing needs a verdict


def test_reading_cases_of_a_database_that_was_never_run_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["cases", "--db", str(tmp_path / "typo.duckdb"), "--json"])
    assert result.exit_code != 0 and "no cases yet" in str(result.exception)
    assert not (tmp_path / "typo.state.sqlite").exists()


def test_evaluate_topics_and_sentiment_print_the_documented_keys(tmp_path: Path) -> None:
    topics = {
        "billing": [
            "charged twice on my bill",
            "wrong amount on my invoice",
            "double charge again",
        ],
        "delivery": ["parcel never arrived", "package is late", "courier lost my order"],
    }
    rows = [
        {"text": f"{t} {i}", "label": k} for k, ts in topics.items() for t in ts for i in range(8)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame(rows[::3]).to_csv(tmp_path / "test.csv", index=False)
    out = json.loads(
        _invoke(
            "evaluate",
            "topics",
            "--train",
            str(tmp_path / "train.csv"),
            "--test",
            str(tmp_path / "test.csv"),
            "--json",
        )
    )
    assert {
        "accuracy",
        "macro_f1",
        "oos_precision",
        "oos_recall",
        "texts_per_second",
        "n_train",
        "n_test",
    } <= set(out)
    pd.DataFrame(
        {
            "text": ["I love it, great service", "terrible, awful, never again", "ok"],
            "label": ["positive", "negative", "neutral"],
        }
    ).to_csv(tmp_path / "s.csv", index=False)
    sent = json.loads(
        _invoke(
            "evaluate",
            "sentiment",
            "--data",
            str(tmp_path / "s.csv"),
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--json",
        )
    )
    assert {"accuracy", "macro_f1", "texts_per_second"} <= set(sent)
