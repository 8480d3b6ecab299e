"""The transactional store on SQLite and PostgreSQL: migrations, cases, transitions, audit."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import NullPool

from cximpact.errors import ContractError, NotFoundError, StateError, StoreError
from cximpact.store.models import Base
from cximpact.store.state import MIGRATIONS_DIR, CaseRecord, StateStore, mask_url

LIFECYCLE = ("accepted", "in_progress", "fix_deployed", "measuring")


def fields(**overrides: Any) -> dict[str, Any]:
    """Fields of a typical case, with ``overrides`` applied."""
    values: dict[str, Any] = {
        "severity": "high",
        "team": "billing",
        "owner": "routing-bot",
        "due": date(2030, 1, 31),
        "revenue_at_risk": 12_500.0,
        "customers": 40,
        "aggregate_ltv": 80_000.0,
        "cost_of_inaction": 12_500.0,
        "cost_of_intervention": 3_000.0,
        "recommended_response": "refund and fix the double charge",
        "measurement_plan": {"metric": "churn", "window_days": 90},
        "business_case": {"roi": 4.2, "drivers": ["refunds", "repeat contacts"]},
    }
    values.update(overrides)
    return values


def walk_to(store: StateStore, case_id: int, target: str) -> CaseRecord:
    """Move a case forward along the lifecycle until it reaches ``target``."""
    case = store.get_case(case_id)
    for state in LIFECYCLE:
        case = store.transition(case_id, state, actor="tester")
        if state == target:
            break
    return case


def insert_raw_case(connection: Any, issue: str, state: str = "open") -> None:
    """Insert a case with plain SQL, bypassing the API's checks."""
    connection.execute(
        text(
            "INSERT INTO cases (issue, state, severity, team, owner, due, opened_at, updated_at, "
            "revenue_at_risk, customers, aggregate_ltv, cost_of_inaction, cost_of_intervention, "
            "recommended_response, measurement_plan, business_case) VALUES (:issue, :state, "
            "'low', 't', 'o', '2030-01-01', '2025-01-01 00:00:00', '2025-01-01 00:00:00', "
            "0, 0, 0, 0, 0, '', '{}', '{}')"
        ),
        {"issue": issue, "state": state},
    )


# -- migrations ----------------------------------------------------------------------------


def test_upgrade_twice_is_idempotent(store: StateStore, raw_engine: Engine) -> None:
    store.upgrade()
    store.upgrade()
    with raw_engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    heads = {version for (version,) in versions}
    assert "0002_cases" in heads and "0001" not in heads  # every branch at its head, once
    assert len(versions) == len(heads)


def test_migration_creates_tables_and_indexes(store: StateStore, raw_engine: Engine) -> None:
    inspector = inspect(raw_engine)
    assert {"cases", "audit_log", "alembic_version"} <= set(inspector.get_table_names())
    indexes = {index["name"]: index for index in inspector.get_indexes("cases")}
    assert indexes["uq_cases_issue_active"]["unique"]
    assert "ix_cases_issue" in indexes


def test_models_match_migration(store: StateStore, raw_engine: Engine) -> None:
    with raw_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_works_on_a_fresh_in_memory_store() -> None:
    with StateStore("sqlite://") as memory:
        memory.upgrade()
        case, created = memory.upsert_case("x", fields())
    assert created and case.state == "open"


# -- upsert --------------------------------------------------------------------------------


def test_upsert_creates_then_refreshes(store: StateStore) -> None:
    first, created = store.upsert_case("billing/double-charge", fields(), actor="pipeline")
    second, created_again = store.upsert_case(
        "billing/double-charge",
        fields(revenue_at_risk=20_000.0, severity="critical", business_case={"roi": 5}),
    )
    assert created and not created_again
    assert second.id == first.id
    assert second.revenue_at_risk == 20_000.0
    assert second.severity == "critical"
    assert second.business_case == {"roi": 5}
    assert second.opened_at == first.opened_at
    assert second.updated_at >= first.updated_at
    assert len(store.list_cases(include_terminal=False)) == 1


