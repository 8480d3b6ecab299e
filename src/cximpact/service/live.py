"""The live path: one writer stores, one scorer publishes, requests answer when visible.

DuckDB allows one writer, so every write of the service (ingest from the API or from NATS, and
the batch refit) goes through one :class:`Ingestor`. It runs a pipeline of threads:

* the **cleaner** takes every waiting request at once (group commit), splits them into rounds
  and has each validated and redacted (the steps of the CLI's
  :func:`~cximpact.ingest.pipeline.ingest_frame`) with the keyword signals of its accepted
  interactions, on the **worker process** (:class:`~cximpact.service._worker.LiveWorker`, off
  the server's GIL), while the writer writes the round before;
* the **writer** compares each cleaned round with the store
  (:func:`~cximpact.service.batching.finish_group`), hands the new or changed interactions to
  the scorer, and *then* writes them in one transaction
  (:func:`~cximpact.service.batching.write_group`); it also runs the batch refit (both in
  :mod:`cximpact.service._writer`);
* the **scorer** scores the new or changed interactions against the models fitted by the last
  batch ``analyse`` (:class:`~cximpact.service.scoring.LiveScorer`) while the writer writes
  them, waits until the write is durable, publishes a new immutable
  :class:`~cximpact.service.scoring.LiveView` (readers pick it up without locks), audits,
  answers the requests;
* without a worker (``service_worker_processes = 0``) the writer cleans each round and the
  **signals** thread computes its signals while it is written;
* the **cases** thread opens or refreshes the cases of the issues that moved, off the path
  that answers requests.

**Visible implies durable**: a view is published only after the transaction holding its
interactions committed, and a request is answered only once that view is published, so an
acknowledged (HTTP 200, NATS ack) interaction is both stored and visible. A write that fails is
never published: its requests get the error, and the other rounds of the batch are rescored
without it. Cleaning overlaps the previous write, and scoring overlaps the write (DuckDB
releases the GIL), so the latency of a request is about cleaning + max(write, scoring). What
is incremental and what needs a batch refit is listed in ``docs/service.md``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from cximpact.errors import StoreError
from cximpact.flow import analyse, open_cases
from cximpact.ingest.contracts import get_contract
from cximpact.ingest.pipeline import IngestReport
from cximpact.service._cases import CASE_REFRESH_SECONDS, CaseRefresher
from cximpact.service._worker import LiveWorker
from cximpact.service._writer import (
    CleanedRound,
    Job,
    Round,
    RoundWriter,
    Stored,
    as_cximpact,
)
from cximpact.service.scoring import LiveScorer, LiveView, find_interaction
from cximpact.settings import Settings
from cximpact.store.analytics import DERIVED_TABLES, AnalyticsStore
from cximpact.store.state import StateStore

__all__ = [
    "AuditRow",
    "IngestOutcome",
    "Ingestor",
    "LiveScorer",
    "LiveView",
    "find_interaction",
    "records_frame",
]

log = logging.getLogger(__name__)
AuditRow = tuple[str, str, str, int, dict[str, Any]]
"""One audit entry: actor, action, entity, entity id, what the write produced."""


@dataclass(frozen=True)
class IngestOutcome:
    """What one request's records became: the ingest report plus how many were scored live."""

    report: IngestReport
    scored: int
    view_version: int

    def to_dict(self) -> dict[str, Any]:
        """Return the report's counts, ``scored`` and the snapshot version that shows them."""
        return self.report.to_dict() | {"scored": self.scored, "view_version": self.view_version}


def records_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """JSON records as an ingest frame: every value a string, missing values ``None``.

    Parameters
    ----------
    records : list of dict
        Field name to JSON scalar (strings, numbers, booleans or null).

    Returns
    -------
    pandas.DataFrame
        One row per record, a column per field (in first-seen order), as the file readers
        produce them. Built column by column from Python lists: a request costs a few
        hundred microseconds, not a DataFrame conversion per value.
    """
    names = dict.fromkeys(name for record in records for name in record)
    return pd.DataFrame({name: [_text(r.get(name)) for r in records] for name in names})


