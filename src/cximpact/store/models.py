"""ORM models of the transactional store: owned cases and their append-only audit log.

The schema itself is created by the Alembic migrations in :mod:`cximpact.store.migrations`;
these models mirror it and must change together with a new migration.

Invariants kept by the database as well as by :mod:`cximpact.store.state`:

* at most one non-terminal case per issue (partial unique index ``uq_cases_issue_active``);
* ``state``, ``severity`` and ``verdict`` take only their declared values (check constraints);
* ``audit_log`` rows are never updated or deleted (triggers created by the migration).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = [
    "ACTION_OUTCOMES",
    "ACTION_STATES",
    "ACTIVE_CASE_WHERE",
    "API_ROLES",
    "CASE_STATES",
    "OUTBOX_STATES",
    "SEVERITIES",
    "TERMINAL_STATES",
    "VERDICTS",
    "Action",
    "ActionOutcome",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Case",
    "OutboxMessage",
    "UTCDateTime",
    "json_type",
    "utcnow",
]

CASE_STATES: tuple[str, ...] = (
    "open",
    "accepted",
    "in_progress",
    "fix_deployed",
    "measuring",
    "closed",
    "dismissed",
)
"""Every state a case can be in, in lifecycle order."""

TERMINAL_STATES: frozenset[str] = frozenset({"closed", "dismissed"})
"""States a case never leaves; an issue may get a new case once its case is terminal."""

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
"""Severity levels, most severe first."""

VERDICTS: tuple[str, ...] = ("worked", "no_evidence", "worse")
"""Outcome of a closed case's measurement."""

