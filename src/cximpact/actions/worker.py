"""The outbox worker: claim due messages, send them through their channel, record the result.

Retries use exponential backoff with "equal jitter", capped:
``delay = uniform(d / 2, d)`` with ``d = min(cap, base x 2 ** (attempt - 1))``; after
``max_attempts`` failed attempts, or at once for a permanent failure (for example HTTP 400, a
missing e-mail address, an unknown channel), the message is dead-lettered (``state = 'dead'``).

The worker survives its database going away: a failed claim or a failed write of a result is
retried with the same backoff until the database answers again (a result already sent stays
in memory meanwhile; if the worker dies first, the lease expires and the message is sent again
with the same idempotency key - see :mod:`cximpact.actions.store` for the contract).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cximpact.actions.channels.base import Channel, DeliveryError
from cximpact.actions.store import ActionStore, ClaimedMessage
from cximpact.errors import StoreError
from cximpact.settings import Settings
from cximpact.store.models import utcnow

__all__ = ["DispatchStats", "RetryPolicy", "Worker", "worker_from_settings"]

log = logging.getLogger("cximpact.actions.worker")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how late failed deliveries are retried.

    Parameters
    ----------
    max_attempts : int
        Attempts before a message is dead-lettered.
    base_s, cap_s : float
        First backoff and its ceiling, in seconds.
    """

    max_attempts: int = 8
    base_s: float = 1.0
    cap_s: float = 300.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.cap_s, self.base_s * 2.0 ** max(attempt - 1, 0))
        return rng.uniform(ceiling / 2.0, ceiling)


