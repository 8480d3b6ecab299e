"""The live path's worker process: the same cleaning and keyword signals as in-process, the
store's customer ids kept and resent when they change, and a worker that dies (or whose
server dies) handled without losing the round in hand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cximpact.service import _worker
from cximpact.service._worker import LiveWorker
from cximpact.service.batching import clean_frames
from cximpact.settings import Settings, load_settings

from .conftest import ingestor_on_copy


def _settings(processes: int) -> Settings:
    return load_settings(service_worker_processes=processes, handling_cost=6.0)


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


def _requests() -> list[pd.DataFrame]:
    """Two requests as the API builds them (strings), with rows every rule should catch."""
    rows = [
        ["r-1", "c-1", "2026-04-01T09:00:00Z", "chat", "call me on 415-555-0199, charged twice"],
        ["r-2", "c-404", "2026-04-01T09:05:00Z", "email", "unknown customer, jo@example.com"],
        ["r-3", "c-2", "not a date", "chat", "the outage again"],
        ["r-4", "c-2", "2026-04-01T09:10:00Z", "phone", ""],
        ["r-4", "c-1", "2026-04-01T09:11:00Z", "phone", "duplicate id in one request"],
        ["", "c-1", "2026-04-01T09:12:00Z", "chat", "no id"],
    ]
    columns = ["id", "customer_id", "timestamp", "channel", "text"]
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    return [frame.iloc[:3].reset_index(drop=True), frame.iloc[3:].reset_index(drop=True)]


@pytest.fixture(scope="module")
def worker() -> Iterator[LiveWorker]:
    live = LiveWorker(_settings(1))
    live.start()
    live.wait_ready()
    assert live.remote
    yield live
    live.stop()


def _known(*ids: str) -> pd.Index:
    from cximpact.ingest.pipeline import pseudonymise

    region = _settings(0).phone_region
    return pd.Index(pseudonymise(pd.Series(list(ids), dtype=object), region), dtype=object)


class _Spy:
    """Counts the rounds the server process cleaned itself."""

    def __init__(self, live: LiveWorker, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        clean = live._local.clean

        def counted(*args: Any) -> Any:
            self.calls += 1
            return clean(*args)

        monkeypatch.setattr(live._local, "clean", counted)


def _round(live: LiveWorker, version: int = 1) -> Any:
    return live.clean("interactions", _requests(), "api", (version, _known("c-1", "c-2")))


def _expected() -> Any:
    return clean_frames(
        "interactions",
        _requests(),
        _settings(0),
        source="api",
        known_customers=_known("c-1", "c-2"),
    )


def test_the_worker_cleans_a_round_as_the_writer_would(
    worker: LiveWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Spy(worker, monkeypatch)
    got, want = _round(worker), _expected()
    assert spy.calls == 0  # done by the worker process
    pd.testing.assert_frame_equal(got.group.accepted, want.accepted)
    pd.testing.assert_frame_equal(got.group.quarantined, want.quarantined)
    pd.testing.assert_series_equal(got.group.keys, want.keys)
    assert got.group.sizes == (3, 3)
    assert set(want.quarantined["rule"]) >= {"unknown_customer", "unparsable_date", "missing_id"}
    assert "415-555-0199" not in " ".join(got.group.accepted["text"].astype(str))
    assert got.signals is not None and len(got.signals) == len(want.accepted)
    pd.testing.assert_frame_equal(got.signals, LiveWorker(_settings(0)).signals(want.accepted))
    assert got.signals["handling_cost"].tolist()[0] == 6.0  # the setting, for a missing cost


def test_customer_ids_are_sent_once_and_again_when_they_change(worker: LiveWorker) -> None:
    first = worker.clean("interactions", _requests(), "api", (7, _known("c-1", "c-2")))
    assert "unknown_customer" in set(first.group.quarantined["rule"])
    again = worker.clean("interactions", _requests(), "api", (7, _known()))  # held: not resent
    pd.testing.assert_frame_equal(again.group.quarantined, first.group.quarantined)
    grown = worker.clean("interactions", _requests(), "api", (8, _known("c-1", "c-2", "c-404")))
    assert "unknown_customer" not in set(grown.group.quarantined["rule"])
    customer = {"id": "c-9", "start_date": "2024-01-01", "segment": "smb"}
    customer |= {"products": "2", "monthly_revenue": "40"}
    customers = worker.clean("customers", [pd.DataFrame([customer])], "api", None)
    assert len(customers.group.accepted) == 1
    assert customers.signals is None
    held = worker.clean("interactions", _requests(), "api", (8, _known()))  # still held
    assert "unknown_customer" not in set(held.group.quarantined["rule"])


def test_ctrl_c_does_not_stop_the_worker(
    worker: LiveWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = worker._pool
    assert pool is not None
    for pid in list(pool._processes):  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGINT)
    time.sleep(0.5)
    spy = _Spy(worker, monkeypatch)
    _round(worker)
    assert spy.calls == 0 and worker._pool is pool


def test_a_dead_worker_is_replaced_and_the_rounds_are_not_lost(
    worker: LiveWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Spy(worker, monkeypatch)
    pool = worker._pool
    assert pool is not None
    for pid in list(pool._processes):  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
    got = _round(worker, version=9)
    assert spy.calls == 1  # the round in hand: done here
    pd.testing.assert_frame_equal(got.group.quarantined, _expected().quarantined)
    assert worker._pool is not None and worker._pool is not pool  # a new worker starts
    worker.wait_ready()
    again = _round(worker, version=9)  # the new worker holds no customer ids: sent to it
    assert spy.calls == 1 and worker.remote
    pd.testing.assert_frame_equal(again.group.quarantined, _expected().quarantined)


def test_a_worker_that_keeps_dying_leaves_the_work_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_worker, "MAX_RESTARTS", 0)
    live = LiveWorker(_settings(1))
    live.start()
    live.wait_ready()
    pool = live._pool
    assert pool is not None
    for pid in list(pool._processes):  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
    _round(live)
    assert not live.remote  # no new worker
    pd.testing.assert_frame_equal(_round(live).group.quarantined, _expected().quarantined)
    live.stop()


def test_stop_ends_the_worker() -> None:
    live = LiveWorker(_settings(1))
    live.start()
    live.wait_ready()
    assert live._pool is not None
    processes = list(live._pool._processes.values())  # type: ignore[attr-defined]
    _round(live)
    live.stop()
    assert not live.remote
    assert all(not p.is_alive() for p in processes)


def test_a_worker_that_cannot_start_leaves_the_work_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_worker, "_start_worker", _cannot_start)
    live = LiveWorker(_settings(1))
    live.start()
    live.wait_ready()
    assert not live.remote  # given up: no pool to fail on every round
    pd.testing.assert_frame_equal(_round(live).group.accepted, _expected().accepted)
    live.stop()


def _cannot_start(settings: object) -> None:
    raise RuntimeError("no worker here")


def test_the_worker_ends_when_the_server_is_killed() -> None:
    script = (
        "import time\n"
        "from cximpact.service._worker import LiveWorker\n"
        "from cximpact.settings import load_settings\n"
        "live = LiveWorker(load_settings(service_worker_processes=1))\n"
        "live.start()\n"
        "live.wait_ready()\n"
        "print(*live._pool._processes, flush=True)\n"
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


def test_a_failed_startup_stops_the_worker(
    enterprise_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingestor, _ = ingestor_on_copy(enterprise_dir, tmp_path)

    def broken(**_: Any) -> None:
        raise RuntimeError("the refit failed")

    monkeypatch.setattr(ingestor, "refit", broken)
    with pytest.raises(RuntimeError, match="refit failed"):
        ingestor.start(refit=True)
    assert ingestor._worker._pool is None  # not left running until the interpreter exits
    ingestor.stop()
