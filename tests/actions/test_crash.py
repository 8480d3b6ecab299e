"""Crash safety: SIGKILL the worker while it dispatches 1,000 actions; restart the database.

Contract under test (docs/actions.md): the outbox delivers at least once, and the receiver
deduplicates on the ``Idempotency-Key`` header; after dedup every action arrived exactly once,
none was lost and none was dead-lettered (the channel never really failed).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cximpact.actions.channels.webhook import SIGNATURE_HEADER, verify_signature
from cximpact.actions.store import ActionStore

N_ACTIONS = 1000
SECRET = "crash-test-secret"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _policy_file(tmp: Path, url: str) -> Path:
    path = tmp / "policies.yaml"
    path.write_text(
        f"""
budget: 1000
channels:
  hook: {{type: webhook, url: "{url}"}}
policies:
  - {{name: test_policy, action: retention_call, channel: hook, cost: 1, effectiveness: 0.2}}
"""
    )
    return path


def _worker_env(db_url: str, policies: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXIMPACT_")}
    env.update(
        CXIMPACT_DATABASE_URL=db_url,
        CXIMPACT_ACTIONS_POLICIES_FILE=str(policies),
        CXIMPACT_ACTIONS_WEBHOOK_SECRET=SECRET,
        CXIMPACT_ACTIONS_LEASE_S="1",  # a killed worker's claims are free again after 1 s
        CXIMPACT_ACTIONS_BACKOFF_BASE_S="0.05",
        CXIMPACT_ACTIONS_BACKOFF_CAP_S="0.5",
    )
    return env


def _start_worker(env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "cximpact", "worker", "--drain", "--drain-wait", "5"]
    command += ["--poll", "0.05", "--batch", "25"]
    return subprocess.Popen(command, env=env, stdout=log, stderr=log)


def _wait_for_progress(receiver: Any, proc: subprocess.Popen[bytes], more: int) -> None:
    target = receiver.count() + more
    deadline = time.monotonic() + 30
    while receiver.count() < target and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)


def _assert_exactly_once(receiver: Any, store: ActionStore, keys: list[str]) -> Counter[str]:
    seen = Counter(receiver.keys())
    assert set(seen) == set(keys), f"lost: {len(set(keys) - set(seen))}"
    for request in receiver.requests[:50]:
        assert verify_signature(SECRET, request.headers[SIGNATURE_HEADER], request.body)
    counts = store.outbox_counts()
    assert counts == {"pending": 0, "delivered": N_ACTIONS, "dead": 0}
    assert {a.state for a in store.list_actions()} == {"sent"}
    return seen


def _finish(env: dict[str, str], log: Any) -> None:
    final = _start_worker(env, log)
    assert final.wait(timeout=120) == 0, "the last worker did not drain the outbox"


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing(
    sqlite_url: str, http_receiver: Any, make_rows: Callable[..., Any], tmp_path: Path
) -> None:
    with ActionStore(sqlite_url) as store:
        store.upgrade()
        rows = make_rows(N_ACTIONS)
        assert store.add_actions(rows) == N_ACTIONS
        env = _worker_env(sqlite_url, _policy_file(tmp_path, http_receiver.url))
        rng = random.Random(7)
        kills = 0
        with (tmp_path / "worker.log").open("wb") as log:
            while kills < 8 and http_receiver.count() < N_ACTIONS * 0.9:
                proc = _start_worker(env, log)
                _wait_for_progress(http_receiver, proc, rng.randint(1, 120))
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
            _finish(env, log)
        seen = _assert_exactly_once(http_receiver, store, [r["idempotency_key"] for r in rows])
    assert kills >= 5, "the worker should have been killed mid-run several times"
    # a kill between sending and recording the delivery is what the receiver's dedup absorbs
    assert sum(seen.values()) >= N_ACTIONS
    print(f"kills={kills} duplicates absorbed by dedup={sum(seen.values()) - N_ACTIONS}")


# -- database restarts: a private PostgreSQL cluster, never the shared server ----------------


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture
def private_postgres(get_free_port: Callable[[], int]) -> Iterator[tuple[str, Callable[[], None]]]:
    """A throw-away PostgreSQL 15 cluster on a free port: ``(url, restart)``."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN}")
    root = Path(tempfile.mkdtemp(prefix="cximpact-pg-"))
    data, port = root / "data", get_free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    ctl = str(PG_BIN / "pg_ctl")
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    start = _as_postgres([ctl, "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"])
    subprocess.run(start, check=True, capture_output=True)

    def restart() -> None:
        stop = _as_postgres([ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
        subprocess.run(stop, check=True, capture_output=True)
        time.sleep(0.5)  # the worker sees the database gone, not just a blip
        subprocess.run(start, check=True, capture_output=True)

    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", restart
    finally:
        subprocess.run(
            _as_postgres([ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.postgres
def test_database_restarts_mid_run_lose_nothing(
    private_postgres: tuple[str, Callable[[], None]],
    http_receiver: Any,
    make_rows: Callable[..., Any],
    tmp_path: Path,
) -> None:
    url, restart = private_postgres
    with ActionStore(url) as store:
        store.upgrade()
        rows = make_rows(N_ACTIONS)
        store.add_actions(rows)
        env = _worker_env(url, _policy_file(tmp_path, http_receiver.url))
        with (tmp_path / "worker.log").open("wb") as log:
            proc = _start_worker(env, log)
            restarts = 0
            for share in (0.2, 0.5, 0.8):
                _wait_for_progress(
                    http_receiver, proc, int(N_ACTIONS * share) - http_receiver.count()
                )
                if proc.poll() is not None:
                    break
                restart()
                restarts += 1
            code = proc.wait(timeout=120)
        log_text = (tmp_path / "worker.log").read_text(errors="replace")
        assert code == 0, log_text[-2000:]
        assert restarts == 3
        assert "claim failed" in log_text or "state store unavailable" in log_text
        _assert_exactly_once(http_receiver, store, [r["idempotency_key"] for r in rows])