def test_refresh_keeps_state_and_human_choices(store: StateStore) -> None:
    case, _ = store.upsert_case("late-delivery", fields())
    store.transition(case.id, "accepted", actor="ana")
    store.assign(case.id, "ana", team="logistics", actor="ana")
    refreshed, _ = store.upsert_case(
        "late-delivery", fields(owner="routing-bot-2", team="billing", due=date(2031, 1, 1))
    )
    assert refreshed.state == "accepted"
    assert (refreshed.owner, refreshed.team) == ("ana", "logistics")
    assert refreshed.due == date(2031, 1, 1)  # never touched by a human: the system may move it


def test_refresh_updates_owner_still_at_system_value(store: StateStore) -> None:
    store.upsert_case("login", fields(owner="routing-bot"))
    refreshed, _ = store.upsert_case("login", fields(owner="new-routing-owner"))
    assert refreshed.owner == "new-routing-owner"


def test_database_refuses_a_second_open_case(store: StateStore, raw_engine: Engine) -> None:
    store.upsert_case("refunds", fields())
    with pytest.raises(IntegrityError), raw_engine.begin() as connection:
        insert_raw_case(connection, "refunds", state="in_progress")
    with raw_engine.begin() as connection:  # a terminal duplicate is fine
        insert_raw_case(connection, "refunds", state="dismissed")


@pytest.mark.parametrize("ending", ["dismissed", "closed"])
def test_new_case_after_terminal_one(store: StateStore, ending: str) -> None:
    case, _ = store.upsert_case("outage", fields())
    if ending == "dismissed":
        store.transition(case.id, "dismissed", actor="ana", reason="duplicate of INC-1")
    else:
        walk_to(store, case.id, "measuring")
        store.transition(case.id, "closed", actor="ana", verdict="worked")
    fresh, created = store.upsert_case("outage", fields())
    assert created and fresh.id != case.id and fresh.state == "open"
    assert store.get_case(case.id).state == ending


def test_upsert_validates_fields(store: StateStore) -> None:
    with pytest.raises(ContractError, match="unknown case fields"):
        store.upsert_case("x", fields(colour="red"))
    with pytest.raises(ContractError, match="required on open"):
        store.upsert_case("x", {"revenue_at_risk": 1.0})
    with pytest.raises(ContractError, match="severity"):
        store.upsert_case("x", fields(severity="urgent"))
    with pytest.raises(ContractError, match="finite"):
        store.upsert_case("x", fields(revenue_at_risk=float("nan")))
    with pytest.raises(ContractError, match="non-empty"):
        store.upsert_case(" ", fields())
    assert store.list_cases() == [] and store.audit() == []


def test_records_are_json_ready_and_utc(store: StateStore) -> None:
    case, _ = store.upsert_case("x", fields(due="2030-02-01", business_case={"gap": float("inf")}))
    loaded = store.get_case(case.id)
    assert loaded.opened_at.tzinfo == UTC and loaded.updated_at.tzinfo == UTC
    assert loaded.due == date(2030, 2, 1)
    assert loaded.business_case == {"gap": None}
    assert loaded.to_dict()["due"] == "2030-02-01"
    assert json.loads(json.dumps(loaded.to_dict()))["opened_at"].endswith("+00:00")
    assert loaded == case


# -- reading -------------------------------------------------------------------------------


def test_list_cases_orders_and_filters(store: StateStore) -> None:
    small, _ = store.upsert_case("small", fields(revenue_at_risk=10.0))
    big, _ = store.upsert_case("big", fields(revenue_at_risk=1_000.0))
    gone, _ = store.upsert_case("gone", fields(revenue_at_risk=5_000.0))
    store.transition(gone.id, "dismissed", actor="ana", reason="noise")
    assert [c.issue for c in store.list_cases()] == ["gone", "big", "small"]
    assert [c.issue for c in store.list_cases(include_terminal=False)] == ["big", "small"]
    assert [c.id for c in store.list_cases(state="dismissed")] == [gone.id]
    assert store.list_cases(state="dismissed", include_terminal=False) == []
    with pytest.raises(ContractError, match="not one of"):
        store.list_cases(state="done")
    assert {small.id, big.id} == {c.id for c in store.list_cases(state="open")}


