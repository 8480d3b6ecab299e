"""The long-running server keeps the cyclic garbage collector off the answer path."""

from __future__ import annotations

import gc
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cximpact.service.app import create_app
from cximpact.settings import load_settings


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def _started(enterprise_dir: Path, tmp_path: Path, *, settle_gc: bool) -> tuple[int, int]:
    db = tmp_path / "cx.duckdb"
    shutil.copy(enterprise_dir / "base.duckdb", db)
    app = create_app(load_settings(db=db), refit=False, settle_gc=settle_gc)
    with TestClient(app):
        return gc.get_freeze_count(), gc.get_threshold()[0]


def test_serve_freezes_what_startup_built_and_collects_less_often(
    enterprise_dir: Path, tmp_path: Path, restore_gc: None
) -> None:
    frozen, young = _started(enterprise_dir, tmp_path, settle_gc=True)
    assert frozen > 0
    assert young == 20_000


def test_apps_built_elsewhere_leave_the_collector_alone(
    enterprise_dir: Path, tmp_path: Path, restore_gc: None
) -> None:
    before = gc.get_threshold()
    frozen, young = _started(enterprise_dir, tmp_path, settle_gc=False)
    assert frozen == 0
    assert young == before[0]
