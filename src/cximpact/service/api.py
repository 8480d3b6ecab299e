"""The JSON API under ``/api/v1``: parse, check the role, call one function, format."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cximpact.errors import NotFoundError
from cximpact.ingest.pipeline import IngestReport
from cximpact.service import queries
from cximpact.service.app import Services
from cximpact.service.auth import Principal
from cximpact.service.errors import PayloadTooLargeError
from cximpact.service.live import IngestOutcome, find_interaction, records_frame
from cximpact.service.schemas import (
    AssignIn,
    CasePage,
    CustomerPage,
    ErrorOut,
    IngestBatchIn,
    IngestOut,
    IssuePage,
    Kind,
    Page,
    Record,
    TransitionIn,
)

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut} for status in (401, 403, 404, 409, 413, 422, 429)
}
router = APIRouter(prefix="/api/v1", responses=_ERRORS)
bearer = HTTPBearer(auto_error=False, description="An API token from `cximpact tokens create`.")

Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]
CaseState = Literal[
    "open", "accepted", "in_progress", "fix_deployed", "measuring", "closed", "dismissed"
]
Severity = Literal["critical", "high", "medium", "low"]
Name = Annotated[str, Path(min_length=1, max_length=200)]


def services(request: Request) -> Services:
    """The app's services."""
    found: Services = request.app.state.services
    return found


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from the bearer token (or the dashboard's cookie); rate-limited."""
    secret = credentials.credentials if credentials else request.cookies.get("cximpact_token")
    return services(request).authenticate(secret)


Svc = Annotated[Services, Depends(services)]
Caller = Annotated[Principal, Depends(principal)]


@router.get("/health", tags=["service"], responses={})
def health(svc: Svc) -> dict[str, Any]:
    """Liveness: whether the writer runs and a batch analysis is loaded (no token needed)."""
    view = svc.ingestor.view
    return {"status": "ok", "analysis_loaded": view.ready, "view_version": view.version}


# -- ingest ---------------------------------------------------------------------------------


async def _ingest(
    svc: Services, caller: Principal, kind: str, records: list[Record], source: str | None
) -> dict[str, Any]:
    caller.require("ingest")
    if len(records) > svc.settings.service_max_batch:
        raise PayloadTooLargeError(
            f"{len(records)} records in one request; at most {svc.settings.service_max_batch} "
            "(CXIMPACT_SERVICE_MAX_BATCH); split the batch"
        )
    source = source or f"api:{caller.name}"
    if not records:  # nothing to write, nothing to audit
        empty = IngestReport(kind, source, rows_read=0, accepted=0, quarantined=0, inserted=0)
        return IngestOutcome(empty, 0, svc.ingestor.view.version).to_dict()
    future = svc.ingestor.submit(kind, records_frame(records), source=source, actor=caller.actor)
    outcome = await asyncio.wrap_future(future)
    result: dict[str, Any] = outcome.to_dict()
    return result


@router.post("/ingest/{kind}", tags=["ingest"], response_model=IngestOut)
async def ingest_batch(kind: Kind, body: IngestBatchIn, svc: Svc, caller: Caller) -> dict[str, Any]:
    """Validate, redact and store a batch of records; interactions are scored live.

    Same contracts, quarantine and PII redaction as ``cximpact ingest``. When the response
    arrives, the interactions are visible in issues, customers, exposure and cases.
    Re-sending the same records changes nothing. Roles: analyst, admin.
    """
    return await _ingest(svc, caller, kind, body.records, body.source)


@router.post("/ingest/{kind}/one", tags=["ingest"], response_model=IngestOut)
async def ingest_one(kind: Kind, record: Record, svc: Svc, caller: Caller) -> dict[str, Any]:
    """Ingest one record (same as a batch of one). Roles: analyst, admin."""
    return await _ingest(svc, caller, kind, [record], None)


@router.get("/interactions/{interaction_id}", tags=["ingest"])
def interaction(interaction_id: Name, svc: Svc, caller: Caller) -> dict[str, Any]:
    """One scored interaction: root cause, sentiment, detectors (text for analyst and admin)."""
    caller.require("identifiers")
    row = queries.plain(find_interaction(svc.ingestor.view, interaction_id).to_dict())
    if caller.can("text"):
        with svc.ingestor.reader() as cursor:
            found = cursor.execute(
                "SELECT text FROM interactions WHERE id = ?", [interaction_id]
            ).fetchall()
        row["text"] = found[0][0] if found else None
    result: dict[str, Any] = row
    return result


# -- issues and customers -------------------------------------------------------------------


@router.get("/issues", tags=["issues"], response_model=IssuePage)
def issues(
    svc: Svc,
    caller: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
    min_revenue_at_risk: Annotated[float | None, Query(ge=0)] = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of the issue name.")] = None,
) -> dict[str, Any]:
    """Issues ranked by revenue at risk (currency over the horizon), with intervals."""
    rows = queries.issue_rows(svc.ingestor.view, min_revenue_at_risk=min_revenue_at_risk, search=q)
    return queries.page(rows, limit=limit, offset=offset)


def _open_case(svc: Services, issue: str) -> dict[str, Any] | None:
    for case in svc.tokens.list_cases(include_terminal=False):
        if case.issue == issue:
            return case.to_dict()
    return None


@router.get("/issues/{issue}", tags=["issues"])
def issue(issue: Name, svc: Svc, caller: Caller) -> dict[str, Any]:
    """One issue: totals, weekly contacts, its open case's business case, top customers."""
    return queries.issue_detail(svc.ingestor.view, issue, _open_case(svc, issue), caller)


@router.get("/issues/{issue}/customers", tags=["issues"], response_model=CustomerPage)
def issue_customers(
    issue: Name,
    svc: Svc,
    caller: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
    segment: Annotated[str | None, Query(max_length=100)] = None,
    value_source: Annotated[str | None, Query(max_length=100)] = None,
    min_value: Annotated[float | None, Query(ge=0)] = None,
) -> dict[str, Any]:
    """Customers carrying the issue, ranked by lifetime value, with why.

    Customer ids for analyst, owner and admin; a stable stand-in (``~`` + hash) for viewers.
    """
    rows = queries.customer_rows(
        svc.ingestor.view,
        issue,
        caller,
        segment=segment,
        value_source=value_source,
        min_value=min_value,
    )
    return queries.page(rows, limit=limit, offset=offset)


@router.get("/customers/{customer_id}", tags=["customers"])
def customer(customer_id: Name, svc: Svc, caller: Caller) -> dict[str, Any]:
    """One customer: value and its source, risk and why, interactions, actions.

    Roles: analyst, owner, admin (identifiers); interaction text only for analyst and admin.
    """
    caller.require("identifiers")
    with svc.ingestor.reader() as cursor:
        rows = cursor.execute(
            "SELECT id, timestamp, channel, text FROM interactions WHERE customer_id = ? "
            "ORDER BY timestamp DESC LIMIT 50",
            [customer_id],
        ).df()
    interactions = queries.frame_records(rows)
    actions = _actions(svc, customer_id=customer_id, limit=50)
    return queries.customer_detail(svc.ingestor.view, customer_id, interactions, actions, caller)


# -- cases ----------------------------------------------------------------------------------


@router.get("/cases", tags=["cases"], response_model=CasePage)
def cases(
    svc: Svc,
    caller: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
    state: CaseState | None = None,
    owner: Annotated[str | None, Query(max_length=200)] = None,
    severity: Severity | None = None,
    overdue: bool | None = None,
) -> dict[str, Any]:
    """Cases, largest revenue at risk first; filter by state, owner, severity, overdue."""
    records = [c.to_dict() for c in svc.tokens.list_cases(state=state)]
    today = date.today().isoformat()
    if owner is not None:
        records = [c for c in records if c["owner"] == owner]
    if severity is not None:
        records = [c for c in records if c["severity"] == severity]
    if overdue is not None:
        records = [
            c
            for c in records
            if (c["state"] not in ("closed", "dismissed") and str(c["due"]) < today) == overdue
        ]
    items = [queries.public_case(c, caller) for c in records]
    return queries.page(items, limit=limit, offset=offset)


CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/cases/{case_id}", tags=["cases"])
def case(case_id: CaseId, svc: Svc, caller: Caller) -> dict[str, Any]:
    """One case with its business case, measurement plan and allowed next states."""
    record = svc.tokens.get_case(case_id)
    return queries.public_case(record.to_dict(), caller) | {
        "allowed_next": list(record.allowed_next)
    }


@router.get("/cases/{case_id}/audit", tags=["cases"])
def case_audit(case_id: CaseId, svc: Svc, caller: Caller) -> list[dict[str, Any]]:
    """The case's audit log, oldest first. Roles: admin."""
    caller.require("admin")
    svc.tokens.get_case(case_id)
    return [queries.plain(a.to_dict()) for a in svc.tokens.audit(case_id)]


@router.post("/cases/{case_id}/transitions", tags=["cases"])
def transition(case_id: CaseId, body: TransitionIn, svc: Svc, caller: Caller) -> dict[str, Any]:
    """Move a case along its lifecycle (audited). Roles: the case's owner, admin."""
    caller.require("cases")
    caller.require_case(svc.tokens.get_case(case_id).owner)
    record = svc.tokens.transition(
        case_id, body.state, actor=caller.actor, reason=body.reason, verdict=body.verdict
    )
    return queries.public_case(record.to_dict(), caller)


@router.post("/cases/{case_id}/assign", tags=["cases"])
def assign(case_id: CaseId, body: AssignIn, svc: Svc, caller: Caller) -> dict[str, Any]:
    """Give a case to another owner (audited). Roles: the case's owner, admin."""
    caller.require("cases")
    caller.require_case(svc.tokens.get_case(case_id).owner)
    record = svc.tokens.assign(case_id, body.owner, team=body.team, actor=caller.actor)
    return queries.public_case(record.to_dict(), caller)


# -- actions, metrics, refit ----------------------------------------------------------------


def _actions(
    svc: Services,
    *,
    customer_id: str | None = None,
    case_id: int | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Actions from the actions store (issue 7), newest first; empty when it has none yet."""
    from cximpact.actions.store import ActionStore

    store = ActionStore(svc.settings.state_url())
    try:
        found = store.list_actions(case_id=case_id, limit=None if customer_id else limit)
    finally:
        store.close()
    rows = [queries.plain(a.to_dict()) for a in found]
    if customer_id is not None:
        rows = [r for r in rows if r["customer_id"] == customer_id][:limit]
    return rows


@router.get("/actions", tags=["actions"], response_model=Page)
def actions(
    svc: Svc,
    caller: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
    case_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """Retention actions planned for customers of cases, with delivery state and outcome.

    Roles: analyst, owner, admin (actions name customers).
    """
    caller.require("identifiers")
    rows = _actions(svc, case_id=case_id, limit=offset + limit)
    return queries.page(rows, limit=limit, offset=offset)


@router.get("/metrics", tags=["metrics"])
def metrics(svc: Svc, caller: Caller) -> dict[str, Any]:
    """Overview: customers, interactions, revenue at risk, exposure, cases, live writer stats."""
    with svc.ingestor.reader() as cursor:
        quarantined = int(cursor.execute("SELECT count(*) FROM quarantine").fetchall()[0][0])
        stored = int(cursor.execute("SELECT count(*) FROM interactions").fetchall()[0][0])
    return queries.metrics_overview(
        svc.ingestor.view,
        [c.to_dict() for c in svc.tokens.list_cases()],
        quarantined=quarantined,
        stored_interactions=stored,
        writer=svc.ingestor.stats,
        today=date.today(),
    )


@router.post("/refit", tags=["service"])
async def refit(svc: Svc, caller: Caller) -> dict[str, Any]:
    """Re-run the batch analysis (refit every model) and open or refresh cases. Roles: admin."""
    caller.require("admin")
    with svc.ingestor.reader() as cursor:
        stored = cursor.execute("SELECT count(*) FROM interactions").fetchall()[0][0]
    if not stored:
        raise NotFoundError("nothing to analyse: ingest customers and interactions first")
    result: dict[str, Any] = await asyncio.to_thread(svc.ingestor.refit, actor=caller.actor)
    return result
