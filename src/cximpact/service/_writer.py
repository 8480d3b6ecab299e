"""The live service's cleaner and writer threads: rounds of requests cleaned, then written.

The **cleaner** takes every waiting request at once (group commit), splits them into rounds
whose keys do not overlap, and has the worker process validate and redact each round and
compute the keyword signals of its accepted interactions
(:class:`~cximpact.service._worker.LiveWorker`); the **writer** compares each cleaned round
with the store (:func:`~cximpact.service.batching.finish_group`), hands the new or changed
interactions to the scorer, and *then* writes them in one transaction
(:func:`~cximpact.service.batching.write_group`), while the worker cleans the next round.
:class:`cximpact.service.live.Ingestor` mixes it in and owns the state it reads.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cximpact.errors import CximpactError, StoreError
from cximpact.ingest.contracts import get_contract
from cximpact.ingest.pipeline import IngestReport
from cximpact.ingest.validate import check_columns
from cximpact.service._rows import isin
from cximpact.service._worker import Cleaned, LiveWorker
from cximpact.service.batching import (
    PreparedGroup,
    finish_group,
    prepare_frames,
    rounds,
    write_group,
)
from cximpact.settings import Settings
from cximpact.store.analytics import AnalyticsStore

__all__ = ["Job", "RoundWriter", "Stored", "as_cximpact"]

log = logging.getLogger(__name__)
_MAX_GROUP = 256  # requests in one group commit


@dataclass
class Job:
    kind: str
    frame: pd.DataFrame | None
    source: str
    actor: str
    future: Future[Any] = field(default_factory=Future)


@dataclass
class Round:
    """One round of a group: its requests with their reports, the rows to score, and the
    write, which resolves (to ``None`` or the error) once the transaction ended."""

    done: list[tuple[Job, IngestReport]]
    changed: pd.DataFrame | None
    signals: Future[pd.DataFrame] | None = None
    durable: Future[None] = field(default_factory=Future)

    def failure(self) -> BaseException | None:
        """Wait for the write; the error it raised, if any."""
        return self.durable.exception()


@dataclass
class CleanedRound:
    """One round on its way from the cleaner to the writer (or a refit, ``kind`` "refit")."""

    kind: str
    source: str
    jobs: list[Job]
    frames: list[pd.DataFrame]
    cleaned: Cleaned | None = None
    """The worker's cleaning and signals; None: the writer cleans the round."""
    written: threading.Event = field(default_factory=threading.Event)


@dataclass
class Stored:
    """What the writer hands the scorer: rounds prepared (and being written) in order."""

    rounds: list[Round]