def _text(value: Any) -> str | None:
    """A JSON scalar as the string a file would hold (``None`` for null and NaN)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class _Install:
    """A refit's result, installed by the scorer in order with the batches before it."""

    job: Job
    scorer: LiveScorer
    summary: dict[str, Any]


class Ingestor(CaseRefresher, RoundWriter):
    """The single writer of the analytics store, and the holder of the current view.

    Parameters
    ----------
    settings : Settings
        Store locations and ingest limits.
    state : StateStore
        The transactional store: cases and the audit log.
    audit : callable, optional
        ``audit(rows)`` with rows ``(actor, action, entity, entity_id, after)``; every write is
        recorded through it, one transaction per batch.
    """

    def __init__(
        self,
        settings: Settings,
        state: StateStore,
        audit: Callable[[list[AuditRow]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.state = state
        self.audit = audit
        self.store = AnalyticsStore(settings.db)
        self.view = LiveView.empty()
        self.scorer: LiveScorer | None = None
        #: Stored rows whose scoring failed: scored with the next batch (or the next refit).
        self._unscored: list[pd.DataFrame] = []
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._cleaned: queue.Queue[CleanedRound | None] = queue.Queue()
        self._stored: queue.Queue[Stored | _Install | None] = queue.Queue()
        self._cleaner = threading.Thread(
            target=self._clean_loop, name="cximpact-cleaner", daemon=True
        )
        self._writer = threading.Thread(
            target=self._write_loop, name="cximpact-writer", daemon=True
        )
        self._scoring = threading.Thread(
            target=self._score_loop, name="cximpact-scorer", daemon=True
        )
        self._cases = threading.Thread(target=self._case_loop, name="cximpact-cases", daemon=True)
        # cleaning and keyword signals need no store: on the worker process (or, without one,
        # the signals on their own thread while the rows are written)
        self._worker = LiveWorker(settings)
        self._signal_jobs: queue.Queue[tuple[pd.DataFrame, Future[pd.DataFrame]] | None]
        self._signal_jobs = queue.Queue()
        self._signaller = threading.Thread(
            target=self._signal_loop, name="cximpact-signals", daemon=True
        )
        self._wake = threading.Event()  # the scorer marked issues: flush their cases
        self._done = threading.Event()  # the scorer stopped: flush once more and end
        self._dirty_lock = threading.Lock()
        self._batches = 0
        self._last_batch_ms = 0.0
        self._dirty: set[str] = set()  # material issues whose case may need opening or refreshing
        self._known: pd.Index | None = None  # customer ids in the store (writer thread only)
        self._known_version = 0
        self._keys: dict[str, set[str]] = {}  # every stored key per kind (writer thread only)
        self._refreshed: dict[str, float] = {}

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, *, refit: bool = True) -> None:
        """Start the threads; refit first when the store holds data (and ``refit``)."""
        has_data = self.store.count("interactions") and self.store.count("customers")
        self._worker.start()
        self._known_customers("interactions")  # read here, then kept by the writer
        self._cleaner.start()
        self._writer.start()
        if self._worker.processes == 0:  # else the worker computes the signals
            self._signaller.start()
        self._scoring.start()
        self._cases.start()
        try:
            if refit and has_data:
                self.refit(actor="system:startup")
            self._worker.wait_ready()  # started meanwhile: the first batch does not wait for it
        except BaseException:
            self._worker.stop()  # the app's shutdown never runs when its startup failed
            raise

    @property
    def running(self) -> bool:
        """Whether the writer runs."""
        return self._writer.is_alive()

    def stop(self) -> None:
        """Finish queued work, write the live view's derived tables, close the store."""
        if self._writer.is_alive():
            self._jobs.put(None)
            self._cleaner.join()
            self._writer.join()
            self._scoring.join()
        if self._cases.is_alive():
            self._done.set()
            self._wake.set()
            self._cases.join()
        if self._signaller.is_alive():
            self._signal_jobs.put(None)
            self._signaller.join()
        self._worker.stop()
        try:
            self._persist()
        finally:
            self.store.close()

    # -- requests (any thread) ----------------------------------------------------------------

    def submit(self, kind: str, frame: pd.DataFrame, *, source: str, actor: str) -> Future[Any]:
        """Queue records of ``kind``; the future resolves to an :class:`IngestOutcome`."""
        get_contract(kind)
        job = Job(kind, frame, source, actor)
        self._jobs.put(job)
        return job.future

    def ingest(self, kind: str, frame: pd.DataFrame, *, source: str, actor: str) -> IngestOutcome:
        """Ingest and wait: return once the records are stored, scored and visible."""
        outcome: IngestOutcome = self.submit(kind, frame, source=source, actor=actor).result()
        return outcome

    def refit(self, *, actor: str) -> dict[str, Any]:
        """Run the batch analysis and open or refresh cases; wait for it."""
        job = Job("refit", None, "refit", actor)
        self._jobs.put(job)
        result: dict[str, Any] = job.future.result()
        return result

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read cursor on the analytics store, for one thread's use."""
        cursor = self.store.con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    @property
    def stats(self) -> dict[str, Any]:
        """Batches written since start, the last one's duration (ms), requests waiting."""
        return {
            "batches": self._batches,
            "last_batch_ms": round(self._last_batch_ms, 2),
            "queued": self._jobs.qsize() + self._cleaned.qsize(),
        }

    def _refit(self, job: Job) -> _Install:
        started = time.perf_counter()
        analysis = analyse(self.store, self.settings)
        customers = self.store.read("customers")
        outcomes = self.store.read("outcomes")
        churned_at = pd.to_datetime(outcomes["churn_date"]) <= analysis.as_of
        churned = {str(c) for c in outcomes.loc[churned_at, "customer_id"]}
        cases = open_cases(self.state, analysis, self.settings)
        summary = {
            "as_of": str(analysis.as_of),
            "interactions": len(analysis.signals),
            "customers": len(analysis.values),
            "issues": len(analysis.exposure.issues),
            "risk_source": str(analysis.model.source_),
            "cases_opened": sum(1 for _, created in cases if created),
            "cases_refreshed": sum(1 for _, created in cases if not created),
            "seconds": round(time.perf_counter() - started, 3),
        }
        return _Install(job, LiveScorer(analysis, customers, churned, self.settings), summary)

    # -- the scorer thread --------------------------------------------------------------------

    def _score_loop(self) -> None:
        while True:
            try:
                item = self._stored.get(timeout=CASE_REFRESH_SECONDS)
            except queue.Empty:
                continue
            if item is None:
                return
            items, stop = _merged(item, self._stored)
            for each in items:
                try:
                    self._publish(each)
                except Exception as exc:
                    jobs = (
                        [each.job]
                        if isinstance(each, _Install)
                        else [j for r in each.rounds for j, _ in r.done]
                    )
                    for job in jobs:
                        if not job.future.done():
                            job.future.set_exception(as_cximpact(exc))
            self._wake.set()  # cases follow right after the answers, on their own thread
            if stop:
                return

    def _publish(self, item: Stored | _Install) -> None:
        if isinstance(item, _Install):
            self.scorer = item.scorer
            self.view = item.scorer.first_view(self.view.version + 1)
            self._unscored = []  # the refit read everything stored
            if self.audit is not None:
                self.audit([(item.job.actor, "refit", "analysis", 0, item.summary)])
            item.job.future.set_result(item.summary)
            return
        scored = self._score_or_defer(item.rounds)
        failed = [r for r in item.rounds if r.failure() is not None]  # waits for the writes
        if failed:  # never show what was not stored: rescore without the failed rounds
            for round_ in failed:
                for job, _ in round_.done:
                    job.future.set_exception(round_.failure() or StoreError("write failed"))
            kept = [r for r in item.rounds if r not in failed]
            lost = {id(r.changed) for r in failed}  # never deferred: they were not stored
            self._unscored = [f for f in self._unscored if id(f) not in lost]
            item = Stored(kept)
            scored = self._score_or_defer(kept)
        if scored is not None:
            self.view = scored
            self._mark_cases(scored)
        done = [pair for r in item.rounds for pair in r.done]
        if self.audit is not None:
            self.audit(
                [
                    (job.actor, "ingest", job.kind, 0, _audit_counts(report))
                    for job, report in done
                    if report.inserted or report.updated or report.quarantined
                ]
            )
        for job, report in done:
            live = scored is not None and job.kind == "interactions"
            count = report.inserted + report.updated if live else 0
            job.future.set_result(IngestOutcome(report, count, self.view.version))

    def _score_or_defer(self, rounds_: list[Round]) -> LiveView | None:
        """:meth:`_scored`; when scoring fails, the rows (stored by then, or failed and
        answered as such) wait for the next batch instead of being lost to the view."""
        try:
            scored = self._scored(rounds_)
        except Exception:
            log.exception("scoring failed; the stored rows are scored with the next batch")
            self._unscored += [r.changed for r in rounds_ if r.changed is not None]
            return None
        self._unscored = []
        return scored

    def _scored(self, rounds_: list[Round]) -> LiveView | None:
        """The next view with the rounds' new or changed interactions (and those whose
        scoring failed before); None if none."""
        live = [r for r in rounds_ if r.changed is not None]
        if not (live or self._unscored) or self.scorer is None:
            return None
        new = pd.concat([*self._unscored, *(r.changed for r in live)], ignore_index=True)
        signals = [r.signals.result() for r in live if r.signals is not None]
        last = ~new["id"].duplicated(keep="last").to_numpy()  # a later round's row wins
        if len(signals) < len(live) or self._unscored:
            return self.scorer.score(self.view, new.loc[last])
        fresh = pd.concat(signals, ignore_index=True).loc[last].reset_index(drop=True)
        return self.scorer.score(self.view, new.loc[last], fresh)

    # -- the signals thread -------------------------------------------------------------------

    def _signal_loop(self) -> None:
        """Keyword signals of the rounds being written, every waiting round in one call (the
        regular expressions cost mostly per call, not per row)."""
        while True:
            first = self._signal_jobs.get()
            if first is None:
                return
            jobs = [first]
            while True:
                try:
                    more = self._signal_jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._signal_jobs.put(None)  # stop after these
                    break
                jobs.append(more)
            try:
                frames = [frame for frame, _ in jobs]
                rows = self._worker.signals(pd.concat(frames, ignore_index=True))
                bounds = np.cumsum([0, *[len(frame) for frame in frames]])
                for (_, future), lo, hi in zip(jobs, bounds[:-1], bounds[1:], strict=True):
                    future.set_result(rows.iloc[lo:hi].reset_index(drop=True))
            except Exception as exc:  # the scorer gets the error with the rounds' requests
                for _, future in jobs:
                    future.set_exception(as_cximpact(exc))

    def _persist(self) -> None:
        """Write the live view's derived tables, so a reader of the file sees the live state."""
        view = self.view
        if not view.ready:
            return
        frames = (view.signals, None, view.risk, view.issues, view.customers)
        for name, frame in zip(DERIVED_TABLES, frames, strict=True):
            if frame is not None:
                self.store.replace_table(name, frame)


def _merged(
    first: Stored | _Install, waiting: queue.Queue[Stored | _Install | None]
) -> tuple[list[Stored | _Install], bool]:
    """``first`` and every item already waiting, consecutive stored batches merged into one
    (one scoring pass for all of them); whether the stop signal was among them."""
    items: list[Stored | _Install] = [first]
    stop = False
    while True:
        try:
            more = waiting.get_nowait()
        except queue.Empty:
            break
        if more is None:
            stop = True
            break
        last = items[-1]
        if isinstance(more, Stored) and isinstance(last, Stored):
            items[-1] = Stored(last.rounds + more.rounds)
        else:
            items.append(more)
    return items, stop


def _audit_counts(report: IngestReport) -> dict[str, Any]:
    data = report.to_dict()
    keys = ("kind", "source", "rows_read", "accepted", "quarantined", "inserted", "updated")
    return {k: data[k] for k in keys}
