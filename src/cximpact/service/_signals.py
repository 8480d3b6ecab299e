"""Keyword signals of the live path, computed on a worker process (or on the calling thread).

The keyword signals of a round of new interactions (root cause, sentiment, competitors,
escalation and churn language) depend on the taxonomy only, and are the largest share of the
live path's CPU: about 50 ms per 100 interactions, most of it ~50 pyarrow regular-expression
calls plus the pandas work around them. In the server process those calls compete for the GIL
with the writer and the scorer, and each one hands the GIL over and waits to get it back, so
at 1,000 interactions/s the step took ~125 ms of wall time and was the live path's bottleneck
(its thread busy 97% of the time). On a worker process it runs on the other core with its own
interpreter: ~55 ms, and the server's threads get the GIL back (``docs/service.md``).

The worker is started with ``spawn`` (never ``fork``: the server's threads hold locks of
DuckDB, pyarrow and the logging module). If it dies, the batch in hand and the later ones are
computed on the calling thread while a new worker starts, so a lost worker costs latency,
never an answer; a worker whose server was killed ends by itself within a second.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd

from cximpact.service.scoring import interaction_signals
from cximpact.signals.keywords import KeywordSignals, load_taxonomy

__all__ = ["SignalComputer"]

log = logging.getLogger(__name__)

#: Interaction columns the signals read (the rest of a stored row is not sent to the worker).
COLUMNS = ("id", "customer_id", "timestamp", "channel", "text", "handling_cost")

#: How long the service waits at start for the worker to import and fit the taxonomy.
WORKER_START_SECONDS = 120.0

#: How often a worker checks that the server process that started it still runs.
PARENT_CHECK_SECONDS = 1.0

_worker_keywords: KeywordSignals | None = None  # the worker process's fitted taxonomy


def _start_worker(taxonomy_file: Path | None) -> None:
    """Initialise a worker process: fit the taxonomy once, and end with the server."""
    global _worker_keywords
    _worker_keywords = KeywordSignals(load_taxonomy(taxonomy_file)).fit()
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()


def _exit_with(parent: int) -> None:
    """End this process once ``parent`` is gone (killed: it could not stop its workers)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _worker_signals(interactions: pd.DataFrame, handling_cost: float) -> pd.DataFrame:
    """:func:`interaction_signals` with the worker's taxonomy."""
    assert _worker_keywords is not None, "the worker was not initialised"
    return interaction_signals(_worker_keywords, interactions, handling_cost)


class SignalComputer:
    """Keyword signals of interactions, on ``processes`` worker processes or in-process.

    Parameters
    ----------
    taxonomy_file : Path or None
        The taxonomy (``None``: the built-in one).
    handling_cost : float
        Cost of a contact whose ``handling_cost`` is missing.
    processes : int
        Worker processes (0: compute on the calling thread).
    """

    def __init__(self, taxonomy_file: Path | None, handling_cost: float, processes: int) -> None:
        self.taxonomy_file = taxonomy_file
        self.handling_cost = handling_cost
        self.processes = processes
        self.keywords = KeywordSignals(load_taxonomy(taxonomy_file)).fit()
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future[int] | None = None

    def start(self) -> None:
        """Start the worker processes (they fit the taxonomy while the service starts)."""
        if self.processes > 0 and self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.taxonomy_file,),
            )
            self._ready = self._pool.submit(int)  # start the worker now, not with a batch

    def wait_ready(self, timeout: float = WORKER_START_SECONDS) -> None:
        """Wait until the worker has started; if it cannot, compute in-process from now on."""
        if self._pool is None or self._ready is None:
            return
        try:
            self._ready.result(timeout=timeout)
        except Exception:
            log.exception("the keyword-signal worker did not start; computing them in-process")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._ready = None

    def __call__(self, interactions: pd.DataFrame) -> pd.DataFrame:
        """Keyword signals of ``interactions`` (:func:`interaction_signals`), row for row."""
        if self._pool is not None:
            rows = interactions[list(COLUMNS)]
            try:
                return self._pool.submit(_worker_signals, rows, self.handling_cost).result()
            except BrokenProcessPool:
                log.warning("the keyword-signal worker died; starting a new one")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                self.start()
        return interaction_signals(self.keywords, interactions, self.handling_cost)

    def stop(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
