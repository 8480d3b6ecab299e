"""The worker: retries with capped, jittered exponential backoff; dead letter after N failures."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cximpact.actions.channels.base import DeliveryError, Message, RecordingChannel
from cximpact.actions.store import ActionStore
from cximpact.actions.worker import RetryPolicy, Worker
from cximpact.errors import StoreError

Rows = Callable[..., list[dict[str, Any]]]


@given(st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=10**6))
def test_backoff_doubles_with_jitter_and_is_capped(attempt: int, seed: int) -> None:
    policy = RetryPolicy(max_attempts=8, base_s=1.0, cap_s=300.0)
    ceiling = min(300.0, 2.0 ** (attempt - 1))
    delay = policy.delay(attempt, random.Random(seed))
    assert ceiling / 2 <= delay <= ceiling


def _drain(worker: Worker, store: ActionStore) -> None:
    """Run until nothing is pending, making every scheduled retry due at once."""
    for _ in range(50):
        worker.dispatch_once()
        if store.outbox_counts()["pending"] == 0:
            return
        _make_due(store)


def _make_due(store: ActionStore) -> None:
    from sqlalchemy import update

    from cximpact.store.models import OutboxMessage

    with store._transaction("test: make retries due") as session:
        session.execute(
            update(OutboxMessage).values(
                not_before=datetime.now(UTC) - timedelta(seconds=1), lease_until=None
            )
        )


def test_transient_failures_are_retried_then_delivered(
    sqlite_store: ActionStore, make_rows: Rows
) -> None:
    sqlite_store.add_actions(make_rows(3))
    failures: dict[str, int] = {}

    def flaky(message: Message) -> DeliveryError | None:
        failures[message.idempotency_key] = failures.get(message.idempotency_key, 0) + 1
        return (
            DeliveryError("503", transient=True) if failures[message.idempotency_key] <= 2 else None
        )

    channel = RecordingChannel(fail=flaky)
    worker = Worker(
        sqlite_store,
        {"hook": channel},
        retry=RetryPolicy(max_attempts=5, base_s=10, cap_s=20),
        rng=random.Random(0),
    )
    before = datetime.now(UTC)
    stats = worker.dispatch_once()
    assert stats.retried == 3 and stats.delivered == 0
    for action in sqlite_store.list_actions():
        assert action.attempts == 1 and action.not_before is not None
        assert (
            before + timedelta(seconds=5)
            <= action.not_before
            <= datetime.now(UTC) + timedelta(seconds=10)
        )
    _drain(worker, sqlite_store)
    assert len(channel.sent) == 3 and {m.attempt for m in channel.sent} == {3}
    assert sqlite_store.outbox_counts() == {"pending": 0, "delivered": 3, "dead": 0}


def test_dead_letter_after_max_attempts_and_at_once_when_permanent(
    sqlite_store: ActionStore, make_rows: Rows
) -> None:
    sqlite_store.add_actions(
        make_rows(2, channel="down")
        + make_rows(1, channel="strict", start=2)
        + make_rows(1, channel="missing", start=3)
    )
    down = RecordingChannel(fail=lambda m: DeliveryError("connection refused", transient=True))
    strict = RecordingChannel(fail=lambda m: DeliveryError("400 bad request", transient=False))
    worker = Worker(
        sqlite_store,
        {"down": down, "strict": strict},
        retry=RetryPolicy(max_attempts=4, base_s=0.01, cap_s=0.01),
    )
    _drain(worker, sqlite_store)
    by_customer = {a.customer_id: a for a in sqlite_store.list_actions()}
    assert [by_customer[c].attempts for c in ("C00000", "C00001", "C00002", "C00003")] == [
        4,
        4,
        1,
        1,
    ]
    assert {a.state for a in by_customer.values()} == {"dead_letter"}
    assert "not configured" in (by_customer["C00003"].last_error or "")
    assert sqlite_store.outbox_counts()["dead"] == 4


def test_unexpected_channel_bug_is_retried_not_fatal(
    sqlite_store: ActionStore, make_rows: Rows
) -> None:
    sqlite_store.add_actions(make_rows(1))
    broken = RecordingChannel(fail=lambda m: (_ for _ in ()).throw(KeyError("oops")))
    worker = Worker(
        sqlite_store, {"hook": broken}, retry=RetryPolicy(max_attempts=3, base_s=5, cap_s=5)
    )
    stats = worker.dispatch_once()
    assert stats.retried == 1
    assert "unexpected error" in (sqlite_store.list_actions()[0].last_error or "")


class _FlakyStore:
    """Wraps a store; its first ``n`` result writes fail as if the database were down."""

    def __init__(self, store: ActionStore, n: int) -> None:
        self.store, self.n = store, n

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def mark_delivered_many(self, *args: Any, **kwargs: Any) -> int:
        if self.n > 0:
            self.n -= 1
            raise StoreError("database is restarting")
        return self.store.mark_delivered_many(*args, **kwargs)


def test_results_are_kept_until_the_database_is_back(
    sqlite_store: ActionStore, make_rows: Rows
) -> None:
    sqlite_store.add_actions(make_rows(2))
    channel = RecordingChannel()
    slept: list[float] = []
    flaky: Any = _FlakyStore(sqlite_store, 3)
    worker = Worker(
        flaky, {"hook": channel}, sleep=slept.append, retry=RetryPolicy(base_s=0.1, cap_s=1)
    )
    stats = worker.dispatch_once()
    assert stats.delivered == 2 and stats.store_errors == 3 and len(slept) == 3
    assert len(channel.sent) == 2  # the write was retried, not the send
    assert sqlite_store.outbox_counts()["delivered"] == 2


def test_run_drains_and_returns(sqlite_store: ActionStore, make_rows: Rows) -> None:
    sqlite_store.add_actions(make_rows(120))
    channel = RecordingChannel()
    stats = Worker(sqlite_store, {"hook": channel}, batch_size=50).run(
        drain=True, drain_wait_s=0, poll_s=0
    )
    assert stats.delivered == 120 and len({m.idempotency_key for m in channel.sent}) == 120


def test_deliveries_are_recorded_in_groups_and_at_batch_end(
    sqlite_store: ActionStore, make_rows: Rows
) -> None:
    sqlite_store.add_actions(make_rows(25))
    commits: list[int] = []
    spy: Any = _FlakyStore(sqlite_store, 0)
    original = spy.mark_delivered_many

    def counting(receipts: Any, **kwargs: Any) -> int:
        receipts = list(receipts)
        commits.append(len(receipts))
        return int(original(receipts, **kwargs))

    spy.mark_delivered_many = counting
    Worker(spy, {"hook": RecordingChannel()}, batch_size=25, record_every=10).dispatch_once()
    assert commits == [10, 10, 5]
    assert sqlite_store.outbox_counts()["delivered"] == 25
