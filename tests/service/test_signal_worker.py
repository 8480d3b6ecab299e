"""The live path's keyword signals on a worker process: the same rows as in-process, and a
worker that dies is replaced without losing the batch in hand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from cximpact.service import _signals
from cximpact.service._signals import SignalComputer


def _interactions() -> pd.DataFrame:
    texts = [
        "charged twice on my bill again, I want a refund or I am switching to Vodafone",
        "the outage took my internet down again, no signal for days",
        "Can I speak to a manager?  The app crashes every time I log in \u2014 so annoying",
        "thanks, all sorted now \U0001f600",
        None,
        "I won't be switching, just tell me when the parcel arrives",
        "",
    ]
    return pd.DataFrame(
        {
            "id": [f"w-{i}" for i in range(len(texts))],
            "customer_id": [f"c-{i % 3}" for i in range(len(texts))],
            "timestamp": pd.date_range("2026-04-01 09:00", periods=len(texts), freq="h"),
            "channel": ["chat", "email", "phone", "chat", "chat", "email", "phone"],
            "text": pd.array(texts, dtype="str"),
            "handling_cost": [4.5, None, 12.0, None, 3.0, None, 1.0],
            "agent": "ignored",  # not sent to the worker
        }
    )


@pytest.fixture(scope="module")
def worker() -> Iterator[SignalComputer]:
    computer = SignalComputer(None, 6.0, processes=1)
    computer.start()
    yield computer
    computer.stop()


def test_the_worker_computes_the_rows_the_thread_computes(worker: SignalComputer) -> None:
    interactions = _interactions()
    in_process = SignalComputer(None, 6.0, processes=0)(interactions)
    pd.testing.assert_frame_equal(worker(interactions), in_process)
    assert in_process["handling_cost"].tolist()[:2] == [4.5, 6.0]
    assert in_process["root_cause"].iloc[1] != "other"


def test_a_dead_worker_is_replaced_and_the_batch_is_not_lost(worker: SignalComputer) -> None:
    interactions = _interactions()
    want = SignalComputer(None, 6.0, processes=0)(interactions)
    worker(interactions)  # the worker runs
    pool = worker._pool
    assert pool is not None
    for pid in list(pool._processes):  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
    pd.testing.assert_frame_equal(worker(interactions), want)  # computed here meanwhile
    assert worker._pool is not None and worker._pool is not pool
    pd.testing.assert_frame_equal(worker(interactions), want)  # and by the new worker


def test_stop_ends_the_worker() -> None:
    computer = SignalComputer(None, 6.0, processes=1)
    computer.start()
    assert computer._pool is not None
    processes = list(computer._pool._processes.values())  # type: ignore[attr-defined]
    computer(_interactions())
    computer.stop()
    assert computer._pool is None
    assert all(not p.is_alive() for p in processes)


def test_the_worker_ends_when_the_server_is_killed(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from cximpact.service._signals import SignalComputer\n"
        "computer = SignalComputer(None, 6.0, processes=1)\n"
        "computer.start()\n"
        "computer._pool.submit(int).result()\n"
        "print(*computer._pool._processes, flush=True)\n"
        "time.sleep(600)\n"
    )
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    worker = int(server.stdout.readline())
    os.kill(server.pid, signal.SIGKILL)  # no chance to stop its worker
    server.wait()
    deadline = time.monotonic() + 30
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie left for init to reap counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_worker_that_cannot_start_leaves_the_signals_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_signals, "_start_worker", _cannot_start)
    computer = SignalComputer(None, 6.0, processes=1)
    computer.start()
    computer.wait_ready()
    assert computer._pool is None  # given up: no pool to fail on every batch
    want = SignalComputer(None, 6.0, processes=0)(_interactions())
    pd.testing.assert_frame_equal(computer(_interactions()), want)
    computer.stop()


def _cannot_start(taxonomy_file: object) -> None:
    raise RuntimeError("no worker here")
