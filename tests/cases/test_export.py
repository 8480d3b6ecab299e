"""Business case exports: every number present and consistent; HTML self-contained and escaped."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd
import pytest

from cximpact.cases.business_case import build_business_case, load_playbook
from cximpact.cases.export import check_business_case, export_case, key_figures
from cximpact.errors import ContractError


def _case(issue: str = "billing_error", **over: Any) -> dict[str, Any]:
    row = pd.Series(
        {
            "issue": issue,
            "revenue_at_risk": 100_000.0,
            "revenue_at_risk_low": 80_000.0,
            "revenue_at_risk_high": 125_000.0,
            "customers": 200,
            "aggregate_ltv": 900_000.0,
            "contacts": 400,
            "repeat_contacts": 100,
            "handling_cost": 2_000.0,
            "risk_source": "model",
        }
    )
    affected = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(30)],
            "value": [float(1000 + 37 * ((i * 7) % 30)) for i in range(30)],
            "value_source": "finance",
            "revenue_at_risk": 50.0,
            "why": "2 contacts on billing error; <b>asked</b> to escalate",
        }
    )
    bc = build_business_case(
        row, affected, playbook=load_playbook(), horizon_days=365, window_days=180
    )
    case = {
        "id": 3,
        "issue": issue,
        "state": "open",
        "severity": "high",
        "team": "Billing Operations",
        "owner": "billing-ops-lead",
        "due": "2026-01-15",
        "customers": bc["customers"],
        "aggregate_ltv": bc["aggregate_ltv"],
        "revenue_at_risk": bc["revenue_at_risk"],
        "cost_of_inaction": bc["cost_of_inaction"],
        "cost_of_intervention": bc["cost_of_intervention"],
        "recommended_response": bc["recommended_response"],
        "measurement_plan": {"method": "randomised_holdout", "planned_sample_size": 19820},
        "business_case": bc,
        "escalated_to": None,
        "below_threshold_since": None,
        "evidence": None,
        "measurement_result": None,
    }
    return case | over


def test_the_built_business_case_is_consistent() -> None:
    case = _case()
    assert check_business_case(case) == []
    bc = case["business_case"]
    assert bc["cost_of_inaction"] == pytest.approx(
        bc["expected_lost_revenue"] + bc["repeat_contact_cost"]
    )
    assert (
        bc["cost_of_inaction_interval"][0]
        < bc["cost_of_inaction"]
        < bc["cost_of_inaction_interval"][1]
    )


@pytest.mark.parametrize(
    ("tamper", "complaint"),
    [
        (lambda c: c.update(cost_of_inaction=1.0), "cost of inaction"),
        (lambda c: c.update(recommended_response="retention_offer"), "recommended"),
        (lambda c: c["business_case"]["options"][0].update(net_value=1.0), "net value"),
        (lambda c: c["business_case"]["top_customers"].reverse(), "ranked"),
        (lambda c: c.update(revenue_at_risk=1e9), "outside its interval"),
    ],
)
def test_inconsistent_numbers_are_found(tamper: Any, complaint: str) -> None:
    case = _case()
    tamper(case)
    assert any(complaint in p for p in check_business_case(case))


def test_markdown_holds_every_figure_and_the_ranked_customers() -> None:
    case = _case()
    text = export_case(case, "md", today=date(2026, 1, 1))
    assert text.startswith("# Case 3: billing_error")
    bc = case["business_case"]
    for label, value in key_figures(case):
        assert f"| {label} | {value} |" in text
    for amount in (bc["revenue_at_risk"], bc["cost_of_inaction"], bc["cost_of_intervention"]):
        assert f"${amount:,.0f}" in text
    assert "$80,000 to $125,000" in text and "ROI" in text and "months" in text
    ranked = [c["customer_id"] for c in bc["top_customers"]]
    positions = [text.index(f"| {cid} |") for cid in ranked]
    assert positions == sorted(positions)
    assert "randomised_holdout" in text and "OVERDUE" not in text
    assert "OVERDUE" in export_case(case, "md", today=date(2026, 2, 1))


def test_html_is_self_contained_and_escaped() -> None:
    case = _case(issue="<script>alert(1)</script>", reason=None)
    page = export_case(case, "html", today=date(2026, 1, 1))
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;asked&lt;/b&gt;" in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    bc = case["business_case"]
    assert f"${bc['cost_of_inaction']:,.0f}" in page and f"${bc['expected_benefit']:,.0f}" in page


def test_json_is_the_record_and_unknown_format_is_refused() -> None:
    case = _case()
    assert json.loads(export_case(case, "json")) == case
    with pytest.raises(ContractError, match="md, html, json"):
        export_case(case, "pdf")


def test_flags_evidence_and_measured_result_are_shown() -> None:
    case = _case(
        escalated_to="cfo-office",
        escalated_at="2026-01-20T08:00:00+00:00",
        below_threshold_since="2026-01-10",
        evidence={
            "detections": [
                {
                    "date": "2026-01-05",
                    "kind": "spike",
                    "metric": "volume",
                    "direction": "up",
                    "observed": 40,
                    "baseline": 5,
                    "since": "2026-01-05",
                }
            ]
        },
        measurement_result={
            "churn": {
                "estimate": 0.21,
                "low": 0.05,
                "high": 0.35,
                "method": "randomised_holdout",
                "verdict": "worked",
            },
            "exposure": {"error": "too short"},
        },
    )
    text = export_case(case, "md", today=date(2026, 1, 1))
    assert "Escalated to cfo-office" in text and "Below the case threshold since 2026-01-10" in text
    assert "| 2026-01-05 | spike | volume | up | 40 vs 5 |" in text
    assert "21.0% (95%: 5.0% to 35.0%)" in text and "verdict worked" in text
    assert "not measured: too short" in text
