"""The FastAPI application: services, authentication, limits, one error shape, routers.

``create_app(settings)`` opens the stores, starts the single writer (which refits when the
analytics store holds data) and mounts the API (``/api/v1``), the dashboard (``/``) and the
bundled static files. Every error leaves as ``{"error": {"status", "type", "message"}}``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cximpact import __version__
from cximpact.errors import CximpactError
from cximpact.service.auth import Principal, RateLimiter, TokenStore
from cximpact.service.errors import AuthError, RateLimitedError
from cximpact.service.live import AuditRow, Ingestor
from cximpact.settings import Settings

__all__ = ["NatsSource", "Services", "create_app", "error_body"]

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class Services:
    """What the routes need, made once per app: settings, stores, the writer, the rate limit."""

    settings: Settings
    tokens: TokenStore
    ingestor: Ingestor
    limiter: RateLimiter

    def authenticate(self, secret: str | None) -> Principal:
        """Return the caller of a request and charge one request to its rate limit."""
        principal = self.tokens.authenticate(secret)
        self.limiter.check(principal.token_id)
        return principal

    def audit(self, rows: list[AuditRow]) -> None:
        """Append rows to the audit log (the state store's append-only ``audit_log``)."""
        self.tokens.record(rows)


def error_body(status: int, kind: str, message: str) -> dict[str, Any]:
    """The one JSON shape of every API error."""
    return {"error": {"status": status, "type": kind, "message": message}}


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before the app reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        if declared is not None:  # the server stops reading at the declared length
            await self.app(scope, receive, send)
            return
        # A streamed body (no length): read it here, up to the limit, then replay it.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = error_body(
            413,
            "PayloadTooLargeError",
            f"request body over {self.limit} bytes (CXIMPACT_SERVICE_MAX_BODY_BYTES); "
            "split the batch into smaller requests",
        )
        await JSONResponse(body, status_code=413)(scope, receive, send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A ``receive`` that returns ``messages`` first, then defers to ``then``."""
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'",
    )
    return response


def _install_error_handlers(app: FastAPI) -> None:
    async def cximpact_error(request: Request, exc: Exception) -> Response:
        status = int(getattr(exc, "http_status", 500))
        if status >= 500:
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        headers = {}
        if isinstance(exc, RateLimitedError):
            headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        if isinstance(exc, AuthError):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, AuthError) and _wants_html(request):
            return Response(status_code=303, headers={"Location": "/login"})
        return JSONResponse(
            error_body(status, type(exc).__name__, str(exc)), status_code=status, headers=headers
        )

    async def validation_error(request: Request, exc: Exception) -> Response:
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        parts = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors[:5]
        ]
        message = "invalid request: " + "; ".join(parts) + "; see /docs for the expected shape"
        return JSONResponse(error_body(422, "RequestValidationError", message), status_code=422)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        detail = str(getattr(exc, "detail", "")) or "error"
        headers = getattr(exc, "headers", None)
        return JSONResponse(
            error_body(status, "HTTPError", detail), status_code=status, headers=headers
        )

    app.add_exception_handler(CximpactError, cximpact_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


@dataclass(frozen=True)
class NatsSource:
    """A NATS JetStream subject the server consumes interactions from."""

    url: str
    subject: str
    queue: str = "cximpact"
    workers: int = 2


#: How long a thread may hold the GIL before another that waits gets it (Python's default: 5 ms).
GIL_SWITCH_SECONDS = 0.0005


def _settle_interpreter() -> None:
    """Tune the interpreter of the one long-running server process for latency.

    * **GIL hand-offs.** The live path runs four threads (cleaner, writer, scorer, cases).
      The scoring and writing steps make many short pyarrow / numpy / DuckDB calls that
      release the GIL; each time, getting it back waits for whichever thread runs Python code
      to reach the switch interval (5 ms by default), the "convoy effect". With ~75 regex calls
      per batch the signals step took ~100 ms of wall time for ~30 ms of CPU. At 0.5 ms the
      benchmark at 1,000/s went from p50 225 / p99 451 ms to p50 92 / p99 141 ms, and the
      server's CPU per interaction fell (1.2 -> 1.0 ms: fewer idle hand-offs).
    * **Garbage collector.** What exists once the service has started (the modules, the
      analysis and its frames) is moved out of the collector's sight (:func:`gc.freeze`), and
      the youngest generation is collected less often: a full collection otherwise walks
      every object the analysis holds, a pause that lands on whichever request allocates then
      (250/s: p99 240 -> 148 ms).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)
    sys.setswitchinterval(GIL_SWITCH_SECONDS)


def create_app(
    settings: Settings,
    *,
    refit: bool = True,
    start_writer: bool = True,
    nats_source: NatsSource | None = None,
    settle_interpreter: bool = False,
) -> FastAPI:
    """Build the service for ``settings``.

    Parameters
    ----------
    settings : Settings
        Stores, limits, CORS origins and rate limit.
    refit : bool, optional
        Run the batch analysis at start when the analytics store holds data (default).
    start_writer : bool, optional
        Start the writer when the app starts (its lifespan); tests may drive it themselves.
    nats_source : NatsSource, optional
        Also consume interactions from this JetStream subject while the app runs.
    settle_interpreter : bool, optional
        Once started, tune the interpreter for latency (:func:`_settle_interpreter`: shorter
        GIL switch interval, startup objects frozen for the garbage collector): for the one
        long-running server process (``cximpact serve``), not for apps built in a test
        process (frozen objects are never collected, and the switch interval is global).

    Returns
    -------
    FastAPI
        The application; ``app.state.services`` holds the :class:`Services`.
    """
    from cximpact.service.api import router as api_router
    from cximpact.service.web import router as web_router

    tokens = TokenStore(settings.state_url())
    tokens.upgrade()
    services = Services(
        settings=settings,
        tokens=tokens,
        ingestor=Ingestor(settings, tokens, None),
        limiter=RateLimiter(settings.service_rate_limit, settings.service_rate_burst),
    )
    services.ingestor.audit = services.audit

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # A second lifespan on the same app (a test client inside another) shares the writer.
        owner = start_writer and not services.ingestor.running
        if owner:
            services.ingestor.start(refit=refit)
            if settle_interpreter:
                _settle_interpreter()
        stop = asyncio.Event()
        consumer = None
        if nats_source is not None:
            from cximpact.service.consumer import consume

            ready = asyncio.Event()
            consumer = asyncio.create_task(
                consume(
                    services.ingestor.submit,
                    nats_source.url,
                    nats_source.subject,
                    queue=nats_source.queue,
                    workers=nats_source.workers,
                    stop=stop,
                    ready=ready,
                )
            )
            await asyncio.wait(
                [consumer, asyncio.create_task(ready.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            if consumer.done():
                consumer.result()  # raises the connection error
        try:
            yield
        finally:
            stop.set()
            if consumer is not None:
                await consumer
            if owner:
                services.ingestor.stop()
                tokens.close()

    app = FastAPI(
        title="cximpact",
        version=__version__,
        description=(
            "Customer-service issues ranked by revenue at risk, the customers carrying them, "
            "and the cases that own each fix. Authenticate with 'Authorization: Bearer <token>' "
            "(cximpact tokens create)."
        ),
        lifespan=lifespan,
    )
    app.state.services = services
    _install_error_handlers(app)
    app.middleware("http")(_security_headers)
    if settings.service_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.service_cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodyLimit, limit=settings.service_max_body_bytes)
    app.include_router(api_router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