class RoundWriter:
    """The cleaner's and the writer's part of the ingestor (a mixin: the ingestor sets these
    attributes and runs the batch refit)."""

    settings: Settings
    store: AnalyticsStore
    _worker: LiveWorker
    _jobs: queue.Queue[Job | None]
    _cleaned: queue.Queue[CleanedRound | None]
    _stored: queue.Queue[Any]
    _signal_jobs: queue.Queue[tuple[pd.DataFrame, Future[pd.DataFrame]] | None]
    _known: pd.Index | None
    _known_version: int
    _keys: dict[str, set[str]]
    _batches: int
    _last_batch_ms: float

    def _refit(self, job: Job) -> Any:
        raise NotImplementedError

    # -- the cleaner thread -------------------------------------------------------------------

    def _clean_loop(self) -> None:
        try:
            while (jobs := drain(self._jobs)) is not None:
                self._clean(jobs)
        finally:
            self._cleaned.put(None)

    def _clean(self, jobs: list[Job]) -> None:
        """Split every waiting request into rounds (grouped by kind and source, keys never
        overlapping in a round), have the worker clean each, and queue them for the writer:
        the worker cleans the next round while the writer writes the last one. A customers
        round is cleaned by the writer, and later rounds wait until it is written (their
        customer references are checked against it); refits follow in order."""
        groups: dict[tuple[str, str], list[Job]] = {}
        for job in (j for j in jobs if j.kind != "refit"):
            groups.setdefault((job.kind, job.source), []).append(job)
        for (kind, source), members in groups.items():
            ready = [job for job in members if columns_ok(job)]
            frames = [job.frame for job in ready if job.frame is not None]
            for round_ in rounds(frames, kind, self.settings.phone_region):
                item = CleanedRound(
                    kind, source, [ready[i] for i in round_], [frames[i] for i in round_]
                )
                refers = get_contract(kind).customer_ref is not None
                known = self._known  # kept by the writer; None after a failed read: it reads
                if (
                    self._worker.processes
                    and kind != "customers"
                    and not (refers and known is None)
                ):
                    try:
                        versioned = (self._known_version, known) if known is not None else None
                        item.cleaned = self._worker.clean(kind, item.frames, source, versioned)
                    except Exception as exc:
                        for job in item.jobs:
                            job.future.set_exception(as_cximpact(exc))
                        continue
                self._cleaned.put(item)
                if kind == "customers":
                    item.written.wait()
        for job in (j for j in jobs if j.kind == "refit"):
            self._cleaned.put(CleanedRound("refit", "refit", [job], []))

    # -- the writer thread --------------------------------------------------------------------

    def _write_loop(self) -> None:
        try:
            while (item := self._cleaned.get()) is not None:
                started = time.perf_counter()
                try:
                    self._write(item)
                finally:
                    item.written.set()
                self._batches += 1
                self._last_batch_ms = (time.perf_counter() - started) * 1000
        finally:
            self._stored.put(None)

    def _write(self, item: CleanedRound) -> None:
        if item.kind == "refit":
            try:
                self._stored.put(self._refit(item.jobs[0]))
            except Exception as exc:
                item.jobs[0].future.set_exception(as_cximpact(exc))
            return
        try:
            self._store_round(item)
        except Exception as exc:  # every waiting request gets the error, the thread lives
            for job in item.jobs:
                if not job.future.done():
                    job.future.set_exception(as_cximpact(exc))

    def _store_round(self, cleaned: CleanedRound) -> None:
        """Compare a round with the store and write it; it goes to the scorer before its
        write starts."""
        kind, batch = cleaned.kind, cleaned.jobs
        try:
            prepared, signals = self._prepare(kind, cleaned.frames, cleaned.source, cleaned.cleaned)
        except Exception as exc:
            for job in batch:
                job.future.set_exception(as_cximpact(exc))
            return
        result = prepared.result
        live = kind == "interactions" and len(result.changed)
        item = Round(list(zip(batch, result.reports, strict=True)), None)
        if live:
            item.changed = result.changed
            item.signals = Future()
            if signals is not None:
                item.signals.set_result(signals)
            else:
                self._signal_jobs.put((result.changed, item.signals))
        self._stored.put(Stored([item]))  # scored while it is written
        try:
            write_group(self.store, prepared)
        except Exception as exc:
            item.durable.set_exception(as_cximpact(exc))
            return
        except BaseException as exc:  # the scorer must not wait for it forever
            item.durable.set_exception(exc)
            self._keys.pop(kind, None)  # rebuilt from the store on next use
            raise
        finally:
            if kind == "customers":  # read again now, before the cleaner goes on
                self._known = None
                self._known_customers(kind="interactions")
        self._keys[kind] |= prepared.new  # committed: the store holds them now
        item.durable.set_result(None)

    def _prepare(
        self, kind: str, frames: list[pd.DataFrame], source: str, cleaned: Cleaned | None
    ) -> tuple[PreparedGroup, pd.DataFrame | None]:
        """Clean a round and compare it with the store, and the keyword signals of its new or
        changed interactions when the worker computed them (else None: the signals thread
        computes them while the round is written).

        ``cleaned``: the round as the worker cleaned it (validation, redaction, and the signals
        of every accepted interaction, in one round trip); here remain the comparison with the
        store and the choice of the changed rows' signals. Without it the round is cleaned here.
        """
        known = self._known_customers(kind)
        stored = self._stored_keys(kind)
        if cleaned is None:
            prepared = prepare_frames(
                self.store,
                kind,
                frames,
                self.settings,
                source=source,
                known_customers=known,
                stored_keys=stored,
            )
            return prepared, None
        prepared = finish_group(self.store, cleaned.group, stored_keys=stored)
        if cleaned.signals is None:
            return prepared, None
        accepted_keys = cleaned.group.accepted[get_contract(kind).key].astype(str)
        changed = isin(accepted_keys, prepared.new | prepared.differs)
        return prepared, cleaned.signals[changed].reset_index(drop=True)

    def _stored_keys(self, kind: str) -> set[str]:
        """Every key the store holds for ``kind``: read from the store once (at the first
        batch after a start), then kept by the writer as it commits, so comparing a batch
        with the store costs O(batch), not a scan of the table."""
        if kind not in self._keys:
            self._keys[kind] = {str(k) for k in self.store.known_keys(kind).tolist()}
        return self._keys[kind]

    def _known_customers(self, kind: str) -> pd.Index | None:
        """Customer ids in the store, cached between groups (only the writer changes them);
        an Index, so validation looks them up without building one per batch."""
        if get_contract(kind).customer_ref is None:
            return None
        if self._known is None:
            keys = self.store.known_keys("customers").to_numpy(dtype=object)
            self._known = pd.Index(pd.unique(keys), dtype=object)
            self._known_version += 1  # the worker is sent them again
        return self._known


def drain(jobs: queue.Queue[Job | None]) -> list[Job] | None:
    """Block for one job, then take every job already waiting (group commit); None to stop."""
    first = jobs.get()
    if first is None:
        return None
    taken = [first]
    while len(taken) < _MAX_GROUP:
        try:
            more = jobs.get_nowait()
        except queue.Empty:
            break
        if more is None:
            jobs.put(None)  # stop after this group
            break
        taken.append(more)
    return taken


def columns_ok(job: Job) -> bool:
    assert job.frame is not None
    try:
        check_columns(job.frame, get_contract(job.kind), job.source)
    except CximpactError as exc:
        job.future.set_exception(exc)
        return False
    return True


def as_cximpact(exc: Exception) -> Exception:
    """Errors we raise on purpose pass through; anything else is logged and named a store error."""
    if isinstance(exc, CximpactError):
        return exc
    log.exception("writer failed")
    return StoreError(f"the writer failed: {type(exc).__name__}: {exc}; see the server log")
