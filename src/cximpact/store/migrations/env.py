"""Alembic environment of the transactional store.

Run programmatically by :meth:`cximpact.store.state.StateStore.upgrade`, which passes an open
connection in ``config.attributes["connection"]``; without one, an engine is built from the
``sqlalchemy.url`` option (``alembic -x``-free command-line use) and offline mode renders SQL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from cximpact.store.models import Base

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Render the migrations as SQL for the configured URL, without connecting."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the passed connection, or through a fresh engine on the URL."""
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _configure(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection passed and no sqlalchemy.url set for the migrations")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as fresh:
            _configure(fresh)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
