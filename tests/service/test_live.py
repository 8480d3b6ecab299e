"""The live path: a posted interaction is redacted, scored and visible when the POST returns."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from .conftest import Running, ingestor_on_copy, start


def _post(running: Running, records: list[dict[str, Any]]) -> dict[str, Any]:
    response = running.client.post(
        "/api/v1/ingest/interactions",
        headers=running.headers("analyst"),
        json={"records": records},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _issue(running: Running, name: str) -> dict[str, Any]:
    rows = running.client.get("/api/v1/issues?limit=500", headers=running.headers("viewer"))
    return next(r for r in rows.json()["items"] if r["issue"] == name)


@pytest.fixture(scope="module")
def case_issue(running: Running) -> dict[str, Any]:
    """An issue with an open case, one text that raises it, and customers who never raised it."""
    services = running.app.state.services
    view = services.ingestor.view
    cases = running.client.get("/api/v1/cases?state=open", headers=running.headers("admin"))
    issue = cases.json()["items"][-1]["issue"]
    example = view.signals[view.signals["root_cause"] == issue].iloc[0]
    sample = running.client.get(
        f"/api/v1/interactions/{example['interaction_id']}", headers=running.headers("analyst")
    ).json()
    carriers = set(view.customers.loc[view.customers["issue"] == issue, "customer_id"])
    fresh = [c for c in view.risk["customer_id"] if c not in carriers][:40]
    return {"issue": issue, "text": sample["text"], "customers": fresh}


def test_posted_interactions_move_issue_exposure_and_customers(
    running: Running, case_issue: dict[str, Any]
) -> None:
    issue = case_issue["issue"]
    before = _issue(running, issue)
    customer = case_issue["customers"][0]
    result = _post(
        running,
        [
            {
                "id": "live-a",
                "customer_id": customer,
                "timestamp": "2026-04-28T09:00:00Z",
                "channel": "email",
                "text": case_issue["text"] + " write to jo@example.com",
            }
        ],
    )
    assert result["inserted"] == 1 and result["scored"] == 1
    scored = running.client.get("/api/v1/interactions/live-a", headers=running.headers("analyst"))
    assert scored.json()["root_cause"] == issue and "jo@example.com" not in scored.json()["text"]
    after = _issue(running, issue)
    assert after["customers"] == before["customers"] + 1
    assert after["revenue_at_risk"] > before["revenue_at_risk"]
    carriers = running.client.get(
        f"/api/v1/issues/{issue}/customers?limit=500", headers=running.headers("analyst")
    ).json()["items"]
    assert customer in {r["customer_id"] for r in carriers}
    detail = running.client.get(f"/api/v1/customers/{customer}", headers=running.headers("admin"))
    assert any(i["issue"] == issue for i in detail.json()["issues"])


def test_resending_the_same_interactions_changes_nothing(
    running: Running, case_issue: dict[str, Any]
) -> None:
    record = {
        "id": "live-b",
        "customer_id": case_issue["customers"][1],
        "timestamp": "2026-04-28T10:00:00Z",
        "channel": "chat",
        "text": case_issue["text"],
    }
    first = _post(running, [record])
    issues_before = running.client.get("/api/v1/issues", headers=running.headers("viewer")).json()
    metrics_before = running.client.get("/api/v1/metrics", headers=running.headers("viewer")).json()
    again = _post(running, [record])
    assert first["inserted"] == 1 and again["inserted"] == 0 and again["scored"] == 0
    assert again["view_version"] == first["view_version"]
    assert running.client.get("/api/v1/issues", headers=running.headers("viewer")).json() == (
        issues_before
    )
    metrics_after = running.client.get("/api/v1/metrics", headers=running.headers("viewer")).json()
    assert metrics_after["interactions_stored"] == metrics_before["interactions_stored"]


def test_live_exposure_refreshes_the_issue_case(
    running: Running, case_issue: dict[str, Any]
) -> None:
    issue = case_issue["issue"]
    records = [
        {
            "id": f"live-c-{i}",
            "customer_id": customer,
            "timestamp": "2026-04-29T10:00:00Z",
            "channel": "phone",
            "text": case_issue["text"],
        }
        for i, customer in enumerate(case_issue["customers"][2:])
    ]
    _post(running, records)
    amount = _issue(running, issue)["revenue_at_risk"]
    for _ in range(50):  # a case refreshes at most once a second: wait for the writer's tick
        cases = running.client.get("/api/v1/cases?state=open", headers=running.headers("admin"))
        mine = next(c for c in cases.json()["items"] if c["issue"] == issue)
        if mine["revenue_at_risk"] == pytest.approx(amount, rel=0.06):
            break
        time.sleep(0.1)
    assert mine["revenue_at_risk"] == pytest.approx(amount, rel=0.06)
    engine = create_engine(running.settings.state_url())
    with engine.connect() as connection:
        actors = (
            connection.execute(
                text("SELECT actor FROM audit_log WHERE entity = 'case' AND entity_id = :id"),
                {"id": mine["id"]},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert "system:live" in actors


def test_stopping_writes_the_live_view_to_the_store(enterprise_dir: Path, tmp_path: Path) -> None:
    from cximpact.service.live import records_frame
    from cximpact.store.analytics import AnalyticsStore

    ingestor, tokens = ingestor_on_copy(enterprise_dir, tmp_path)
    db = ingestor.settings.db
    ingestor.start(refit=True)
    customer = str(ingestor.view.risk["customer_id"].iloc[0])
    record = {
        "id": "persist-1",
        "customer_id": customer,
        "timestamp": "2026-04-30T09:00:00Z",
        "channel": "chat",
        "text": "charged twice for one order",
    }
    outcome = ingestor.ingest("interactions", records_frame([record]), source="t", actor="t")
    live_issues = ingestor.view.issues
    ingestor.stop()
    tokens.close()
    assert outcome.scored == 1
    with AnalyticsStore(db, read_only=True) as store:
        signals = store.read("signals")
        issues = store.read("issue_exposure")
    assert "persist-1" in set(signals["interaction_id"])
    assert issues["revenue_at_risk"].sum() == pytest.approx(live_issues["revenue_at_risk"].sum())


def test_a_failed_write_is_never_visible(
    running: Running, case_issue: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Visible implies durable: scored while written, but published only once committed."""
    import cximpact.service._writer as writer
    from cximpact.errors import StoreError

    ingestor = running.app.state.services.ingestor
    before = ingestor.view

    def broken(store: Any, prepared: Any) -> None:
        raise StoreError("the disk is full (test)")

    monkeypatch.setattr(writer, "write_group", broken)
    record = {
        "id": "never-stored-1",
        "customer_id": case_issue["customers"][0],
        "timestamp": "2026-04-29T11:00:00Z",
        "channel": "chat",
        "text": case_issue["text"],
    }
    response = running.client.post(
        "/api/v1/ingest/interactions",
        headers=running.headers("analyst"),
        json={"records": [record]},
    )
    assert response.status_code == 503, response.text
    assert "disk is full" in response.json()["error"]["message"]
    assert ingestor.view is before  # nothing published
    missing = running.client.get(
        "/api/v1/interactions/never-stored-1", headers=running.headers("analyst")
    )
    assert missing.status_code == 404
    monkeypatch.undo()
    result = _post(running, [record])  # the resend is stored, scored and visible
    assert result["inserted"] == 1 and result["scored"] == 1
    found = running.client.get(
        "/api/v1/interactions/never-stored-1", headers=running.headers("analyst")
    )
    assert found.status_code == 200


