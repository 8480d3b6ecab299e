"""Fixtures of the service tests: a small simulated enterprise, tokens per role, running apps.

The enterprise is ingested once per session; each app gets its own copy of the stores, so a
test that writes never changes what another app's tests read.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cximpact.flow import ingest_directory
from cximpact.service.app import create_app
from cximpact.service.auth import ROLES, TokenStore
from cximpact.service.live import Ingestor
from cximpact.settings import Settings, load_settings
from cximpact.simulate import SimulationConfig, simulate, write_enterprise
from cximpact.store.analytics import AnalyticsStore

#: Low thresholds so that several issues of the small enterprise get a case.
TEST_SETTINGS: dict[str, Any] = {"case_threshold_amount": 200.0, "case_threshold_share": 0.02}


@dataclass
class Running:
    """A started app, its client, its settings and one token per role."""

    app: FastAPI
    client: TestClient
    settings: Settings
    tokens: dict[str, str]
    owner_name: str

    def headers(self, role: str | None) -> dict[str, str]:
        """Authorization header of ``role`` (none for ``None``)."""
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture(scope="session")
def enterprise_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding a 600-customer simulated enterprise (ingested, not analysed)."""
    root = tmp_path_factory.mktemp("enterprise")
    enterprise = simulate(SimulationConfig(customers=600, days=120, seed=3))
    write_enterprise(enterprise, root / "data")
    settings = load_settings(db=root / "base.duckdb")
    with AnalyticsStore(settings.db) as store:
        ingest_directory(store, root / "data", settings)
    return root


def ingestor_on_copy(
    enterprise_dir: Path, where: Path, **overrides: Any
) -> tuple[Ingestor, TokenStore]:
    """An ingestor (not started) on a copy of the enterprise's store in ``where``, auditing to
    its token store (returned too: the caller closes it)."""
    db = where / "cx.duckdb"
    shutil.copy(enterprise_dir / "base.duckdb", db)
    settings = load_settings(db=db, **overrides)
    tokens = TokenStore(settings.state_url())
    tokens.upgrade()
    return Ingestor(settings, tokens, tokens.record), tokens


def start(
    enterprise_dir: Path, where: Path, *, refit: bool = True, **overrides: Any
) -> Iterator[Running]:
    """Copy the enterprise's store to ``where``, issue tokens, start the app."""
    where.mkdir(parents=True, exist_ok=True)
    db = where / "cx.duckdb"
    shutil.copy(enterprise_dir / "base.duckdb", db)
    settings = load_settings(db=db, **(TEST_SETTINGS | overrides))
    owner_name = "noc-manager"
    with TokenStore(settings.state_url()) as store:
        store.upgrade()
        tokens = {
            role: store.create_token(
                role, role, owner=owner_name if role == "owner" else None, actor="test"
            )[1]
            for role in ROLES
        }
    app = create_app(settings, refit=refit)
    with TestClient(app) as client:
        yield Running(app, client, settings, tokens, owner_name)


@pytest.fixture(scope="session")
def running(enterprise_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The service on the analysed enterprise (shared by read-mostly tests)."""
    yield from start(enterprise_dir, tmp_path_factory.mktemp("running"))


@pytest.fixture
def bare(enterprise_dir: Path, tmp_path: Path) -> Iterator[Running]:
    """A service without the batch analysis (fast to start) and a tight rate limit."""
    yield from start(
        enterprise_dir,
        tmp_path,
        refit=False,
        service_rate_limit=1.0,
        service_rate_burst=3,
        service_max_body_bytes=2000,
        service_max_batch=3,
    )