@dataclass
class DispatchStats:
    """Counts of one worker run."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    store_errors: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)

    def add(self, other: DispatchStats) -> None:
        """Add ``other``'s counts to these."""
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead
        self.store_errors += other.store_errors
        for name, n in other.by_channel.items():
            self.by_channel[name] = self.by_channel.get(name, 0) + n


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Dispatches the outbox of one :class:`ActionStore` through named channels.

    Parameters
    ----------
    store : ActionStore
        The migrated store.
    channels : mapping of str to Channel
        Channels by the names policies use.
    retry : RetryPolicy, optional
        Backoff and dead-letter threshold.
    lease_s : float, optional
        How long a claim protects a message from other workers (longer than one send).
    batch_size : int, optional
        Messages claimed at once.
    record_every : int, optional
        Deliveries recorded per commit (and at the end of each batch). One commit per message
        is the smallest window of resends after a crash; a few per commit are much faster on
        SQLite, whose commits wait for the disk. At most this many are sent again after a kill.
    rng : random.Random, optional
        Jitter source (seed it in tests).
    sleep : callable, optional
        ``sleep(seconds)``; injected in tests.
    """

    def __init__(
        self,
        store: ActionStore,
        channels: Mapping[str, Channel],
        *,
        retry: RetryPolicy | None = None,
        lease_s: float = 60.0,
        batch_size: int = 50,
        record_every: int = 10,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.channels = dict(channels)
        self.retry = retry or RetryPolicy()
        self.lease_s = lease_s
        self.batch_size = batch_size
        self.record_every = max(1, record_every)
        self._delivered: list[tuple[int, dict[str, Any]]] = []
        self.owner = _owner()
        self._rng = rng or random.Random()
        self._sleep = sleep
        self.stopping = False

    def dispatch_once(self) -> DispatchStats:
        """Claim one batch of due messages and deliver each; raises StoreError on a claim."""
        stats = DispatchStats()
        claimed = self.store.claim(self.owner, limit=self.batch_size, lease_s=self.lease_s)
        stats.claimed = len(claimed)
        for item in claimed:
            if self.stopping:
                break  # the lease runs out and another run sends it
            self._deliver(item, stats)
        self._record_deliveries(stats)
        return stats

    def _deliver(self, item: ClaimedMessage, stats: DispatchStats) -> None:
        message = item.message
        channel = self.channels.get(message.channel)
        try:
            if channel is None:
                raise DeliveryError(
                    f"channel {message.channel!r} is not configured; declare it under channels "
                    "in the policy file",
                    transient=False,
                )
            receipt = channel.send(message)
        except DeliveryError as exc:
            self._failed(item, str(exc), exc.transient, stats)
            return
        except Exception as exc:  # an unexpected channel bug is retried, not fatal
            self._failed(item, f"unexpected error: {exc!r}", True, stats)
            return
        self._delivered.append((item.outbox_id, receipt.detail))
        stats.delivered += 1
        stats.by_channel[message.channel] = stats.by_channel.get(message.channel, 0) + 1
        if len(self._delivered) >= self.record_every:
            self._record_deliveries(stats)

    def _record_deliveries(self, stats: DispatchStats) -> None:
        if not self._delivered:
            return
        done, self._delivered = self._delivered, []
        self._persist(lambda: self.store.mark_delivered_many(done) >= 0, stats)

    def _failed(
        self, item: ClaimedMessage, error: str, transient: bool, stats: DispatchStats
    ) -> None:
        attempt = item.message.attempt
        retry_at: datetime | None = None
        if transient and attempt < self.retry.max_attempts:
            retry_at = utcnow() + timedelta(seconds=self.retry.delay(attempt, self._rng))
            stats.retried += 1
        else:
            stats.dead += 1
        log.warning(
            "delivery of %s failed (attempt %d): %s", item.message.idempotency_key, attempt, error
        )
        self._persist(
            lambda: self.store.mark_failed(item.outbox_id, error, retry_at=retry_at), stats
        )

    def _persist(self, write: Callable[[], bool], stats: DispatchStats) -> None:
        """Run a result write until the database takes it (or the worker is stopping)."""
        attempt = 0
        while True:
            try:
                write()
                return
            except StoreError as exc:
                attempt += 1
                stats.store_errors += 1
                if self.stopping:
                    return
                log.warning("state store unavailable (%s); retrying", exc)
                self._sleep(self.retry.delay(min(attempt, 6), self._rng))

    def run(
        self, *, drain: bool = False, drain_wait_s: float = 60.0, poll_s: float = 1.0
    ) -> DispatchStats:
        """Dispatch until stopped; with ``drain``, until nothing is due within ``drain_wait_s``.

        Parameters
        ----------
        drain : bool, optional
            Return once the outbox has no pending message due in the next ``drain_wait_s``.
        drain_wait_s : float, optional
            How far ahead a drain waits for scheduled retries and quiet hours.
        poll_s : float, optional
            Pause between empty claims.

        Returns
        -------
        DispatchStats
            Totals of the run.
        """
        totals = DispatchStats()
        failures = 0
        while not self.stopping:
            try:
                stats = self.dispatch_once()
                failures = 0
            except StoreError as exc:
                failures += 1
                totals.store_errors += 1
                log.warning("claim failed (%s); retrying", exc)
                self._sleep(self.retry.delay(min(failures, 6), self._rng))
                continue
            totals.add(stats)
            if stats.claimed:
                continue
            if drain and self._drained(drain_wait_s):
                break
            self._sleep(poll_s)
        return totals

    def _drained(self, wait_s: float) -> bool:
        try:
            due = self.store.next_due()
        except StoreError:
            return False
        return due is None or due > utcnow() + timedelta(seconds=wait_s)

    def close(self) -> None:
        """Close every channel."""
        for channel in self.channels.values():
            channel.close()


def worker_from_settings(
    store: ActionStore, settings: Settings, *, channels: Mapping[str, Channel] | None = None
) -> Worker:
    """A worker over the channels the policy file declares (or the given ones)."""
    if channels is None:
        from cximpact.actions.channels import build_channel
        from cximpact.actions.policies import load_policies

        rules = load_policies(settings.actions_policies_file)
        secret = settings.actions_webhook_secret
        channels = {
            name: build_channel(name, config, secret.get_secret_value() if secret else None)
            for name, config in rules.channels.items()
        }
    retry = RetryPolicy(
        max_attempts=settings.actions_max_attempts,
        base_s=settings.actions_backoff_base_s,
        cap_s=settings.actions_backoff_cap_s,
    )
    return Worker(store, channels, retry=retry, lease_s=settings.actions_lease_s)