def test_get_case_unknown_id(store: StateStore) -> None:
    with pytest.raises(NotFoundError, match="no case with id 999"):
        store.get_case(999)
    with pytest.raises(NotFoundError):
        store.transition(999, "accepted", actor="ana")


# -- transitions ---------------------------------------------------------------------------


def test_full_lifecycle(store: StateStore) -> None:
    case, _ = store.upsert_case("checkout", fields())
    measuring = walk_to(store, case.id, "measuring")
    assert measuring.state == "measuring" and measuring.closed_at is None
    closed = store.transition(
        case.id, "closed", actor="ana", verdict="worked", reason="churn fell 2 points"
    )
    assert (closed.state, closed.verdict, closed.reason) == (
        "closed",
        "worked",
        "churn fell 2 points",
    )
    assert closed.closed_at is not None and closed.closed_at.tzinfo == UTC
    assert closed.allowed_next == ()
    actions = [entry.action for entry in store.audit(case.id)]
    assert actions == ["open", *["transition"] * 5]


def test_illegal_transition_names_allowed_states(store: StateStore) -> None:
    case, _ = store.upsert_case("x", fields())
    with pytest.raises(StateError, match=r"allowed next: accepted, dismissed"):
        store.transition(case.id, "measuring", actor="ana")
    with pytest.raises(StateError, match="allowed next"):
        store.transition(case.id, "open", actor="ana")
    with pytest.raises(StateError, match="allowed next"):
        store.transition(case.id, "finished", actor="ana")
    store.transition(case.id, "dismissed", actor="ana", reason="noise")
    with pytest.raises(StateError, match="terminal"):
        store.transition(case.id, "accepted", actor="ana")
    with pytest.raises(StateError, match="terminal"):
        store.assign(case.id, "bob", actor="ana")


def test_closing_needs_a_verdict(store: StateStore) -> None:
    case, _ = store.upsert_case("x", fields())
    walk_to(store, case.id, "measuring")
    with pytest.raises(StateError, match="needs a verdict"):
        store.transition(case.id, "closed", actor="ana")
    with pytest.raises(StateError, match="needs a verdict"):
        store.transition(case.id, "closed", actor="ana", verdict="great")
    assert store.get_case(case.id).state == "measuring"


def test_verdict_only_when_closing(store: StateStore) -> None:
    case, _ = store.upsert_case("x", fields())
    with pytest.raises(StateError, match="only when closing"):
        store.transition(case.id, "accepted", actor="ana", verdict="worked")


def test_dismissing_needs_a_reason(store: StateStore) -> None:
    case, _ = store.upsert_case("x", fields())
    with pytest.raises(StateError, match="needs a reason"):
        store.transition(case.id, "dismissed", actor="ana")
    with pytest.raises(StateError, match="needs a reason"):
        store.transition(case.id, "dismissed", actor="ana", reason="  ")
    dismissed = store.transition(case.id, "dismissed", actor="ana", reason="known issue")
    assert dismissed.reason == "known issue" and dismissed.closed_at is not None


def test_assign(store: StateStore) -> None:
    case, _ = store.upsert_case("x", fields())
    assigned = store.assign(case.id, "bob", actor="ana")
    assert (assigned.owner, assigned.team) == ("bob", "billing")
    moved = store.assign(case.id, "carol", team="payments", actor="ana")
    assert (moved.owner, moved.team) == ("carol", "payments")


# -- audit ---------------------------------------------------------------------------------


