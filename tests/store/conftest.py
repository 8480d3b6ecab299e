"""Fixtures for the transactional store; the database URLs come from ``tests/conftest.py``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from cximpact.store.state import StateStore

POSTGRES_URL = os.environ.get(
    "CXIMPACT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def store(db_url: str) -> Iterator[StateStore]:
    """A migrated store on an empty database."""
    with StateStore(db_url) as opened:
        opened.upgrade()
        yield opened


@pytest.fixture
def raw_engine(db_url: str) -> Iterator[Engine]:
    """A plain SQLAlchemy engine on the same database, for checks behind the API's back."""
    engine = create_engine(db_url, poolclass=NullPool)
    yield engine
    engine.dispose()
