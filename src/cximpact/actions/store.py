"""Actions, their transactional outbox and outcomes, in the state store's database.

:class:`ActionStore` is a :class:`~cximpact.store.state.StateStore` (same URL handling, engine,
migrations and error translation) with the action tables of migration ``0002_actions``.

Delivery contract (at-least-once + idempotency key = effectively once):

* an action and its outbox message are written in one transaction, so neither exists alone;
* a worker *claims* due messages by setting a lease (``lease_until``; on PostgreSQL with
  ``FOR UPDATE SKIP LOCKED`` so several workers never claim the same row), sends, then marks
  the message delivered; a worker killed between sending and marking leaves the lease to
  expire and the message is sent again, with the same idempotency key;
* receivers therefore deduplicate on the idempotency key; a crash is never counted as a
  failed attempt, so only real channel failures lead to the dead letter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update

from cximpact.actions.channels.base import Message
from cximpact.errors import ContractError, NotFoundError
from cximpact.store.models import (
    ACTION_OUTCOMES,
    Action,
    ActionOutcome,
    OutboxMessage,
    utcnow,
)
from cximpact.store.state import StateStore

__all__ = ["ActionRecord", "ActionStore", "ClaimedMessage"]

_TERMINAL_OUTCOMES = ("retained", "churned")
_PUBLIC = (
    "id",
    "idempotency_key",
    "customer_id",
    "case_id",
    "issue",
    "policy",
    "action",
    "channel",
    "state",
    "holdout",
    "value_tier",
    "cost",
    "risk_reduction",
    "expected_uplift",
    "uplift_source",
    "created_at",
    "outcome",
    "outcome_at",
)


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """An action as listed: the public fields plus its outbox message's delivery state."""

    id: int
    idempotency_key: str
    customer_id: str
    case_id: int
    issue: str
    policy: str
    action: str
    channel: str
    state: str
    holdout: bool
    value_tier: str
    cost: float
    risk_reduction: float
    expected_uplift: float
    uplift_source: str
    created_at: datetime
    outcome: str | None
    outcome_at: datetime | None
    attempts: int = 0
    last_error: str | None = None
    not_before: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict; times as ISO 8601."""
        return {
            name: (value.isoformat() if isinstance(value, datetime) else value)
            for name in self.__dataclass_fields__
            for value in (getattr(self, name),)
        }


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """An outbox message a worker holds the lease of."""

    outbox_id: int
    message: Message


def _finite(value: Any) -> float:
    number = float(value)
    return number if math.isfinite(number) else 0.0


class ActionStore(StateStore):
    """Cases (inherited), actions, the outbox and outcomes in one SQL database."""

    # -- planning ---------------------------------------------------------------------------

    def add_actions(self, rows: Iterable[Mapping[str, Any]], *, now: datetime | None = None) -> int:
        """Record planned actions and, for treated ones, their outbox messages; atomically.

        Rows whose idempotency key exists already are skipped, so planning twice is harmless.

        Parameters
        ----------
        rows : iterable of mapping
            Keys: ``idempotency_key, customer_id, case_id, issue, policy, action, channel,
            holdout, churn_probability, value, segment, value_tier, cost, risk_reduction,
            expected_uplift, uplift_source, context, not_before``; ``email`` optional.
        now : datetime, optional
            Creation time (aware).

        Returns
        -------
        int
            Actions newly recorded.
        """
        now = now or utcnow()
        rows = list(rows)
        keys = [str(r["idempotency_key"]) for r in rows]
        with self._transaction("record planned actions") as session:
            existing = set(
                session.scalars(
                    select(Action.idempotency_key).where(Action.idempotency_key.in_(keys))
                )
            )
            added = 0
            for row in rows:
                if row["idempotency_key"] in existing:
                    continue
                existing.add(row["idempotency_key"])
                action = self._new_action(row, now)
                session.add(action)
                session.flush()
                if not action.holdout:
                    session.add(self._new_message(action, row, now))
                added += 1
            return added

    @staticmethod
    def _new_action(row: Mapping[str, Any], now: datetime) -> Action:
        holdout = bool(row["holdout"])
        segment = row.get("segment")
        return Action(
            idempotency_key=str(row["idempotency_key"]),
            customer_id=str(row["customer_id"]),
            case_id=int(row["case_id"]),
            issue=str(row["issue"]),
            policy=str(row["policy"]),
            action=str(row["action"]),
            channel=str(row["channel"]),
            state="held_out" if holdout else "queued",
            holdout=holdout,
            churn_probability=_finite(row["churn_probability"]),
            value=_finite(row["value"]),
            segment=None if segment is None or segment != segment else str(segment),
            value_tier=str(row["value_tier"]),
            cost=_finite(row["cost"]),
            risk_reduction=_finite(row["risk_reduction"]),
            expected_uplift=_finite(row["expected_uplift"]),
            uplift_source=str(row["uplift_source"]),
            context=dict(row.get("context") or {}),
            created_at=now,
            updated_at=now,
        )

    @staticmethod
    def _new_message(action: Action, row: Mapping[str, Any], now: datetime) -> OutboxMessage:
        payload: dict[str, Any] = {
            "idempotency_key": action.idempotency_key,
            "customer_id": action.customer_id,
            "case_id": action.case_id,
            "issue": action.issue,
            "action": action.action,
            "policy": action.policy,
            "channel": action.channel,
            "value_tier": action.value_tier,
            "context": action.context,
        }
        email = row.get("email")
        if isinstance(email, str) and email:
            payload["email"] = email
        not_before = row.get("not_before")
        return OutboxMessage(
            action_id=action.id,
            idempotency_key=action.idempotency_key,
            channel=action.channel,
            payload=payload,
            state="pending",
            attempts=0,
            not_before=not_before if isinstance(not_before, datetime) else now,
            created_at=now,
        )

    def planned_pairs(self, case_ids: Iterable[int]) -> set[tuple[int, str]]:
        """``(case_id, customer_id)`` pairs that already have an action (treated or held out)."""
        query = select(Action.case_id, Action.customer_id).where(Action.case_id.in_(list(case_ids)))
        with self._transaction("read planned actions") as session:
            return {(int(k), str(c)) for k, c in session.execute(query)}

    def spent_since(self, since: datetime) -> dict[str, float]:
        """Cost of treated, not dead-lettered actions created since ``since``, by policy."""
        query = (
            select(Action.policy, func.sum(Action.cost))
            .where(
                Action.holdout.is_(False),
                Action.state.in_(("queued", "sent")),
                Action.created_at >= since,
            )
            .group_by(Action.policy)
        )
        with self._transaction("read the spend of the budget window") as session:
            return {str(p): float(c or 0.0) for p, c in session.execute(query)}

    def contact_history(self, since: datetime) -> list[tuple[str, str, datetime]]:
        """``(customer_id, channel, created_at)`` of treated actions created since ``since``."""
        query = select(Action.customer_id, Action.channel, Action.created_at).where(
            Action.holdout.is_(False), Action.created_at >= since
        )
        with self._transaction("read the contact history") as session:
            return [(c, ch, at) for c, ch, at in session.execute(query)]

    # -- listing ----------------------------------------------------------------------------

    def list_actions(
        self,
        *,
        state: str | None = None,
        case_id: int | None = None,
        ids: Iterable[int] | None = None,
        limit: int | None = None,
    ) -> list[ActionRecord]:
        """Actions with their delivery state, newest first."""
        query = (
            select(
                Action, OutboxMessage.attempts, OutboxMessage.last_error, OutboxMessage.not_before
            )
            .outerjoin(OutboxMessage, OutboxMessage.action_id == Action.id)
            .order_by(Action.id.desc())
        )
        if state is not None:
            query = query.where(Action.state == state)
        if case_id is not None:
            query = query.where(Action.case_id == case_id)
        if ids is not None:
            query = query.where(Action.id.in_(list(ids)))
        if limit is not None:
            query = query.limit(limit)
        with self._transaction("list actions") as session:
            return [
                ActionRecord(
                    **{name: getattr(action, name) for name in _PUBLIC},
                    attempts=attempts or 0,
                    last_error=error,
                    not_before=not_before,
                )
                for action, attempts, error, not_before in session.execute(query)
            ]

    def outbox_counts(self) -> dict[str, int]:
        """Messages per outbox state (``pending``, ``delivered``, ``dead``)."""
        query = select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        with self._transaction("count outbox messages") as session:
            counts = {"pending": 0, "delivered": 0, "dead": 0}
            counts.update({state: int(n) for state, n in session.execute(query)})
            return counts

    # -- delivery ---------------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        """Earliest moment a pending message can be claimed (its ``not_before`` or lease end)."""
        ready = case(
            (OutboxMessage.lease_until > OutboxMessage.not_before, OutboxMessage.lease_until),
            else_=OutboxMessage.not_before,
        )
        query = select(func.min(ready)).where(OutboxMessage.state == "pending")
        with self._transaction("find the next due message") as session:
            value = session.execute(query).scalar_one_or_none()
        if isinstance(value, str):  # SQLite returns a computed timestamp as text
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def claim(
        self, owner: str, *, limit: int, lease_s: float, now: datetime | None = None
    ) -> list[ClaimedMessage]:
        """Lease up to ``limit`` due messages (pending, ``not_before`` passed, lease free)."""
        now = now or utcnow()
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.state == "pending",
                OutboxMessage.not_before <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
            )
            .order_by(OutboxMessage.not_before, OutboxMessage.id)
            .limit(limit)
        )
        if self._engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        with self._transaction("claim outbox messages") as session:
            claimed = []
            for row in session.scalars(query):
                row.lease_until = now + timedelta(seconds=lease_s)
                row.lease_owner = owner
                claimed.append(
                    ClaimedMessage(
                        row.id,
                        Message(
                            row.idempotency_key, row.channel, dict(row.payload), row.attempts + 1
                        ),
                    )
                )
            return claimed

    def mark_delivered(
        self, outbox_id: int, receipt: Mapping[str, Any], *, now: datetime | None = None
    ) -> bool:
        """Mark a message delivered and its action ``sent``; False if it was no longer pending."""
        return self.mark_delivered_many([(outbox_id, receipt)], now=now) == 1

    def mark_delivered_many(
        self, receipts: Iterable[tuple[int, Mapping[str, Any]]], *, now: datetime | None = None
    ) -> int:
        """Record several deliveries in one transaction (one commit); returns how many were new.

        Messages no longer pending (recorded already, for example by a worker whose lease ran
        out) are left as they are.
        """
        now = now or utcnow()
        receipts = list(receipts)
        with self._transaction(f"mark {len(receipts)} outbox message(s) delivered") as session:
            sent = []
            for outbox_id, receipt in receipts:
                action_id = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == outbox_id, OutboxMessage.state == "pending")
                    .values(
                        state="delivered",
                        delivered_at=now,
                        receipt=dict(receipt),
                        lease_until=None,
                        last_error=None,
                    )
                    .returning(OutboxMessage.action_id)
                ).scalar_one_or_none()
                if action_id is not None:
                    sent.append(action_id)
            if sent:
                session.execute(
                    update(Action).where(Action.id.in_(sent)).values(state="sent", updated_at=now)
                )
            return len(sent)

    def mark_failed(
        self,
        outbox_id: int,
        error: str,
        *,
        retry_at: datetime | None,
        now: datetime | None = None,
    ) -> bool:
        """Count a failed attempt: retry at ``retry_at``, or dead-letter when it is None."""
        now = now or utcnow()
        values: dict[str, Any] = {
            "attempts": OutboxMessage.attempts + 1,
            "last_error": error[:2000],
            "lease_until": None,
        }
        if retry_at is None:
            values["state"] = "dead"
        else:
            values["not_before"] = retry_at
        with self._transaction(f"record a failed delivery of message {outbox_id}") as session:
            action_id = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outbox_id, OutboxMessage.state == "pending")
                .values(**values)
                .returning(OutboxMessage.action_id)
            ).scalar_one_or_none()
            if action_id is None:
                return False
            if retry_at is None:
                session.execute(
                    update(Action)
                    .where(Action.id == action_id)
                    .values(state="dead_letter", updated_at=now)
                )
            return True

    def requeue_dead(
        self, keys: Iterable[str] | None = None, *, now: datetime | None = None
    ) -> int:
        """Send dead-lettered messages again (all, or those with the given keys)."""
        now = now or utcnow()
        where = [OutboxMessage.state == "dead"]
        if keys is not None:
            where.append(OutboxMessage.idempotency_key.in_(list(keys)))
        with self._transaction("requeue dead letters") as session:
            ids = list(
                session.scalars(
                    update(OutboxMessage)
                    .where(*where)
                    .values(state="pending", attempts=0, not_before=now, lease_until=None)
                    .returning(OutboxMessage.action_id)
                )
            )
            if ids:
                session.execute(
                    update(Action).where(Action.id.in_(ids)).values(state="queued", updated_at=now)
                )
            return len(ids)

    # -- outcomes ---------------------------------------------------------------------------

    def record_outcome(
        self,
        outcome: str,
        *,
        idempotency_key: str | None = None,
        customer_id: str | None = None,
        case_id: int | None = None,
        at: datetime | None = None,
        source: str = "cli",
    ) -> list[ActionRecord]:
        """Record an outcome for one action (by key) or for a customer's actions of a case.

        Returns
        -------
        list of ActionRecord
            The actions the outcome was recorded on.

        Raises
        ------
        ContractError
            If the outcome is unknown or neither a key nor customer and case are given.
        NotFoundError
            If no action matches.
        """
        if outcome not in ACTION_OUTCOMES:
            raise ContractError(f"outcome {outcome!r} is not one of {', '.join(ACTION_OUTCOMES)}")
        query = select(Action)
        if idempotency_key:
            query = query.where(Action.idempotency_key == idempotency_key)
        elif customer_id and case_id is not None:
            query = query.where(Action.customer_id == customer_id, Action.case_id == case_id)
        else:
            raise ContractError(
                "an outcome needs an idempotency_key, or a customer_id and a case_id"
            )
        at = at or utcnow()
        with self._transaction(f"record outcome {outcome!r}") as session:
            actions = list(session.scalars(query))
            if not actions:
                raise NotFoundError(
                    f"no action for {idempotency_key or (customer_id, case_id)}; list them with "
                    "`cximpact actions`"
                )
            for action in actions:
                session.add(
                    ActionOutcome(action_id=action.id, outcome=outcome, at=at, source=source)
                )
                if action.outcome not in _TERMINAL_OUTCOMES or outcome in _TERMINAL_OUTCOMES:
                    action.outcome, action.outcome_at, action.updated_at = outcome, at, utcnow()
            ids = [a.id for a in actions]
        return self.list_actions(ids=ids)

    def measured_actions(self) -> list[dict[str, Any]]:
        """Actions with a final outcome: features, arm and whether the customer churned."""
        query = select(Action).where(Action.outcome.in_(_TERMINAL_OUTCOMES))
        with self._transaction("read measured actions") as session:
            return [
                {
                    "case_id": a.case_id,
                    "customer_id": a.customer_id,
                    "policy": a.policy,
                    "holdout": a.holdout,
                    "churn_probability": a.churn_probability,
                    "value": a.value,
                    "churned": a.outcome == "churned",
                }
                for a in session.scalars(query)
            ]

    def get_action(self, idempotency_key: str) -> ActionRecord:
        """One action by its idempotency key."""
        with self._transaction("read an action") as session:
            action = session.scalars(
                select(Action).where(Action.idempotency_key == idempotency_key)
            ).first()
            if action is None:
                raise NotFoundError(f"no action with idempotency key {idempotency_key!r}")
            action_id = action.id
        return self.list_actions(ids=[action_id])[0]
