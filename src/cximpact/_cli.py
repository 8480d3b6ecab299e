"""Pieces every command module shares: the ``--db`` and ``--json`` options, JSON output, and
opening the transactional store a run created.

Kept apart from :mod:`cximpact.cli` so that the subpackages' command modules, which ``cli``
imports, can use them without an import cycle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cximpact.errors import NotFoundError
from cximpact.settings import Settings

if TYPE_CHECKING:  # the store (SQLAlchemy, Alembic) is imported by the commands that open it
    from cximpact.store.state import StateStore

__all__ = ["DbOption", "JsonOption", "db_from_context", "open_state", "print_json"]

DbOption = Annotated[
    Path | None, typer.Option("--db", help="DuckDB analytics file [default: ./cximpact.duckdb]")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]

Store = TypeVar("Store", bound="StateStore")


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (dates and other values as strings)."""
    typer.echo(json.dumps(data, indent=2, default=str))


def db_from_context(db: Path | None, ctx: typer.Context | None) -> Path | None:
    """``--db`` given to the subcommand, or before it (``cximpact cases --db X show 1``)."""
    if db is None and ctx is not None and ctx.parent is not None and ctx.parent.params.get("db"):
        return Path(ctx.parent.params["db"])
    return db


def open_state(settings: Settings, store: type[Store], nothing_yet: str) -> Store:
    """Open and migrate the transactional store of a run.

    Raises
    ------
    NotFoundError
        No database URL is configured and the run's SQLite file does not exist; the message
        starts with ``nothing_yet`` (for example "no cases yet").
    """
    sqlite_file = settings.db.with_suffix(".state.sqlite")
    if settings.database_url is None and not sqlite_file.exists():
        raise NotFoundError(
            f"{nothing_yet}: {sqlite_file} does not exist; run `cximpact run --db {settings.db}` "
            "first, or pass the --db you ran with"
        )
    opened = store(settings.state_url())
    opened.upgrade()
    return opened
