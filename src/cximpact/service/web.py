"""The dashboard: server-rendered pages over the same queries as the API.

Sign-in stores the API token in an HttpOnly, SameSite=Strict cookie; pages only read, so the
cookie never authorises a write (the API's writes take the bearer header only).
"""

from __future__ import annotations

from datetime import date
from itertools import groupby
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cximpact.errors import CximpactError
from cximpact.report import money
from cximpact.service import queries
from cximpact.service.api import _actions, _open_case, services
from cximpact.service.api import metrics as metrics_data
from cximpact.service.app import Services
from cximpact.service.auth import Principal
from cximpact.service.errors import AuthError

__all__ = ["router"]

COOKIE = "cximpact_token"
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
templates.env.globals["money"] = lambda v: money(float(v or 0.0))
router = APIRouter(include_in_schema=False)


def viewer(request: Request) -> Principal:
    """The signed-in caller, from the cookie (or a bearer header)."""
    header = request.headers.get("authorization", "")
    secret = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE)
    return services(request).authenticate(secret)


Svc = Annotated[Services, Depends(services)]
Who = Annotated[Principal, Depends(viewer)]


def _render(
    request: Request, name: str, principal: Principal | None, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"principal": principal, **context})


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The sign-in form."""
    return _render(request, "login.html", None, message=None)


@router.post("/login")
async def login(request: Request, svc: Svc) -> Response:
    """Check the token and keep it in an HttpOnly cookie."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    secret = (form.get("token") or [""])[0].strip()
    try:
        svc.tokens.authenticate(secret)
    except AuthError as exc:
        response = _render(request, "login.html", None, message=str(exc))
        response.status_code = 401
        return response
    redirect = RedirectResponse("/", status_code=303)
    redirect.set_cookie(COOKIE, secret, httponly=True, samesite="strict", max_age=8 * 3600)
    return redirect


@router.get("/logout")
def logout() -> Response:
    """Forget the token."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
def issues_page(request: Request, svc: Svc, who: Who) -> HTMLResponse:
    """Issues ranked by revenue at risk, with contacts per week."""
    view = svc.ingestor.view
    rows = queries.issue_rows(view)
    bars = [{"label": r["issue"], "value": r["revenue_at_risk"]} for r in rows[:12]]
    return _render(
        request,
        "issues.html",
        who,
        issues=rows,
        bars=bars,
        trends=queries.issue_trends(view),
        ready=view.ready,
        as_of=queries.plain(view.as_of),
        risk_source=view.model_source,
        version=view.version,
    )


@router.get("/issues/{issue}")
def issue_page(issue: str, request: Request, svc: Svc, who: Who) -> HTMLResponse:
    """One issue: business case and customers ranked by value."""
    try:
        detail = queries.issue_detail(svc.ingestor.view, issue, _open_case(svc, issue), who)
        customers = queries.customer_rows(svc.ingestor.view, issue, who)[:50]
    except CximpactError as exc:
        return _error(request, who, exc)
    return _render(
        request,
        "issue.html",
        who,
        detail=detail,
        customers=customers,
        can_identify=who.can("identifiers"),
    )


@router.get("/cases")
def cases_page(request: Request, svc: Svc, who: Who) -> HTMLResponse:
    """The case board: columns by owner, soonest due first, overdue highlighted."""
    today = date.today().isoformat()
    cases = [
        queries.public_case(c.to_dict(), who) for c in svc.tokens.list_cases(include_terminal=False)
    ]
    for c in cases:
        c["overdue"] = str(c["due"]) < today
    cases.sort(key=lambda c: (c["owner"], str(c["due"])))
    board = [(owner, list(items)) for owner, items in groupby(cases, key=lambda c: c["owner"])]
    overdue = sum(1 for c in cases if c["overdue"])
    return _render(request, "cases.html", who, board=board, overdue=overdue)


@router.get("/customers/{customer_id}")
def customer_page(customer_id: str, request: Request, svc: Svc, who: Who) -> HTMLResponse:
    """One customer: value and source, risk and why, interactions, actions."""
    try:
        who.require("identifiers")
        with svc.ingestor.reader() as cursor:
            rows = cursor.execute(
                "SELECT id, timestamp, channel, text FROM interactions WHERE customer_id = ? "
                "ORDER BY timestamp DESC LIMIT 50",
                [customer_id],
            ).df()
        actions = _actions(svc, customer_id=customer_id, limit=50)
        detail = queries.customer_detail(
            svc.ingestor.view, customer_id, queries.frame_records(rows), actions, who
        )
    except CximpactError as exc:
        return _error(request, who, exc)
    return _render(request, "customer.html", who, c=detail, can_text=who.can("text"))


@router.get("/metrics")
def metrics_page(request: Request, svc: Svc, who: Who) -> HTMLResponse:
    """Totals, cases by state and the live writer's state."""
    data = metrics_data(svc, who)
    bars = [{"label": k, "value": v} for k, v in data["cases"].items()]
    return _render(request, "metrics.html", who, m=data, case_bars=bars)


def _error(request: Request, who: Principal, exc: CximpactError) -> HTMLResponse:
    response = _render(request, "error.html", who, status=exc.http_status, message=str(exc))
    response.status_code = exc.http_status
    return response