ACTIVE_CASE_WHERE = "state NOT IN ('closed', 'dismissed')"
"""SQL predicate of a non-terminal case; the ``WHERE`` of the partial unique index."""

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime.

    Returns
    -------
    datetime
        ``datetime.now(UTC)``.
    """
    return datetime.now(UTC)


def json_type() -> TypeEngine[Any]:
    """Return the JSON column type: ``JSONB`` on PostgreSQL, ``JSON`` elsewhere.

    Python ``None`` is stored as SQL ``NULL`` (not the JSON literal ``null``).

    Returns
    -------
    TypeEngine
        The dialect-variant JSON type.
    """
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores ``timestamptz``; SQLite, which has no time zones, stores naive UTC text.
    Naive datetimes are refused on the way in, so local times never slip in unlabelled.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive UTC for SQLite).

        Parameters
        ----------
        value : datetime or None
            The value to store; must be timezone-aware.
        dialect : Dialect
            The database dialect in use.

        Returns
        -------
        datetime or None
            The value in UTC.

        Raises
        ------
        ValueError
            If ``value`` is naive.
        """
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused; pass an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored value as an aware UTC datetime.

        Parameters
        ----------
        value : datetime or None
            The value read from the database.
        dialect : Dialect
            The database dialect in use.

        Returns
        -------
        datetime or None
            The value with ``tzinfo=UTC``.
        """
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base of the store's models, with a constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        date: Date(),
        float: Double(),
        str: String(),
        dict[str, Any]: json_type(),
    }


class Case(Base):
    """One owned case: an issue's revenue at risk, who owns the fix and how it ends."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue: Mapped[str] = mapped_column(index=True)
    state: Mapped[str]
    severity: Mapped[str]
    team: Mapped[str]
    owner: Mapped[str]
    due: Mapped[date]
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    revenue_at_risk: Mapped[float]
    customers: Mapped[int]
    aggregate_ltv: Mapped[float]
    cost_of_inaction: Mapped[float]
    cost_of_intervention: Mapped[float]
    recommended_response: Mapped[str] = mapped_column(Text)
    measurement_plan: Mapped[dict[str, Any]]
    business_case: Mapped[dict[str, Any]]
    verdict: Mapped[str | None]
    reason: Mapped[str | None] = mapped_column(Text)
    below_threshold_since: Mapped[date | None]
    escalated_to: Mapped[str | None]
    escalated_at: Mapped[datetime | None]
    evidence: Mapped[dict[str, Any] | None]
    measurement_result: Mapped[dict[str, Any] | None]

    __table_args__ = (
        CheckConstraint(_in("state", CASE_STATES), name="state"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        CheckConstraint(f"verdict IS NULL OR {_in('verdict', VERDICTS)}", name="verdict"),
        Index(
            "uq_cases_issue_active",
            "issue",
            unique=True,
            sqlite_where=text(ACTIVE_CASE_WHERE),
            postgresql_where=text(ACTIVE_CASE_WHERE),
        ),
    )


class AuditEntry(Base):
    """One append-only audit row: who did what to which entity, with before/after snapshots."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str]
    action: Mapped[str]
    entity: Mapped[str]
    entity_id: Mapped[int]
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)


# -- outbound actions (issue 7; migration 0002_actions) ---------------------------------------

ACTION_STATES: tuple[str, ...] = ("held_out", "queued", "sent", "dead_letter")
"""States of an action: held out for measurement, waiting in the outbox, delivered, given up."""

OUTBOX_STATES: tuple[str, ...] = ("pending", "delivered", "dead")
"""States of an outbox message; ``dead`` is the dead letter."""

ACTION_OUTCOMES: tuple[str, ...] = ("contacted", "offer_accepted", "retained", "churned")
"""Outcomes reported back for an action (or for a held-out customer)."""


class Action(Base):
    """One planned action for one customer of one case; treated or held out."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(unique=True)
    customer_id: Mapped[str] = mapped_column(index=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    issue: Mapped[str]
    policy: Mapped[str]
    action: Mapped[str]
    channel: Mapped[str]
    state: Mapped[str]
    holdout: Mapped[bool]
    churn_probability: Mapped[float]
    value: Mapped[float]
    segment: Mapped[str | None]
    value_tier: Mapped[str]
    cost: Mapped[float]
    risk_reduction: Mapped[float]
    expected_uplift: Mapped[float]
    uplift_source: Mapped[str]
    context: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    outcome: Mapped[str | None]
    outcome_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_in("state", ACTION_STATES), name="state"),
        Index("uq_actions_case_customer_policy", "case_id", "customer_id", "policy", unique=True),
        Index("ix_actions_customer_channel", "customer_id", "channel", "created_at"),
    )


class OutboxMessage(Base):
    """One message to deliver, written in the same transaction as its action (the outbox)."""

    __tablename__ = "action_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(Integer, index=True)
    idempotency_key: Mapped[str] = mapped_column(unique=True)
    channel: Mapped[str]
    payload: Mapped[dict[str, Any]]
    state: Mapped[str]
    attempts: Mapped[int]
    not_before: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_in("state", OUTBOX_STATES), name="state"),
        Index("ix_action_outbox_due", "state", "not_before"),
    )


class ActionOutcome(Base):
    """One reported outcome of an action (append-only; the latest is copied onto the action)."""

    __tablename__ = "action_outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(Integer, index=True)
    outcome: Mapped[str]
    at: Mapped[datetime]
    source: Mapped[str]

    __table_args__ = (CheckConstraint(_in("outcome", ACTION_OUTCOMES), name="outcome"),)


# -- API tokens of the HTTP service (issue 8; migration 0002_tokens) --------------------------

API_ROLES: tuple[str, ...] = ("viewer", "analyst", "owner", "admin")
"""Roles an API token can carry, least privileged first."""


class ApiToken(Base):
    """One issued API token: its role and the SHA-256 of its secret (never the secret)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str]
    role: Mapped[str]
    owner: Mapped[str | None]
    prefix: Mapped[str]
    token_hash: Mapped[str]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_in("role", API_ROLES), name="role"),
        Index("uq_api_tokens_token_hash", "token_hash", unique=True),
    )
