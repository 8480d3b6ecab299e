"""What the API and the dashboard show, computed from a :class:`~cximpact.service.live.LiveView`.

Pure functions over DataFrames and records: filtering, ranking, paging and hiding what a role
may not see. Routes call one of these and format; nothing here does I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import date
from typing import Any

import pandas as pd

from cximpact.errors import NotFoundError
from cximpact.service.auth import Principal, mask_identifier
from cximpact.service.live import LiveView

__all__ = [
    "ISSUE_FIELDS",
    "customer_detail",
    "customer_rows",
    "frame_records",
    "issue_detail",
    "issue_rows",
    "issue_trends",
    "metrics_overview",
    "page",
    "plain",
    "public_case",
]

ISSUE_FIELDS = (
    "rank",
    "issue",
    "revenue_at_risk",
    "revenue_at_risk_low",
    "revenue_at_risk_high",
    "customers",
    "aggregate_ltv",
    "contacts",
    "repeat_contacts",
    "escalations",
    "competitor_mentions",
    "churn_language",
    "share_of_exposure",
    "risk_source",
)
_CUSTOMER_FIELDS = (
    "customer_id",
    "issue",
    "segment",
    "value",
    "value_low",
    "value_high",
    "value_source",
    "churn_probability",
    "attributable_probability",
    "revenue_at_risk",
    "contacts",
    "repeat_contacts",
    "why",
)


def plain(value: Any) -> Any:
    """A JSON-safe copy of ``value``: numpy scalars unwrapped, NaN/inf as ``None``, times ISO."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if value is pd.NaT or value is pd.NA:
        return None
    return value


def page(items: list[dict[str, Any]], *, limit: int, offset: int) -> dict[str, Any]:
    """One page of ``items`` with the total, for every list endpoint."""
    return {
        "items": items[offset : offset + limit],
        "total": len(items),
        "limit": limit,
        "offset": offset,
    }


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Every row of ``frame`` as a JSON-safe dict."""
    return _records(frame, tuple(str(c) for c in frame.columns))


def _records(frame: pd.DataFrame, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    cols = [c for c in fields if c in frame.columns]
    return [plain(r) for r in frame[cols].to_dict(orient="records")]


def issue_rows(
    view: LiveView, *, min_revenue_at_risk: float | None = None, search: str | None = None
) -> list[dict[str, Any]]:
    """Issues ranked by revenue at risk, optionally filtered."""
    issues = view.issues
    if issues.empty:
        return []
    if min_revenue_at_risk is not None:
        issues = issues[issues["revenue_at_risk"] >= min_revenue_at_risk]
    if search:
        issues = issues[issues["issue"].str.contains(search, case=False, regex=False)]
    return _records(issues.sort_values("revenue_at_risk", ascending=False), ISSUE_FIELDS)


def issue_trends(view: LiveView, weeks: int = 12) -> dict[str, list[dict[str, Any]]]:
    """Contacts per week on each issue over the last ``weeks`` weeks of the view's signals."""
    signals = view.signals
    if signals.empty:
        return {}
    stamp = pd.to_datetime(signals["timestamp"])
    last = stamp.max()
    recent = stamp >= last - pd.Timedelta(weeks=weeks)
    frame = pd.DataFrame(
        {
            "issue": signals.loc[recent, "root_cause"].astype(str),
            "week": stamp[recent].dt.to_period("W").dt.start_time,
        }
    )
    counts = frame.groupby(["issue", "week"]).size().reset_index(name="contacts")
    out: dict[str, list[dict[str, Any]]] = {}
    for issue, week, n in counts.itertuples(index=False):  # issues x weeks, not rows
        point = {"week": pd.Timestamp(week).date().isoformat(), "contacts": int(n)}
        out.setdefault(str(issue), []).append(point)
    return out


_QUOTED = re.compile(r' \("[^"]*"\)')


def _mask(rows: list[dict[str, Any]], principal: Principal) -> list[dict[str, Any]]:
    """Rows as ``principal`` may see them: ids masked without ``identifiers``, and the words
    customers wrote (detector phrases quoted in ``why``) removed without ``text``."""
    if not principal.can("text"):
        rows = [r | {"why": _QUOTED.sub("", str(r["why"]))} if r.get("why") else r for r in rows]
    if principal.can("identifiers"):
        return rows
    return [r | {"customer_id": mask_identifier(r["customer_id"])} for r in rows]


