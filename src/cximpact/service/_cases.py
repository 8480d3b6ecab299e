"""The live service's case thread: open and refresh the cases of issues the scorer marked.

Off the answer path: the scorer marks issues (:meth:`CaseRefresher._mark_cases`), this thread
writes their cases at most every 0.2 s, refreshing an open case only when its issue's exposure
moved by more than 5%, at most once a second per case. :class:`cximpact.service.live.Ingestor`
mixes it in and owns the state it reads.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import date
from typing import Any

from cximpact.exposure.issues import ExposureResult
from cximpact.flow import case_fields, material_issues_of
from cximpact.service._rows import isin
from cximpact.service.scoring import LiveScorer, LiveView
from cximpact.settings import Settings
from cximpact.store.state import StateStore

__all__ = ["CASE_REFRESH_SECONDS", "CaseRefresher"]

log = logging.getLogger(__name__)

_CASE_REFRESH_CHANGE = 0.05  # refresh an open case when its issue's exposure moved this much
CASE_REFRESH_SECONDS = 1.0  # ...but not more often than this
_CASE_GAP_SECONDS = 0.2  # the case thread flushes at most this often (off the visible path)


class CaseRefresher:
    """The case thread's part of the ingestor (a mixin: the ingestor sets these attributes)."""

    settings: Settings
    state: StateStore
    view: LiveView
    scorer: LiveScorer | None
    _dirty: set[str]
    _dirty_lock: threading.Lock
    _refreshed: dict[str, float]
    _wake: threading.Event
    _done: threading.Event

    def _case_loop(self) -> None:
        """Open and refresh cases of the issues the scorer marked, off the visible path: woken
        after each publish, at most every 0.2 s, and once a second for refreshes held back."""
        while not self._done.is_set():
            self._wake.wait(timeout=CASE_REFRESH_SECONDS)
            self._wake.clear()
            self._idle()
            self._done.wait(_CASE_GAP_SECONDS)
        self._idle()  # what the last batches marked

    def _idle(self) -> None:
        try:
            self._flush_cases()
        except Exception:  # the next tick retries; the case thread must live
            log.exception("refreshing cases failed")

    def _mark_cases(self, after: LiveView) -> None:
        """Mark the material issues the last step touched (:meth:`_flush_cases` writes).

        Under a strategy preset every touched issue is marked: its materiality needs the
        preset's priority over all issues, which the case thread works out off the answer path.
        """
        marked = set(after.touched)
        if self.settings.strategy_preset == "balanced":
            issues = after.issues[isin(after.issues["issue"], after.touched)]
            marked = set(material_issues_of(issues, self.settings)["issue"])
        with self._dirty_lock:
            self._dirty |= {str(i) for i in marked}

    def _flush_cases(self) -> None:
        """Open a case for a material issue without one at once; refresh an open case when its
        issue's exposure moved by more than 5%, at most once a second per case."""
        if self.scorer is None:
            return
        with self._dirty_lock:  # take them all; what is held back goes back
            dirty, self._dirty = sorted(self._dirty), set()
        if dirty and self.settings.strategy_preset != "balanced":
            dirty = sorted(set(dirty) & self._material_under_preset())
        if not dirty:
            return
        open_now = {c.issue: c for c in self.state.list_cases(include_terminal=False)}
        issues = self.view.issues
        amounts = dict(
            zip(issues["issue"].astype(str), issues["revenue_at_risk"].astype(float), strict=True)
        )
        now = time.monotonic()
        held: set[str] = set()
        try:
            self._write_cases(dirty, open_now, amounts, now, held)
        except Exception:
            held |= set(dirty)  # retried on the next tick
            raise
        finally:
            with self._dirty_lock:
                self._dirty |= held

    def _material_under_preset(self) -> set[str]:
        """Issues material under the strategy preset, on the live view (as ``cximpact run``)."""
        assert self.scorer is not None
        view = self.view
        analysis = replace(
            self.scorer.analysis,
            signals=view.signals,
            exposure=ExposureResult(view.issues, view.customers, view.risk),
        )
        return {str(i) for i in material_issues_of(view.issues, self.settings, analysis)["issue"]}

    def _write_cases(
        self,
        dirty: list[str],
        open_now: dict[str, Any],
        amounts: dict[str, float],
        now: float,
        held: set[str],
    ) -> None:
        """Write the cases of ``dirty`` issues; add to ``held`` those refreshed too recently."""
        for name in dirty:  # a handful of issues, not rows
            case = open_now.get(name)
            if name in amounts and case is not None:
                moved = abs(amounts[name] - case.revenue_at_risk)
                if moved > _CASE_REFRESH_CHANGE * max(case.revenue_at_risk, 1.0):
                    if now - self._refreshed.get(name, -1e9) < CASE_REFRESH_SECONDS:
                        held.add(name)  # stays dirty; the next tick writes it
                        continue
                    self._write_case(name, refresh=True)
                    self._refreshed[name] = now
            elif name in amounts:
                self._write_case(name, refresh=False)
                self._refreshed[name] = now

    def _write_case(self, name: str, *, refresh: bool) -> None:
        assert self.scorer is not None
        view = self.view
        fields = case_fields(
            view.issues[view.issues["issue"] == name].iloc[0],
            view.customers[view.customers["issue"] == name],
            self.scorer.analysis,
            self.settings,
            date.today(),
            routing=self.scorer.routing,
            playbook=self.scorer.playbook,
        )
        if refresh:  # fixed when the case opened
            fields.pop("due")
            fields.pop("measurement_plan")
        fields["below_threshold_since"] = None  # only material issues are written here
        self.state.upsert_case(name, fields, actor="system:live")