def test_live_cases_follow_the_strategy_preset(enterprise_dir: Path, tmp_path: Path) -> None:
    """Under a preset the live path judges materiality as ``cximpact run`` does."""
    from cximpact.flow import material_issues_of

    for running in start(enterprise_dir, tmp_path, strategy_preset="turnaround"):
        ingestor = running.app.state.services.ingestor
        analysis = ingestor.scorer.analysis
        expected = set(
            material_issues_of(analysis.exposure.issues, running.settings, analysis)["issue"]
        )
        balanced = set(
            material_issues_of(
                analysis.exposure.issues,
                running.settings.model_copy(update={"strategy_preset": "balanced"}),
                analysis,
            )["issue"]
        )
        assert expected != balanced  # the preset changes what is material on this enterprise
        assert ingestor._material_under_preset() == expected
        ingestor._mark_cases(replace(ingestor.view, touched=frozenset(expected | balanced)))
        with ingestor._dirty_lock:
            assert (
                set(ingestor._dirty) >= expected | balanced
            )  # all touched: judged off the answer path


def test_rows_whose_scoring_failed_are_scored_with_the_next_batch(
    running: Running, case_issue: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored but not scored (the scorer failed) is answered as such, and caught up later."""
    ingestor = running.app.state.services.ingestor
    scorer = ingestor.scorer

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("scoring blew up (test)")

    def record(i: int) -> dict[str, Any]:
        return {
            "id": f"late-scored-{i}",
            "customer_id": case_issue["customers"][3 + i],
            "timestamp": "2026-04-29T12:00:00Z",
            "channel": "chat",
            "text": case_issue["text"],
        }

    monkeypatch.setattr(scorer, "score", broken)
    first = _post(running, [record(0)])
    assert first["inserted"] == 1 and first["scored"] == 0  # durable, not yet visible
    hidden = running.client.get(
        "/api/v1/interactions/late-scored-0", headers=running.headers("analyst")
    )
    assert hidden.status_code == 404
    monkeypatch.undo()
    second = _post(running, [record(1)])
    assert second["inserted"] == 1 and second["scored"] == 1
    for i in (0, 1):  # the first row caught up with the second batch
        found = running.client.get(
            f"/api/v1/interactions/late-scored-{i}", headers=running.headers("analyst")
        )
        assert found.status_code == 200, found.text


def test_the_worker_process_and_the_server_process_answer_alike(
    enterprise_dir: Path, tmp_path: Path
) -> None:
    """``service_worker_processes`` 1 (default) and 0: same reports, stored rows and signals."""
    answers = []
    for processes in (0, 1):
        for running in start(
            enterprise_dir, tmp_path / f"p{processes}", service_worker_processes=processes
        ):
            ingestor = running.app.state.services.ingestor
            assert ingestor._worker.remote == bool(processes)
            customers = list(ingestor.view.risk["customer_id"][:3])
            records = [
                {
                    "id": f"alike-{i}",
                    "customer_id": customers[i % 3] if i != 4 else "nobody-we-know",
                    "timestamp": "2026-04-28T10:00:00Z" if i != 5 else "yesterday-ish",
                    "channel": "chat",
                    "text": [
                        "charged twice on my bill, call me on 415-555-0199 or I switch",
                        "the outage took my internet down again, speak to a manager",
                        "thanks, all sorted",
                    ][i % 3],
                }
                for i in range(8)
            ]
            first = _post(running, records)
            again = _post(running, records[:4])  # a resend: nothing changes
            seen = [
                running.client.get(
                    f"/api/v1/interactions/alike-{i}", headers=running.headers("analyst")
                ).json()
                for i in (0, 1, 2, 3)
            ]
            answers.append((first, again, seen))
    for part in ("first", "again"):
        index = ("first", "again").index(part)
        strip = {"view_version"}
        a, b = ({k: v for k, v in answers[j][index].items() if k not in strip} for j in (0, 1))
        assert a == b, part
    assert answers[0][0]["quarantined"] == 2 and answers[0][1]["inserted"] == 0
    assert answers[0][2] == answers[1][2]
    assert "415-555-0199" not in answers[1][2][0]["text"]


def test_interactions_queued_behind_a_new_customer_are_checked_against_it(
    running: Running,
) -> None:
    """The worker cleans rounds ahead of the writer, but not past a customers round."""
    from cximpact.service.live import records_frame

    ingestor = running.app.state.services.ingestor
    customer = {"id": "queued-cust", "start_date": "2024-01-01", "segment": "smb"}
    customer |= {"products": "1", "monthly_revenue": "30"}
    interaction = {
        "id": "queued-int",
        "customer_id": "queued-cust",
        "timestamp": "2026-04-29T10:00:00Z",
        "channel": "chat",
        "text": "charged twice on my bill",
    }
    futures = [
        ingestor.submit(
            "interactions",
            records_frame([interaction | {"id": "before"}]),
            source="api",
            actor="test",
        ),
        ingestor.submit("customers", records_frame([customer]), source="api", actor="test"),
        ingestor.submit("interactions", records_frame([interaction]), source="api", actor="test"),
    ]
    before, added, after = (f.result(timeout=60).report for f in futures)
    assert before.quarantined == 1 and before.by_rule == {"unknown_customer": 1}
    assert added.inserted == 1
    assert after.inserted == 1 and after.quarantined == 0
