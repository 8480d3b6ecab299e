"""Shared fixtures: database URLs for every backend the transactional store supports.

PostgreSQL is ``postgresql+psycopg://postgres@127.0.0.1:5432/test`` unless
``CXIMPACT_TEST_POSTGRES_URL`` names another; each test gets a fresh schema ``t_<random>``
(selected through ``search_path`` in the URL) that is dropped afterwards, so runs never collide.
Deselect the PostgreSQL half with ``-m "not postgres"``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

POSTGRES_URL = os.environ.get(
    "CXIMPACT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of an SQLite file in a fresh temporary folder."""
    return f"sqlite:///{tmp_path_factory.mktemp('state') / 'state.sqlite'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL schema; the schema is dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        where = make_url(POSTGRES_URL).render_as_string()
        pytest.fail(
            f"PostgreSQL at {where} is unreachable ({exc.orig}); "
            "start it, set CXIMPACT_TEST_POSTGRES_URL, or deselect with -m 'not postgres'"
        )
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database, once per backend."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url