def test_audit_has_before_after_and_increases(store: StateStore) -> None:
    case, _ = store.upsert_case("x", fields(), actor="pipeline")
    store.upsert_case("x", fields(revenue_at_risk=99.0), actor="pipeline")
    store.assign(case.id, "bob", actor="ana")
    store.transition(case.id, "accepted", actor="bob")
    other, _ = store.upsert_case("y", fields())
    entries = store.audit(case.id)
    assert [e.action for e in entries] == ["open", "refresh", "assign", "transition"]
    assert [e.actor for e in entries] == ["pipeline", "pipeline", "ana", "bob"]
    assert entries[0].before is None and entries[0].after is not None
    assert entries[0].after["state"] == "open"
    assert entries[1].before is not None and entries[1].after is not None
    assert (entries[1].before["revenue_at_risk"], entries[1].after["revenue_at_risk"]) == (
        12_500.0,
        99.0,
    )
    assert entries[3].before is not None and entries[3].after is not None
    assert (entries[3].before["state"], entries[3].after["state"]) == ("open", "accepted")
    ids = [e.id for e in entries]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert all(e.entity == "case" and e.entity_id == case.id for e in entries)
    assert len(store.audit()) == 5 and store.audit(other.id)[0].action == "open"
    assert json.dumps([e.to_dict() for e in entries])


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"],
    ids=["update", "delete"],
)
def test_audit_rows_cannot_be_changed(
    store: StateStore, raw_engine: Engine, statement: str
) -> None:
    store.upsert_case("x", fields())
    with pytest.raises(DBAPIError, match="append-only"), raw_engine.begin() as connection:
        connection.execute(text(statement))
    assert [e.actor for e in store.audit()] == ["cximpact"]


@pytest.mark.postgres
def test_audit_log_cannot_be_truncated_on_postgres(postgres_url: str) -> None:
    with StateStore(postgres_url) as pg:
        pg.upgrade()
        pg.upsert_case("x", fields())
        engine = create_engine(postgres_url, poolclass=NullPool)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_log"))
        engine.dispose()
        assert len(pg.audit()) == 1


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://x/y", ""])
def test_unusable_url_is_a_store_error(url: str) -> None:
    with pytest.raises(StoreError, match="CXIMPACT_DATABASE_URL"):
        StateStore(url)


def test_unreachable_database_is_a_store_error_without_password() -> None:
    store = StateStore("postgresql+psycopg://me:s3cret@127.0.0.1:1/nowhere?connect_timeout=2")
    with pytest.raises(StoreError, match="reachable") as caught:
        store.upgrade()
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)
    store.close()


def test_missing_sqlite_folder_is_a_store_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/state.sqlite"
    with StateStore(url) as store, pytest.raises(StoreError, match="folder exists"):
        store.upgrade()


def test_use_before_upgrade_says_to_migrate(db_url: str) -> None:
    with StateStore(db_url) as store, pytest.raises(StoreError, match="upgrade"):
        store.list_cases()


def test_closed_store_refuses_work(db_url: str) -> None:
    store = StateStore(db_url)
    store.close()
    with pytest.raises(StateError, match="closed"):
        store.list_cases()


def test_mask_url() -> None:
    assert mask_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert "pw" not in mask_url("weird://u:pw@h db")


def test_concurrent_upserts_open_one_case(store: StateStore, db_url: str) -> None:
    barrier = threading.Barrier(6)

    def upsert(amount: float) -> bool:
        with StateStore(db_url) as mine:
            barrier.wait()
            return mine.upsert_case("race", fields(revenue_at_risk=amount))[1]

    with ThreadPoolExecutor(max_workers=6) as pool:
        created = list(pool.map(upsert, [float(n) for n in range(6)]))
    assert created.count(True) == 1
    assert len(store.list_cases()) == 1
    assert [e.action for e in store.audit()].count("open") == 1


def test_downgrade_then_upgrade_again(store: StateStore, raw_engine: Engine) -> None:
    store.upsert_case("x", fields())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with raw_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert not {"cases", "audit_log"} & set(inspect(raw_engine).get_table_names())
    store.upgrade()
    assert store.list_cases() == [] and store.audit() == []


# -- accountability: every write path is audited -------------------------------------------


