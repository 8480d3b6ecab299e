"""Cases and the append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2025-11-23

Creates ``cases`` (with the partial unique index that allows one non-terminal case per issue)
and ``audit_log`` (with triggers that refuse UPDATE and DELETE, on SQLite and PostgreSQL).
The schema is written out here rather than taken from the models, so that later model changes
never rewrite history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

__all__ = ["downgrade", "upgrade"]

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = "state NOT IN ('closed', 'dismissed')"
_STATES = "'open', 'accepted', 'in_progress', 'fix_deployed', 'measuring', 'closed', 'dismissed'"
_SEVERITIES = "'critical', 'high', 'medium', 'low'"
_VERDICTS = "'worked', 'no_evidence', 'worse'"
_REFUSAL = "audit_log is append-only"

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = '{_REFUSAL}: ' || TG_OP || ' is not allowed',
        ERRCODE = 'restrict_violation';
END;
$$
"""
_PG_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)
_SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER audit_log_no_{op_name.lower()} BEFORE {op_name} ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}: {op_name} is not allowed'); END"
    for op_name in ("UPDATE", "DELETE")
)


def _json() -> Any:
    return sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _create_cases() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("issue", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("team", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("opened_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.Column("revenue_at_risk", sa.Double(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("aggregate_ltv", sa.Double(), nullable=False),
        sa.Column("cost_of_inaction", sa.Double(), nullable=False),
        sa.Column("cost_of_intervention", sa.Double(), nullable=False),
        sa.Column("recommended_response", sa.Text(), nullable=False),
        sa.Column("measurement_plan", _json(), nullable=False),
        sa.Column("business_case", _json(), nullable=False),
        sa.Column("verdict", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.CheckConstraint(f"state IN ({_STATES})", name="ck_cases_state"),
        sa.CheckConstraint(f"severity IN ({_SEVERITIES})", name="ck_cases_severity"),
        sa.CheckConstraint(f"verdict IS NULL OR verdict IN ({_VERDICTS})", name="ck_cases_verdict"),
    )
    op.create_index("ix_cases_issue", "cases", ["issue"])
    op.create_index(
        "uq_cases_issue_active",
        "cases",
        ["issue"],
        unique=True,
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("before", _json(), nullable=True),
        sa.Column("after", _json(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])


def _create_guards() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_FUNCTION)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
    elif dialect == "sqlite":
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def _drop_guards() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


def upgrade() -> None:
    """Create ``cases``, ``audit_log`` and the append-only guards."""
    _create_cases()
    _create_audit_log()
    _create_guards()


def downgrade() -> None:
    """Drop the guards and both tables (this deletes every case and audit row)."""
    _drop_guards()
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("uq_cases_issue_active", table_name="cases")
    op.drop_index("ix_cases_issue", table_name="cases")
    op.drop_table("cases")
