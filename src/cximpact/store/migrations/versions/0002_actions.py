"""Outbound actions: the actions, their transactional outbox and reported outcomes.

Revision ID: 0002_actions
Revises: 0001
Create Date: 2026-11-29

Creates ``actions`` (one row per customer, case and policy; treated or held out),
``action_outbox`` (the messages the worker delivers; ``state = 'dead'`` is the dead letter) and
``action_outcomes`` (append-only outcome reports). Written out by hand, like 0001, so later model
changes never rewrite history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

__all__ = ["downgrade", "upgrade"]

revision: str = "0002_actions"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTION_STATES = "'held_out', 'queued', 'sent', 'dead_letter'"
_OUTBOX_STATES = "'pending', 'delivered', 'dead'"
_OUTCOMES = "'contacted', 'offer_accepted', 'retained', 'churned'"


def _json() -> Any:
    return sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _create_actions() -> None:
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("issue", sa.String(), nullable=False),
        sa.Column("policy", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("churn_probability", sa.Double(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("segment", sa.String(), nullable=True),
        sa.Column("value_tier", sa.String(), nullable=False),
        sa.Column("cost", sa.Double(), nullable=False),
        sa.Column("risk_reduction", sa.Double(), nullable=False),
        sa.Column("expected_uplift", sa.Double(), nullable=False),
        sa.Column("uplift_source", sa.String(), nullable=False),
        sa.Column("context", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("outcome_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_actions"),
        sa.UniqueConstraint("idempotency_key", name="uq_actions_idempotency_key"),
        sa.CheckConstraint(f"state IN ({_ACTION_STATES})", name="ck_actions_state"),
    )
    op.create_index("ix_actions_customer_id", "actions", ["customer_id"])
    op.create_index("ix_actions_case_id", "actions", ["case_id"])
    op.create_index(
        "uq_actions_case_customer_policy",
        "actions",
        ["case_id", "customer_id", "policy"],
        unique=True,
    )
    op.create_index(
        "ix_actions_customer_channel", "actions", ["customer_id", "channel", "created_at"]
    )


def _create_outbox() -> None:
    op.create_table(
        "action_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", _utc(), nullable=False),
        sa.Column("lease_until", _utc(), nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("receipt", _json(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("delivered_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_action_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_action_outbox_idempotency_key"),
        sa.CheckConstraint(f"state IN ({_OUTBOX_STATES})", name="ck_action_outbox_state"),
    )
    op.create_index("ix_action_outbox_action_id", "action_outbox", ["action_id"])
    op.create_index("ix_action_outbox_due", "action_outbox", ["state", "not_before"])


def _create_outcomes() -> None:
    op.create_table(
        "action_outcomes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_action_outcomes"),
        sa.CheckConstraint(f"outcome IN ({_OUTCOMES})", name="ck_action_outcomes_outcome"),
    )
    op.create_index("ix_action_outcomes_action_id", "action_outcomes", ["action_id"])


def upgrade() -> None:
    """Create ``actions``, ``action_outbox`` and ``action_outcomes``."""
    _create_actions()
    _create_outbox()
    _create_outcomes()


def downgrade() -> None:
    """Drop the three tables (this deletes every action, message and outcome)."""
    op.drop_table("action_outcomes")
    op.drop_table("action_outbox")
    op.drop_table("actions")