def test_every_write_path_appends_one_audit_row_with_before_and_after(store: StateStore) -> None:
    """open, refresh, flag, evidence, assign, edit, escalate, transition, measure, close."""
    case, _ = store.upsert_case("x", fields())
    writes = [
        ("refresh", lambda: store.upsert_case("x", fields(revenue_at_risk=9.0))[0]),
        ("refresh", lambda: store.upsert_case("x", {"below_threshold_since": "2030-01-02"})[0]),
        ("refresh", lambda: store.upsert_case("x", {"evidence": {"detections": [{"k": 1}]}})[0]),
        ("assign", lambda: store.assign(case.id, "bob", actor="ana")),
        ("edit", lambda: store.edit(case.id, actor="ana", due="2030-03-01", severity="low")),
        ("escalate", lambda: store.escalate(case.id, "boss", actor="cximpact")),
        ("transition", lambda: walk_to(store, case.id, "measuring")),
        ("measure", lambda: store.record_measurement(case.id, {"verdict": "worked"}, actor="m")),
        (
            "transition",
            lambda: store.record_measurement(
                case.id,
                {"verdict": "no_evidence", "churn": {"estimate": 0.01}},
                actor="m",
                close=True,
            ),
        ),
    ]
    for action, write in writes:
        before = store.get_case(case.id).to_dict()
        count = len(store.audit(case.id))
        after = write()
        entries = store.audit(case.id)
        new = entries[count:]
        assert len(new) >= 1 and new[-1].action == action, (action, [e.action for e in new])
        assert new[0].before == before  # what it was ...
        assert new[-1].after == after.to_dict() == store.get_case(case.id).to_dict()  # ... is
        assert all(e.actor for e in new) and all(e.at.tzinfo is not None for e in new)
    final = store.get_case(case.id)
    assert final.state == "closed" and final.verdict == "no_evidence"
    assert final.measurement_result == {"verdict": "no_evidence", "churn": {"estimate": 0.01}}


def test_below_threshold_keeps_its_first_day_and_clears(store: StateStore) -> None:
    case, _ = store.upsert_case("x", fields())
    store.upsert_case("x", {"below_threshold_since": date(2030, 1, 2)})
    store.upsert_case("x", {"below_threshold_since": date(2030, 1, 9)})
    assert store.get_case(case.id).below_threshold_since == date(2030, 1, 2)
    store.upsert_case("x", {"below_threshold_since": None})
    assert not store.get_case(case.id).stale


def test_evidence_is_appended_without_duplicates(store: StateStore) -> None:
    case, _ = store.upsert_case("x", fields(evidence={"detections": [{"d": 1}]}))
    store.upsert_case("x", {"evidence": {"detections": [{"d": 1}, {"d": 2}]}})
    assert store.get_case(case.id).evidence == {"detections": [{"d": 1}, {"d": 2}]}


def test_closing_by_measurement_needs_measuring_and_a_valid_verdict(store: StateStore) -> None:
    case, _ = store.upsert_case("x", fields())
    with pytest.raises(StateError, match="cannot move to 'closed'"):
        store.record_measurement(case.id, {"verdict": "worked"}, actor="m", close=True)
    walk_to(store, case.id, "measuring")
    with pytest.raises(StateError, match="needs a verdict"):
        store.record_measurement(case.id, {"verdict": "maybe"}, actor="m", close=True)
    assert store.get_case(case.id).measurement_result is None  # nothing half-written


def test_terminal_cases_refuse_edit_escalate_and_measure(store: StateStore) -> None:
    case, _ = store.upsert_case("x", fields())
    store.transition(case.id, "dismissed", actor="ana", reason="duplicate")
    for write in (
        lambda: store.edit(case.id, actor="a", due="2031-01-01"),
        lambda: store.escalate(case.id, "boss", actor="a"),
        lambda: store.record_measurement(case.id, {}, actor="a"),
    ):
        with pytest.raises(StateError, match="terminal"):
            write()
    with pytest.raises(ContractError, match="due date or severity"):
        store.edit(case.id, actor="a")
