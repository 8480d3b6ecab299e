"""The live path's pure work on a worker process: validation, redaction and keyword signals.

Two steps of the live path need no store: cleaning a round of requests (pseudonymised keys,
row validation with quarantine, PII redaction: :func:`~cximpact.service.batching.clean_frames`)
and the keyword signals of the accepted interactions (root cause, sentiment, competitors,
escalation and churn language: :func:`~cximpact.service.scoring.interaction_signals`). They
were most of the server's CPU: in the server process they competed for the GIL with the
scorer and the HTTP handlers, and at 1,000 interactions/s the keyword-signals thread alone was
busy 97% of the time (125 ms of wall time per 100 interactions for ~45 ms of CPU). On a worker
process they run on the other core with their own interpreter, in one round trip per round,
and the server's threads keep the GIL for what needs the store (``docs/service.md``).

The worker is started with ``spawn`` (never ``fork``: the server's threads hold locks of
DuckDB, pyarrow and the logging module). It keeps the store's customer ids, sent again only
when they change (customers ingested) or to a new worker. If it dies, the round in hand and
the rounds until a new worker has started are done on the calling thread, so a lost worker
costs latency, never an answer; after :data:`MAX_RESTARTS` deaths in a row without a round
done in between, the work stays in the server process. A worker ignores Ctrl-C (the server
stops it) and ends by itself within a second when its server was killed. With
``service_worker_processes = 0`` everything runs in the server process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

from cximpact.service.batching import CleanedGroup, clean_frames
from cximpact.service.scoring import interaction_signals
from cximpact.settings import Settings
from cximpact.signals.keywords import KeywordSignals, load_taxonomy

__all__ = ["Cleaned", "LiveWorker"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How long the service waits at start for the worker to import and fit the taxonomy.
WORKER_START_SECONDS = 120.0

#: Worker deaths in a row (no round done in between) after which the work stays in-process.
MAX_RESTARTS = 3

#: How often a worker checks that the server process that started it still runs.
PARENT_CHECK_SECONDS = 1.0

#: Interaction columns the signals read (the rest of a stored row is not sent to the worker).
COLUMNS = ("id", "customer_id", "timestamp", "channel", "text", "handling_cost")


@dataclass(frozen=True)
class Cleaned:
    """A cleaned round and, for interactions, the keyword signals of its accepted rows."""

    group: CleanedGroup
    signals: pd.DataFrame | None


@dataclass
class _State:
    """A process's own copy of what the work needs (the worker's, or the server's)."""

    settings: Settings
    keywords: KeywordSignals
    known_version: int = -1
    known: pd.Index | None = None

    @classmethod
    def of(cls, settings: Settings) -> _State:
        return cls(settings, KeywordSignals(load_taxonomy(settings.taxonomy_file)).fit())

    def signals(self, interactions: pd.DataFrame) -> pd.DataFrame:
        return interaction_signals(self.keywords, interactions, self.settings.handling_cost)

    def clean(
        self, kind: str, frames: list[pd.DataFrame], source: str, known: pd.Index | None
    ) -> Cleaned:
        group = clean_frames(kind, frames, self.settings, source=source, known_customers=known)
        rows = group.accepted
        live = kind == "interactions" and len(rows)
        return Cleaned(group, self.signals(rows[list(COLUMNS)]) if live else None)


_state: _State | None = None  # the worker process's


def _start_worker(settings: Settings) -> None:
    """Initialise a worker process: fit the taxonomy once, and end with the server."""
    global _state
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group: the server stops us
    _state = _State.of(settings)
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()


def _exit_with(parent: int) -> None:
    """End this process once ``parent`` is gone (killed: it could not stop its workers)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _worker_clean(
    kind: str, frames: list[pd.DataFrame], source: str, version: int, known: pd.Index | None
) -> Cleaned:
    assert _state is not None, "the worker was not initialised"
    if known is not None:
        _state.known_version, _state.known = version, known
    if version >= 0 and version != _state.known_version:  # the server's bookkeeping failed
        raise RuntimeError(f"the worker holds customer ids {_state.known_version}, not {version}")
    return _state.clean(kind, frames, source, _state.known if version >= 0 else None)


class LiveWorker:
    """Cleaning and keyword signals of the live path, on ``processes`` workers or in-process.

    Parameters
    ----------
    settings : Settings
        Limits, PII region, taxonomy and handling cost; ``service_worker_processes``: 1 for a
        worker process, 0 to compute on the calling thread.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes = settings.service_worker_processes
        self._local = _State.of(settings)
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future[int] | None = None
        self._sent = -1  # the customer-id version the worker holds
        self._restarts = 0  # worker deaths since the last round it did

    @property
    def remote(self) -> bool:
        """Whether a worker process does the work (else the calling thread)."""
        return self._pool is not None

    def start(self) -> None:
        """Start the worker processes (they fit the taxonomy while the service starts)."""
        if self.processes > 0 and self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.settings,),
            )
            self._sent = -1
            self._ready = self._pool.submit(int)  # start the worker now, not with a batch

    def wait_ready(self, timeout: float = WORKER_START_SECONDS) -> None:
        """Wait until the worker has started; if it cannot, compute in-process from now on."""
        if self._pool is None or self._ready is None:
            return
        try:
            self._ready.result(timeout=timeout)
        except Exception:
            log.exception("the live worker did not start; cleaning and signals run in-process")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._ready = None

    def signals(self, interactions: pd.DataFrame) -> pd.DataFrame:
        """Keyword signals of ``interactions`` (:func:`interaction_signals`), row for row, in
        this process (with a worker, :meth:`clean` returns them instead)."""
        return self._local.signals(interactions[list(COLUMNS)])

    def clean(
        self,
        kind: str,
        frames: list[pd.DataFrame],
        source: str,
        known: tuple[int, pd.Index] | None,
    ) -> Cleaned:
        """:func:`~cximpact.service.batching.clean_frames` of a round, with the signals of its
        accepted interactions; ``known`` is the store's customer ids and their version."""

        def remote(pool: ProcessPoolExecutor) -> Cleaned:
            version, ids = known if known is not None else (-1, None)
            send = ids if version != self._sent else None
            cleaned: Cleaned = pool.submit(
                _worker_clean, kind, frames, source, version, send
            ).result()
            if version >= 0:
                self._sent = version
            return cleaned

        def local() -> Cleaned:
            return self._local.clean(kind, frames, source, known[1] if known else None)

        return self._run(remote, local)

    def _run(self, remote: Callable[[ProcessPoolExecutor], T], local: Callable[[], T]) -> T:
        """``remote(pool)`` on the worker; ``local()`` when there is none, it died, or a new
        one is still starting."""
        if self._ready is not None and self._ready.done():
            self.wait_ready()  # started, or given up
        if self._pool is not None and self._ready is None:
            try:
                answer = remote(self._pool)
            except BrokenProcessPool:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                self._restarts += 1
                if self._restarts <= MAX_RESTARTS:
                    log.warning("the live worker died; starting a new one")
                    self.start()
                else:
                    log.error(
                        "the live worker died %d times in a row; working in-process", self._restarts
                    )
            else:
                self._restarts = 0
                return answer
        return local()

    def stop(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
