"""Case lifecycle rules that sit above the store: materiality, staleness, escalation, listing.

* An issue is *material* when its revenue at risk reaches ``case_threshold_amount`` and/or its
  share of all exposure reaches ``case_threshold_share`` (``case_threshold_mode`` ``all`` or
  ``any``), or when monitoring saw a recent spike or change point on it.
* An open case whose issue is no longer material is kept, flagged ``below_threshold_since`` (the
  first day a refresh found it below), never silently left as if nothing changed; it is cleared
  when the issue crosses the threshold again.
* An open case past its due date is escalated once to the owner's manager (routing file),
  audited as ``escalate``; moving the due date (``cases edit``) re-arms the escalation.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from cximpact.cases.routing import Routing
from cximpact.errors import ConfigError
from cximpact.store.state import AuditRecord, CaseRecord, StateStore

__all__ = [
    "LISTING_FIELDS",
    "case_listing",
    "change_date",
    "escalate_overdue",
    "material_issues",
    "recent_evidence",
]

LISTING_FIELDS = (
    "id",
    "issue",
    "state",
    "severity",
    "team",
    "owner",
    "due",
    "overdue",
    "escalated_to",
    "stale",
    "below_threshold_since",
    "customers",
    "aggregate_ltv",
    "revenue_at_risk",
    "cost_of_inaction",
    "cost_of_intervention",
    "recommended_response",
    "measurement_plan",
    "verdict",
)


def material_issues(
    issues: pd.DataFrame, *, amount: float, share: float, mode: str = "all"
) -> pd.Series:
    """Boolean mask of the issues that deserve a case.

    Parameters
    ----------
    issues : DataFrame
        Ranked issues with ``revenue_at_risk`` (currency) and ``share_of_exposure`` (0..1).
    amount, share : float
        The two thresholds.
    mode : {"all", "any"}
        ``all``: both must be reached; ``any``: either one (a threshold of 0 is ignored, and
        with both at 0 every issue is material).
    """
    by_amount = issues["revenue_at_risk"] >= amount
    by_share = issues["share_of_exposure"] >= share
    if mode == "all":
        return by_amount & by_share
    if mode != "any":
        raise ConfigError(f"case_threshold_mode must be 'all' or 'any'; got {mode!r}")
    active = [rule for rule, threshold in ((by_amount, amount), (by_share, share)) if threshold > 0]
    if not active:
        return pd.Series(True, index=issues.index)
    return active[0] | active[1] if len(active) == 2 else active[0]


def recent_evidence(
    detections: pd.DataFrame, as_of: pd.Timestamp, recent_days: int
) -> dict[str, dict[str, Any]]:
    """Per root cause, the detections of the last ``recent_days`` days as case evidence."""
    if detections.empty:
        return {}
    since = (as_of - pd.Timedelta(days=recent_days)).date().isoformat()
    recent = detections[detections["date"] >= since]
    return {
        str(issue): {
            "detections": [
                {str(k): v for k, v in row.items() if k != "root_cause"}
                for row in rows.to_dict(orient="records")
            ]
        }
        for issue, rows in recent.groupby("root_cause")
    }


def rising(evidence: dict[str, dict[str, Any]]) -> set[str]:
    """Root causes with at least one upward detection (spikes, or change points going up).

    Downward change points are kept as evidence on a case but never make an issue material:
    an issue that is getting better must not open a case or clear its below-threshold flag.
    """
    return {
        issue
        for issue, found in evidence.items()
        if any(d.get("direction", "up") != "down" for d in found["detections"])
    }


def escalate_overdue(
    state: StateStore, routing: Routing, today: date, *, actor: str = "cximpact"
) -> list[CaseRecord]:
    """Escalate every open case past its due date that was not escalated yet (audited)."""
    escalated = []
    for case in state.list_cases(include_terminal=False):
        if case.overdue(today) and case.escalated_to is None:
            escalated.append(state.escalate(case.id, routing.manager_of(case.owner), actor=actor))
    return escalated


def case_listing(case: CaseRecord, today: date) -> dict[str, Any]:
    """One case as ``cximpact cases --json`` shows it: :data:`LISTING_FIELDS` plus dates."""
    record = case.to_dict()
    record["overdue"] = case.overdue(today)
    record["stale"] = case.stale
    out = {key: record[key] for key in LISTING_FIELDS}
    out["opened_at"] = record["opened_at"]
    out["evidence"] = record["evidence"]
    return out


def change_date(audit: list[AuditRecord], fallback: pd.Timestamp) -> pd.Timestamp:
    """When the response took effect: the first move to ``fix_deployed``, else ``fallback``."""
    for entry in audit:
        if entry.action == "transition" and (entry.after or {}).get("state") == "fix_deployed":
            return pd.Timestamp(entry.at).tz_convert(None)
    return fallback
