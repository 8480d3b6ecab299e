"""Case accountability: below-threshold flag, escalation, monitoring evidence, measured result.

Revision ID: 0002_cases
Revises: 0001
Create Date: 2026-11-29

Adds nullable columns to ``cases`` only (no data is rewritten):

* ``below_threshold_since`` - the day a refresh found the issue under the case threshold;
* ``escalated_to`` / ``escalated_at`` - the manager an overdue case was escalated to, and when;
* ``evidence`` - monitoring detections (spikes, change points) attached to the case;
* ``measurement_result`` - the estimated effect, its interval and the verdict at closing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

__all__ = ["downgrade", "upgrade"]

revision: str = "0002_cases"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> Any:
    return sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("below_threshold_since", sa.Date(), nullable=True),
        sa.Column("escalated_to", sa.String(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evidence", _json(), nullable=True),
        sa.Column("measurement_result", _json(), nullable=True),
    ]


def upgrade() -> None:
    """Add the accountability columns to ``cases``."""
    for column in _columns():
        op.add_column("cases", column)


def downgrade() -> None:
    """Drop the accountability columns (their values are lost)."""
    for column in reversed(_columns()):
        op.drop_column("cases", column.name)
