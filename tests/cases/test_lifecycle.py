"""Case lifecycle through the flow: thresholds, refresh, below-threshold flag, escalation,
monitoring evidence, routing by channel."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cximpact.cases.export import check_business_case
from cximpact.cases.lifecycle import case_listing, material_issues
from cximpact.cases.routing import load_routing
from cximpact.errors import ConfigError
from cximpact.flow import open_cases
from cximpact.settings import load_settings
from cximpact.store.state import StateStore

from .conftest import make_analysis

DAY = date(2026, 5, 1)


def _issues(**rar: float) -> pd.DataFrame:
    total = sum(rar.values())
    return pd.DataFrame(
        {
            "issue": list(rar),
            "revenue_at_risk": list(rar.values()),
            "share_of_exposure": [v / total for v in rar.values()],
        }
    )


def test_threshold_modes() -> None:
    issues = _issues(big=90_000.0, mid=8_000.0, small=2_000.0)  # shares .9 .08 .02
    both = material_issues(issues, amount=5000, share=0.1, mode="all")
    either = material_issues(issues, amount=5000, share=0.1, mode="any")
    assert list(issues["issue"][both]) == ["big"]
    assert list(issues["issue"][either]) == ["big", "mid"]
    share_only = material_issues(issues, amount=0, share=0.05, mode="any")  # 0 is ignored
    assert list(issues["issue"][share_only]) == ["big", "mid"]
    with pytest.raises(ConfigError, match="any"):
        material_issues(issues, amount=1, share=0, mode="some")


def test_mode_any_opens_a_case_on_the_amount_alone(tmp_path: Path, state: StateStore) -> None:
    analysis = make_analysis({"billing_error": 100_000.0, "app_login": 50_000.0})
    strict = load_settings(db=tmp_path / "a.duckdb", case_threshold_share=0.5)
    assert {c.issue for c, _ in open_cases(state, analysis, strict, today=DAY)} == {"billing_error"}
    loose = load_settings(
        db=tmp_path / "a.duckdb", case_threshold_share=0.5, case_threshold_mode="any"
    )
    opened = {c.issue: created for c, created in open_cases(state, analysis, loose, today=DAY)}
    assert opened == {"billing_error": False, "app_login": True}


def test_issue_below_threshold_is_flagged_not_silently_kept(
    tmp_path: Path, state: StateStore
) -> None:
    settings = load_settings(db=tmp_path / "a.duckdb")
    open_cases(
        state,
        make_analysis({"billing_error": 100_000.0, "app_login": 50_000.0}),
        settings,
        today=DAY,
    )
    shrunk = make_analysis({"billing_error": 100_000.0, "app_login": 2_000.0})
    later = DAY + timedelta(days=3)
    open_cases(state, shrunk, settings, today=later)
    open_cases(state, shrunk, settings, today=later + timedelta(days=5))
    cases = {c.issue: c for c in state.list_cases()}
    assert len(cases) == 2  # never a second case for the same issue
    login = cases["app_login"]
    assert login.stale and login.below_threshold_since == later  # the first day it fell below
    assert login.revenue_at_risk == 2_000.0  # figures refreshed, not frozen
    assert not cases["billing_error"].stale
    assert case_listing(login, later)["stale"] is True
    flagged = [e for e in state.audit(login.id) if e.after and e.after["below_threshold_since"]]
    assert flagged[0].before is not None and flagged[0].before["below_threshold_since"] is None
    open_cases(state, make_analysis({"billing_error": 100_000.0}), settings, today=later)
    assert state.get_case(login.id).stale  # issue gone altogether: still flagged
    back = make_analysis({"billing_error": 100_000.0, "app_login": 60_000.0})
    open_cases(state, back, settings, today=later + timedelta(days=9))
    assert not state.get_case(login.id).stale


def test_overdue_cases_escalate_once_to_the_owners_manager(
    tmp_path: Path, state: StateStore
) -> None:
    settings = load_settings(db=tmp_path / "a.duckdb")
    analysis = make_analysis({"billing_error": 100_000.0, "app_login": 1_000.0})
    (case, _), *_ = open_cases(state, analysis, settings, today=DAY)
    assert case.owner == "billing-ops-lead" and case.escalated_to is None
    late = case.due + timedelta(days=1)
    assert case_listing(state.get_case(case.id), late)["overdue"]
    open_cases(state, analysis, settings, today=late)
    open_cases(state, analysis, settings, today=late + timedelta(days=1))
    escalated = state.get_case(case.id)
    assert escalated.escalated_to == "cfo-office" and escalated.escalated_at is not None
    actions = [e.action for e in state.audit(case.id)]
    assert actions.count("escalate") == 1
    # a new deadline re-arms escalation
    moved = state.edit(case.id, actor="ana", due=late + timedelta(days=10))
    assert moved.escalated_to is None
    open_cases(state, analysis, settings, today=late + timedelta(days=11))
    assert [e.action for e in state.audit(case.id)].count("escalate") == 2


def test_manager_of_falls_back_to_the_fallback_owners_manager() -> None:
    routing = load_routing()
    assert routing.manager_of("billing-ops-lead") == "cfo-office"
    assert routing.manager_of("someone-new") == routing.managers[routing.fallback.owner]


def test_a_recent_spike_opens_a_case_with_the_detection_as_evidence(
    tmp_path: Path, state: StateStore
) -> None:
    settings = load_settings(db=tmp_path / "a.duckdb")
    analysis = make_analysis(
        {"billing_error": 100_000.0, "network_outage": 500.0}, spike={"network_outage": 40}
    )
    opened = {c.issue: c for c, _ in open_cases(state, analysis, settings, today=DAY)}
    assert "network_outage" in opened  # far below the thresholds, but spiking now
    detections = opened["network_outage"].evidence["detections"]  # type: ignore[index]
    spike = next(d for d in detections if d["kind"] == "spike" and d["metric"] == "volume")
    assert spike["date"] == "2026-04-30" and spike["observed"] == 40
    assert not opened["network_outage"].stale
    again = {c.issue: c for c, _ in open_cases(state, analysis, settings, today=DAY)}
    assert again["network_outage"].evidence == opened["network_outage"].evidence  # no duplicates
    assert not opened["billing_error"].evidence


def test_routing_by_dominant_channel(tmp_path: Path, state: StateStore) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text(
        "rules:\n"
        "  - channel: [chat]\n    team: Chat Team\n    owner: chat-lead\n"
        "fallback: {team: CX, owner: cx-director}\n"
        "managers: {chat-lead: digital-vp}\n"
    )
    settings = load_settings(db=tmp_path / "a.duckdb", routing_file=routing)
    analysis = make_analysis(
        {"app_login": 60_000.0, "long_wait": 40_000.0}, channel={"app_login": "chat"}
    )
    owners = {
        c.issue: (c.team, c.owner) for c, _ in open_cases(state, analysis, settings, today=DAY)
    }
    assert owners == {"app_login": ("Chat Team", "chat-lead"), "long_wait": ("CX", "cx-director")}
    assert load_routing(routing).route("app_login", None, "phone") == ("CX", "cx-director")


def test_plan_and_due_are_fixed_at_opening(tmp_path: Path, state: StateStore) -> None:
    settings = load_settings(db=tmp_path / "a.duckdb")
    ((first, _),) = open_cases(
        state, make_analysis({"billing_error": 100_000.0}), settings, today=DAY
    )
    bigger = make_analysis({"billing_error": 400_000.0}, customers_per_issue=400)
    ((again, created),) = open_cases(state, bigger, settings, today=DAY + timedelta(days=30))
    assert not created and again.revenue_at_risk == 400_000.0
    assert again.measurement_plan == first.measurement_plan and again.due == first.due
    assert first.measurement_plan["planned_sample_size"] > 0


def test_every_opened_case_has_a_consistent_business_case(
    tmp_path: Path, state: StateStore
) -> None:
    settings = load_settings(db=tmp_path / "a.duckdb", case_threshold_share=0.0)
    analysis = make_analysis(
        {"billing_error": 250_000.0, "app_login": 40_000.0, "long_wait": 6_000.0}
    )
    cases = [c for c, _ in open_cases(state, analysis, settings, today=DAY)]
    assert len(cases) == 3
    for case in cases:
        record = case.to_dict()
        assert check_business_case(record) == [], case.issue
        assert record["business_case"]["dominant_channel"] == "phone"
        assert len(record["business_case"]["top_customers"]) == 25


def test_only_rising_detections_make_an_issue_material() -> None:
    from cximpact.cases.lifecycle import rising

    evidence = {
        "billing_error": {"detections": [{"kind": "change_point", "direction": "down"}]},
        "late_delivery": {
            "detections": [
                {"kind": "change_point", "direction": "down"},
                {"kind": "spike", "direction": "up"},
            ]
        },
        "app_login": {"detections": [{"kind": "spike"}]},
    }
    assert rising(evidence) == {"late_delivery", "app_login"}
