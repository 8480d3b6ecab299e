"""The long-running server tunes the interpreter for latency: GIL hand-offs and the collector."""

from __future__ import annotations

import gc
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cximpact.service.app import GIL_SWITCH_SECONDS, create_app
from cximpact.settings import load_settings


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    sys.setswitchinterval(interval)


def _started(
    enterprise_dir: Path, tmp_path: Path, *, settle_interpreter: bool
) -> tuple[int, int, float]:
    db = tmp_path / "cx.duckdb"
    shutil.copy(enterprise_dir / "base.duckdb", db)
    app = create_app(load_settings(db=db), refit=False, settle_interpreter=settle_interpreter)
    with TestClient(app):
        return gc.get_freeze_count(), gc.get_threshold()[0], sys.getswitchinterval()


def test_serve_hands_the_gil_over_sooner_and_freezes_what_startup_built(
    enterprise_dir: Path, tmp_path: Path, restore_gc: None
) -> None:
    frozen, young, interval = _started(enterprise_dir, tmp_path, settle_interpreter=True)
    assert frozen > 0
    assert young == 20_000
    assert interval == pytest.approx(GIL_SWITCH_SECONDS)


def test_apps_built_elsewhere_leave_the_collector_alone(
    enterprise_dir: Path, tmp_path: Path, restore_gc: None
) -> None:
    before, interval_before = gc.get_threshold(), sys.getswitchinterval()
    frozen, young, interval = _started(enterprise_dir, tmp_path, settle_interpreter=False)
    assert frozen == 0
    assert young == before[0]
    assert interval == interval_before
