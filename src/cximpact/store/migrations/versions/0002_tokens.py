"""API tokens of the HTTP service (hashed at rest).

Revision ID: 0002_tokens
Revises: 0001
Create Date: 2026-11-29

Creates ``api_tokens``: one row per issued token with its role, the SHA-256 of the secret (the
secret itself is shown once and never stored), a short prefix to recognise it, and the time it
was revoked. A branch of its own from 0001, so it applies beside the other features' branches.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__ = ["downgrade", "upgrade"]

revision: str = "0002_tokens"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLES = "'viewer', 'analyst', 'owner', 'admin'"


def upgrade() -> None:
    """Create ``api_tokens`` with a unique index on the token hash."""
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("prefix", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.CheckConstraint(f"role IN ({_ROLES})", name="ck_api_tokens_role"),
    )
    op.create_index("uq_api_tokens_token_hash", "api_tokens", ["token_hash"], unique=True)


def downgrade() -> None:
    """Drop ``api_tokens`` (every issued token stops working)."""
    op.drop_index("uq_api_tokens_token_hash", table_name="api_tokens")
    op.drop_table("api_tokens")