def customer_rows(
    view: LiveView,
    issue: str,
    principal: Principal,
    *,
    segment: str | None = None,
    value_source: str | None = None,
    min_value: float | None = None,
) -> list[dict[str, Any]]:
    """Customers carrying one issue, ranked by lifetime value, with why (ids masked by role)."""
    if view.customers.empty or issue not in set(view.issues["issue"]):
        raise NotFoundError(
            f"issue {issue!r} is not in the current analysis; list issues at /api/v1/issues"
        )
    rows = view.customers[view.customers["issue"] == issue]
    if segment is not None:
        rows = rows[rows["segment"] == segment]
    if value_source is not None:
        rows = rows[rows["value_source"] == value_source]
    if min_value is not None:
        rows = rows[rows["value"] >= min_value]
    ranked = rows.sort_values(["value", "customer_id"], ascending=[False, True])
    return _mask(_records(ranked, _CUSTOMER_FIELDS), principal)


def public_case(case: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """A case as a role may see it: customer ids in the business case masked for viewers."""
    case = plain(case)
    if principal.can("identifiers") and principal.can("text"):
        return case
    business = dict(case.get("business_case") or {})
    if "top_customers" in business:
        business["top_customers"] = _mask(list(business["top_customers"]), principal)
    return case | {"business_case": business}


def issue_detail(
    view: LiveView, issue: str, case: dict[str, Any] | None, principal: Principal
) -> dict[str, Any]:
    """One issue: its totals, its open case's business case and its top customers by value."""
    rows = [r for r in issue_rows(view) if r["issue"] == issue]
    if not rows:
        raise NotFoundError(
            f"issue {issue!r} is not in the current analysis; list issues at /api/v1/issues"
        )
    return {
        "issue": rows[0],
        "case": public_case(case, principal) if case else None,
        "top_customers": customer_rows(view, issue, principal)[:10],
        "trend": issue_trends(view).get(issue, []),
    }


def customer_detail(
    view: LiveView,
    customer_id: str,
    interactions: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    principal: Principal,
) -> dict[str, Any]:
    """One customer: value and its source, risk and why per issue, interactions and actions."""
    risk = view.risk[view.risk["customer_id"] == customer_id] if len(view.risk) else view.risk
    if risk.empty and not interactions:
        raise NotFoundError(
            f"customer {customer_id!r} has no risk or interactions in the current analysis"
        )
    issues = view.customers[view.customers["customer_id"] == customer_id]
    signals = view.signals
    by_id: dict[str, dict[str, Any]] = {}
    if len(signals):
        mine = signals[signals["customer_id"] == customer_id]
        by_id = {str(r["interaction_id"]): r for r in _records(mine, tuple(mine.columns))}
    shown = []
    for row in interactions:
        signal = by_id.get(str(row["id"]), {})
        item = {
            "id": row["id"],
            "timestamp": row.get("timestamp"),
            "channel": row.get("channel"),
            "root_cause": signal.get("root_cause"),
            "sentiment_label": signal.get("sentiment_label"),
            "repeat_contact": signal.get("repeat_contact"),
        }
        if principal.can("text"):
            item["text"] = row.get("text")
        shown.append(plain(item))
    return {
        "customer_id": customer_id,
        "risk": plain(risk.iloc[0].to_dict()) if len(risk) else None,
        "issues": _mask(
            _records(issues.sort_values("revenue_at_risk", ascending=False), _CUSTOMER_FIELDS),
            principal,
        ),
        "interactions": shown,
        "actions": actions,
    }


def metrics_overview(
    view: LiveView,
    cases: list[dict[str, Any]],
    *,
    quarantined: int,
    stored_interactions: int,
    writer: dict[str, Any],
    today: date,
) -> dict[str, Any]:
    """Totals: customers, interactions, revenue at risk, exposure, cases by state, live stats."""
    risk = view.risk
    issues = view.issues
    states = Counter(str(c["state"]) for c in cases)
    overdue = sum(
        1
        for c in cases
        if c["state"] not in ("closed", "dismissed") and str(c["due"]) < today.isoformat()
    )
    overview: dict[str, Any] = plain(
        {
            "as_of": view.as_of,
            "risk_source": view.model_source,
            "customers_at_risk": len(risk),
            "interactions_stored": stored_interactions,
            "interactions_scored": view.interactions_scored,
            "quarantined": quarantined,
            "issues": len(issues),
            "revenue_at_risk": float(risk["revenue_at_risk"].sum()) if len(risk) else 0.0,
            "attributable_revenue_at_risk": float(issues["revenue_at_risk"].sum())
            if len(issues)
            else 0.0,
            "aggregate_ltv": float(risk["value"].sum()) if len(risk) else 0.0,
            "cases": dict(sorted(states.items())),
            "overdue_cases": overdue,
            "live": {
                "view_version": view.version,
                "interactions_since_refit": view.live_interactions,
                "refit_at": view.refit_at,
                **writer,
            },
        }
    )
    return overview
