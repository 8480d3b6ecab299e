"""Fixtures of the actions tests: a local HTTP receiver, an SMTP sink, queued actions.

The HTTP receiver is a threaded ``http.server`` that records every request (key, headers, body)
before answering, so a test sees exactly what reached the receiver, duplicates included.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cximpact.actions.store import ActionStore


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpReceiver:
    """Records requests; ``status`` decides the answer (default 200)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    status: Callable[[Received], int] = lambda _r: 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self) -> list[str]:
        with self.lock:
            return [r.headers.get("Idempotency-Key", "") for r in self.requests]

    def count(self) -> int:
        with self.lock:
            return len(self.requests)


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """A local HTTP receiver on a free port."""
    port = free_port()
    receiver = HttpReceiver(url=f"http://127.0.0.1:{port}/hook")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            request = Received(self.path, dict(self.headers.items()), body)
            status = receiver.status(request)
            if status < 300:
                with receiver.lock:
                    receiver.requests.append(request)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return None

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            return None  # a worker killed mid-request resets its connection; that is the test

    server = Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


def action_rows(
    n: int, *, channel: str = "hook", case_id: int = 1, start: int = 0
) -> list[dict[str, Any]]:
    """``n`` planned, treated actions for the outbox (what planning would record)."""
    return [
        {
            "idempotency_key": f"cxa-test-{case_id}-{i:05d}",
            "customer_id": f"C{i:05d}",
            "case_id": case_id,
            "issue": "billing_error",
            "policy": "test_policy",
            "action": "retention_call",
            "channel": channel,
            "holdout": False,
            "churn_probability": 0.3,
            "value": 1000.0,
            "segment": "consumer",
            "value_tier": "silver",
            "cost": 1.0,
            "risk_reduction": 0.1,
            "expected_uplift": 99.0,
            "uplift_source": "assumption",
            "context": {"script": "hello"},
            "email": f"c{i}@example.com",
            "not_before": None,
        }
        for i in range(start, start + n)
    ]


@pytest.fixture
def action_store(db_url: str) -> Iterator[ActionStore]:
    """A migrated action store on an empty database (SQLite and PostgreSQL)."""
    with ActionStore(db_url) as store:
        store.upgrade()
        yield store


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[ActionStore]:
    """A migrated action store on an SQLite file."""
    with ActionStore(sqlite_url) as store:
        store.upgrade()
        yield store


@pytest.fixture
def make_rows() -> Callable[..., list[dict[str, Any]]]:
    """The :func:`action_rows` builder."""
    return action_rows


@pytest.fixture
def get_free_port() -> Callable[[], int]:
    """The :func:`free_port` helper."""
    return free_port
