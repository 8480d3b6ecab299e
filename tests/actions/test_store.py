"""The outbox store: atomic planning, leases, delivery, dead letter, outcomes (both backends)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from cximpact.actions.measurement import case_measurements
from cximpact.actions.store import ActionStore
from cximpact.errors import ContractError, NotFoundError

Rows = Callable[..., list[dict[str, Any]]]


def test_migration_adds_the_action_tables_beside_the_cases(db_url: str) -> None:
    with ActionStore(db_url) as store:
        store.upgrade()
        store.upgrade()  # a no-op when up to date
    engine = create_engine(db_url, poolclass=NullPool)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"cases", "audit_log", "actions", "action_outbox", "action_outcomes"} <= tables


def test_planning_writes_action_and_message_together_once(
    action_store: ActionStore, make_rows: Rows
) -> None:
    rows = make_rows(5)
    rows[1]["holdout"] = True
    assert action_store.add_actions(rows) == 5
    assert action_store.add_actions(rows) == 0  # same keys: nothing new
    states = {a.customer_id: a.state for a in action_store.list_actions()}
    assert states["C00001"] == "held_out" and states["C00000"] == "queued"
    assert action_store.outbox_counts() == {"pending": 4, "delivered": 0, "dead": 0}


def test_a_failed_plan_writes_nothing(action_store: ActionStore, make_rows: Rows) -> None:
    rows = make_rows(3)
    rows[2]["case_id"] = "not a number"
    with pytest.raises(ValueError):
        action_store.add_actions(rows)
    assert action_store.list_actions() == [] and action_store.outbox_counts()["pending"] == 0


def test_lease_keeps_a_claim_until_it_expires(action_store: ActionStore, make_rows: Rows) -> None:
    action_store.add_actions(make_rows(3))
    now = datetime.now(UTC)
    first = action_store.claim("w1", limit=2, lease_s=30, now=now)
    assert len(first) == 2 and first[0].message.attempt == 1
    second = action_store.claim("w2", limit=10, lease_s=30, now=now)
    assert [c.outbox_id for c in second] == [3]
    later = action_store.claim("w2", limit=10, lease_s=30, now=now + timedelta(seconds=31))
    assert {c.outbox_id for c in later} == {1, 2, 3}  # every lease ran out: sent again


def test_delivery_and_dead_letter_update_the_action(
    action_store: ActionStore, make_rows: Rows
) -> None:
    action_store.add_actions(make_rows(3))
    claimed = action_store.claim("w", limit=3, lease_s=30)
    assert action_store.mark_delivered(claimed[0].outbox_id, {"status": 200})
    assert not action_store.mark_delivered(claimed[0].outbox_id, {"status": 200})  # once only
    retry_at = datetime.now(UTC) + timedelta(hours=1)
    assert action_store.mark_failed(claimed[1].outbox_id, "503", retry_at=retry_at)
    assert action_store.mark_failed(claimed[2].outbox_id, "400", retry_at=None)
    by_key = {a.customer_id: a for a in action_store.list_actions()}
    assert by_key["C00000"].state == "sent"
    assert by_key["C00001"].state == "queued" and by_key["C00001"].attempts == 1
    assert by_key["C00002"].state == "dead_letter" and by_key["C00002"].last_error == "400"
    assert action_store.claim("w", limit=3, lease_s=30) == []  # retry not due, dead not claimed
    assert action_store.next_due() == retry_at
    assert action_store.requeue_dead() == 1
    again = action_store.claim("w", limit=3, lease_s=30)
    assert [c.outbox_id for c in again] == [claimed[2].outbox_id]


def test_outcomes_and_measurement(action_store: ActionStore, make_rows: Rows) -> None:
    rows = make_rows(8)
    for row in rows[4:]:
        row["holdout"] = True
    action_store.add_actions(rows)
    for i, outcome in enumerate(["retained", "retained", "retained", "churned"]):
        action_store.record_outcome(outcome, idempotency_key=rows[i]["idempotency_key"])
    for i, outcome in enumerate(["churned", "churned", "retained", "retained"], start=4):
        action_store.record_outcome(outcome, customer_id=rows[i]["customer_id"], case_id=1)
    # a later non-final report does not overwrite a final one
    action_store.record_outcome("contacted", idempotency_key=rows[0]["idempotency_key"])
    assert action_store.get_action(rows[0]["idempotency_key"]).outcome == "retained"
    [case] = case_measurements(action_store.measured_actions())
    assert (case["treated"], case["held_out"]) == (4, 4)
    assert case["treated_churn_rate"] == 0.25 and case["holdout_churn_rate"] == 0.5
    assert case["churn_reduction"] == 0.25 and 0 < case["p_value"] < 1
    with pytest.raises(ContractError, match="not one of"):
        action_store.record_outcome("delighted", idempotency_key=rows[0]["idempotency_key"])
    with pytest.raises(NotFoundError):
        action_store.record_outcome("churned", idempotency_key="cxa-nope")
    with pytest.raises(ContractError, match="needs"):
        action_store.record_outcome("churned", customer_id="C00001")
