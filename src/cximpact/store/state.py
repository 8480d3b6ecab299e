"""The transactional store: owned cases and their append-only audit log.

One :class:`StateStore` talks to one SQLAlchemy URL (SQLite by default, PostgreSQL through
``CXIMPACT_DATABASE_URL``). The schema is created and upgraded by the Alembic migrations shipped
in :mod:`cximpact.store.migrations`; :meth:`StateStore.upgrade` runs them programmatically.

A case moves ``open → accepted → in_progress → fix_deployed → measuring → closed``; any
non-terminal case may be ``dismissed`` (with a reason); closing needs a verdict. Each issue has
at most one non-terminal case, enforced here and by a partial unique index. Every write appends
an audit row with before/after snapshots; the API offers no way to change or delete one.

Examples
--------
>>> store = StateStore("sqlite://")
>>> store.upgrade()
>>> case, created = store.upsert_case(
...     "billing/double-charge", {"severity": "high", "due": "2030-01-31"}
... )
>>> created, case.state
(True, 'open')
>>> store.transition(case.id, "accepted", actor="ana").state
'accepted'
>>> store.close()
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from cximpact.errors import ContractError, NotFoundError, StateError, StoreError
from cximpact.settings import Settings
from cximpact.store._closing import Closing
from cximpact.store.models import (
    CASE_STATES,
    SEVERITIES,
    TERMINAL_STATES,
    VERDICTS,
    AuditEntry,
    Case,
    utcnow,
)

__all__ = [
    "CASE_FIELDS",
    "CASE_STATES",
    "MIGRATIONS_DIR",
    "NEXT_STATE",
    "REQUIRED_ON_OPEN",
    "SEVERITIES",
    "TERMINAL_STATES",
    "VERDICTS",
    "AuditRecord",
    "CaseRecord",
    "StateStore",
    "allowed_next_states",
    "mask_url",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""Alembic script location shipped inside the package."""

NEXT_STATE: dict[str, str] = {
    "open": "accepted",
    "accepted": "in_progress",
    "in_progress": "fix_deployed",
    "fix_deployed": "measuring",
    "measuring": "closed",
}
"""The forward step of each non-terminal state; any of them may also go to ``dismissed``."""

_MEASURED: tuple[str, ...] = (
    "severity",
    "revenue_at_risk",
    "customers",
    "aggregate_ltv",
    "cost_of_inaction",
    "cost_of_intervention",
    "recommended_response",
    "measurement_plan",
    "business_case",
)
_HUMAN_OWNED: tuple[str, ...] = ("team", "owner", "due")
_FLAGS: tuple[str, ...] = ("below_threshold_since", "evidence")

CASE_FIELDS: frozenset[str] = frozenset(_MEASURED + _HUMAN_OWNED + _FLAGS)
"""Keys :meth:`StateStore.upsert_case` accepts in ``fields``."""

REQUIRED_ON_OPEN: tuple[str, ...] = ("severity", "due")
"""Keys ``fields`` must hold when a new case is opened; the rest have defaults."""

_DEFAULTS: dict[str, Any] = {
    "team": "unassigned",
    "owner": "unassigned",
    "revenue_at_risk": 0.0,
    "customers": 0,
    "aggregate_ltv": 0.0,
    "cost_of_inaction": 0.0,
    "cost_of_intervention": 0.0,
    "recommended_response": "",
    "measurement_plan": {},
    "business_case": {},
}
_MONEY = ("revenue_at_risk", "aggregate_ltv", "cost_of_inaction", "cost_of_intervention")
_SYSTEM_ACTIONS = ("open", "refresh")


def allowed_next_states(state: str) -> tuple[str, ...]:
    """Return the states a case in ``state`` may move to.

    Parameters
    ----------
    state : str
        The current state.

    Returns
    -------
    tuple of str
        The forward step and ``dismissed``; empty for a terminal state.
    """
    if state in TERMINAL_STATES or state not in NEXT_STATE:
        return ()
    return (NEXT_STATE[state], "dismissed")


def mask_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``, for messages and logs.

    Parameters
    ----------
    url : str
        An SQLAlchemy URL, valid or not.

    Returns
    -------
    str
        The URL without its password.
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case as the store returns it; detached from any database session."""

    id: int
    issue: str
    state: str
    severity: str
    team: str
    owner: str
    due: date
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    revenue_at_risk: float
    customers: int
    aggregate_ltv: float
    cost_of_inaction: float
    cost_of_intervention: float
    recommended_response: str
    measurement_plan: dict[str, Any] = field(default_factory=dict)
    business_case: dict[str, Any] = field(default_factory=dict)
    verdict: str | None = None
    reason: str | None = None
    below_threshold_since: date | None = None
    escalated_to: str | None = None
    escalated_at: datetime | None = None
    evidence: dict[str, Any] | None = None
    measurement_result: dict[str, Any] | None = None

    @property
    def terminal(self) -> bool:
        """Whether the case is closed or dismissed."""
        return self.state in TERMINAL_STATES

    @property
    def allowed_next(self) -> tuple[str, ...]:
        """States this case may move to next."""
        return allowed_next_states(self.state)

    @property
    def stale(self) -> bool:
        """Whether the last refresh found the issue below the case threshold."""
        return self.below_threshold_since is not None

    def overdue(self, today: date) -> bool:
        """Whether the case is past its due date on ``today`` and not yet terminal."""
        return not self.terminal and self.due < today

    @classmethod
    def from_model(cls, case: Case) -> CaseRecord:
        """Copy an ORM :class:`~cximpact.store.models.Case` into a record.

        Parameters
        ----------
        case : Case
            A loaded or flushed ORM object.

        Returns
        -------
        CaseRecord
            The detached record.
        """
        return cls(
            **{name: getattr(case, name) for name in cls.__dataclass_fields__},
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict; dates and times as ISO 8601 strings.

        Returns
        -------
        dict
            Every field of the case.
        """
        return {name: _iso(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit-log row: who did what to which entity, with before/after snapshots."""

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def from_model(cls, entry: AuditEntry) -> AuditRecord:
        """Copy an ORM :class:`~cximpact.store.models.AuditEntry` into a record.

        Parameters
        ----------
        entry : AuditEntry
            A loaded ORM object.

        Returns
        -------
        AuditRecord
            The detached record.
        """
        return cls(**{name: getattr(entry, name) for name in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict; ``at`` as an ISO 8601 string.

        Returns
        -------
        dict
            Every field of the entry.
        """
        return {name: _iso(getattr(self, name)) for name in self.__dataclass_fields__}


class StateStore(Closing):
    """Cases and the audit log in one SQL database.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, for example ``sqlite:///cximpact.state.sqlite`` or
        ``postgresql+psycopg://user@host/db``. ``sqlite://`` is an in-memory store.

    Raises
    ------
    StoreError
        If the URL cannot be parsed or its driver is not installed. Connection problems
        surface on first use (usually :meth:`upgrade`).
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._masked = mask_url(url)
        self._engine = self._create_engine(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> StateStore:
        """Open the store named by ``settings.state_url()``.

        Parameters
        ----------
        settings : Settings
            Loaded settings.

        Returns
        -------
        StateStore
            A store on the configured URL (not yet migrated).
        """
        return cls(settings.state_url())

    @property
    def url(self) -> str:
        """The store's URL with the password masked."""
        return self._masked

    def __repr__(self) -> str:
        return f"StateStore({self._masked!r})"

    def close(self) -> None:
        """Release every pooled connection; the store cannot be used afterwards."""
        self._closed = True
        self._engine.dispose()

    # -- schema -----------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Create or upgrade the schema to the newest migration of every branch (no-op if current).

        Raises
        ------
        StoreError
            If the database cannot be reached or a migration fails.
        """
        config = self._alembic_config()
        with self._errors("migrate the schema"), self._engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")

    def _alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", self._url.replace("%", "%%"))
        return config

    # -- cases ------------------------------------------------------------------------------

    def upsert_case(
        self, issue: str, fields: Mapping[str, Any], *, actor: str = "cximpact"
    ) -> tuple[CaseRecord, bool]:
        """Open a case for ``issue``, or refresh its one non-terminal case.

        A refresh updates the measured values (severity, amounts, recommended response,
        measurement plan, business case). ``team``, ``owner`` and ``due`` are updated only
        while they still hold the values the system last wrote, so a human's assignment sticks.
        ``below_threshold_since`` keeps the first day it was set until a refresh clears it with
        ``None``; ``evidence`` detections are appended, never duplicated. The state is never
        changed here. Either way one audit row records before and after.

        Parameters
        ----------
        issue : str
            The issue (root cause) the case is about.
        fields : Mapping
            Values for the keys in :data:`CASE_FIELDS`; :data:`REQUIRED_ON_OPEN` are needed
            when a new case is opened. ``due`` may be a date or an ISO date string.
        actor : str, optional
            Who writes; recorded in the audit log.

        Returns
        -------
        tuple of (CaseRecord, bool)
            The case after the write, and whether it was newly opened.

        Raises
        ------
        ContractError
            If ``fields`` has unknown keys or invalid values, or lacks a required key on open.
        StoreError
            If the database write fails.
        """
        issue = _text("issue", issue)
        actor = _text("actor", actor)
        clean = _clean_fields(fields)
        with self._errors(f"upsert the case of issue {issue!r}"):
            try:
                return self._upsert_once(issue, clean, actor)
            except IntegrityError:
                # Another writer opened the issue's case between our read and our insert
                # (the partial unique index refused ours): refresh that case instead.
                return self._upsert_once(issue, clean, actor)

    def list_cases(
        self, *, state: str | None = None, include_terminal: bool = True
    ) -> list[CaseRecord]:
        """Return cases, largest revenue at risk first.

        Parameters
        ----------
        state : str, optional
            Only cases in this state.
        include_terminal : bool, optional
            Include closed and dismissed cases (default ``True``).

        Returns
        -------
        list of CaseRecord
            Ordered by ``revenue_at_risk`` descending, then by id.

        Raises
        ------
        ContractError
            If ``state`` is not a known state.
        StoreError
            If the database read fails.
        """
        query = select(Case).order_by(Case.revenue_at_risk.desc(), Case.id)
        if state is not None:
            query = query.where(Case.state == _known(state, CASE_STATES, "state"))
        if not include_terminal:
            query = query.where(Case.state.not_in(sorted(TERMINAL_STATES)))
        with self._transaction("list cases") as session:
            return [CaseRecord.from_model(case) for case in session.scalars(query)]

    def get_case(self, case_id: int) -> CaseRecord:
        """Return one case.

        Parameters
        ----------
        case_id : int
            The case's id.

        Returns
        -------
        CaseRecord
            The case.

        Raises
        ------
        NotFoundError
            If no case has this id.
        StoreError
            If the database read fails.
        """
        with self._transaction(f"read case {case_id}") as session:
            return CaseRecord.from_model(self._load(session, case_id))

    def transition(
        self,
        case_id: int,
        new_state: str,
        *,
        actor: str,
        reason: str | None = None,
        verdict: str | None = None,
    ) -> CaseRecord:
        """Move a case to its next state.

        Parameters
        ----------
        case_id : int
            The case's id.
        new_state : str
            The target state; see :func:`allowed_next_states`.
        actor : str
            Who moves it; recorded in the audit log.
        reason : str, optional
            Why; required when dismissing.
        verdict : str, optional
            The measured outcome, one of :data:`VERDICTS`; required when closing and refused
            otherwise.

        Returns
        -------
        CaseRecord
            The case after the transition.

        Raises
        ------
        NotFoundError
            If no case has this id.
        StateError
            If the transition is not allowed, or its reason or verdict is missing or invalid.
        StoreError
            If the database write fails.
        """
        actor = _text("actor", actor)
        with self._transaction(f"move case {case_id} to {new_state!r}") as session:
            case = self._load(session, case_id, lock=True)
            _check_transition(case, new_state, reason, verdict)
            before = _snapshot(case)
            _apply_transition(case, new_state, reason, verdict)
            return self._audited(session, case, actor, "transition", before)

    def assign(
        self, case_id: int, owner: str, *, team: str | None = None, actor: str
    ) -> CaseRecord:
        """Give a case a new owner (and optionally a new team).

        Parameters
        ----------
        case_id : int
            The case's id.
        owner : str
            The new owner.
        team : str, optional
            The new team; unchanged if not given.
        actor : str
            Who assigns; recorded in the audit log.

        Returns
        -------
        CaseRecord
            The case after the assignment.

        Raises
        ------
        NotFoundError
            If no case has this id.
        StateError
            If the case is closed or dismissed.
        StoreError
            If the database write fails.
        """
        owner = _text("owner", owner)
        new_team = None if team is None else _text("team", team)
        actor = _text("actor", actor)
        with self._transaction(f"assign case {case_id}") as session:
            case = self._load(session, case_id, lock=True)
            if case.state in TERMINAL_STATES:
                raise StateError(
                    f"case {case_id} is {case.state}; a terminal case cannot be reassigned "
                    f"(open a new case for issue {case.issue!r} instead)"
                )
            before = _snapshot(case)
            case.owner = owner
            if new_team is not None:
                case.team = new_team
            case.updated_at = utcnow()
            return self._audited(session, case, actor, "assign", before)

    def edit(
        self,
        case_id: int,
        *,
        actor: str,
        due: date | str | None = None,
        severity: str | None = None,
    ) -> CaseRecord:
        """Change a case's due date or severity by hand (audited as ``edit``).

        Moving the due date clears an earlier escalation, so the new deadline is escalated
        again if it is missed; the escalation stays in the audit log.

        Parameters
        ----------
        case_id : int
            The case's id.
        actor : str
            Who edits; recorded in the audit log.
        due : date or str, optional
            The new due date (ISO string accepted).
        severity : str, optional
            The new severity, one of :data:`SEVERITIES`.

        Returns
        -------
        CaseRecord
            The case after the edit.

        Raises
        ------
        ContractError
            If nothing is to be changed or a value is invalid.
        NotFoundError
            If no case has this id.
        StateError
            If the case is closed or dismissed.
        """
        actor = _text("actor", actor)
        if due is None and severity is None:
            raise ContractError(
                "edit needs a new due date or severity; pass due=... or severity=..."
            )
        new_due = None if due is None else _as_date(due)
        new_severity = None if severity is None else _known(severity, SEVERITIES, "severity")
        with self._transaction(f"edit case {case_id}") as session:
            case = self._writable(session, case_id, "edited")
            before = _snapshot(case)
            if new_due is not None and new_due != case.due:
                case.due, case.escalated_to, case.escalated_at = new_due, None, None
            if new_severity is not None:
                case.severity = new_severity
            case.updated_at = utcnow()
            return self._audited(session, case, actor, "edit", before)

    def escalate(self, case_id: int, to: str, *, actor: str) -> CaseRecord:
        """Record that an overdue case was escalated to ``to`` (the owner's manager).

        Parameters
        ----------
        case_id : int
            The case's id.
        to : str
            Who the case is escalated to.
        actor : str
            Who escalates; recorded in the audit log.

        Returns
        -------
        CaseRecord
            The case after the escalation.

        Raises
        ------
        NotFoundError
            If no case has this id.
        StateError
            If the case is closed or dismissed.
        """
        to = _text("escalated_to", to)
        actor = _text("actor", actor)
        with self._transaction(f"escalate case {case_id}") as session:
            case = self._writable(session, case_id, "escalated")
            before = _snapshot(case)
            case.escalated_to, case.escalated_at = to, utcnow()
            case.updated_at = case.escalated_at
            return self._audited(session, case, actor, "escalate", before)

    def record_measurement(
        self, case_id: int, result: Mapping[str, Any], *, actor: str, close: bool = False
    ) -> CaseRecord:
        """Store a measured effect on the case, and optionally close it with its verdict.

        Parameters
        ----------
        case_id : int
            The case's id.
        result : Mapping
            The measurement (estimates, intervals, ``verdict``), stored as JSON.
        actor : str
            Who measures; recorded in the audit log.
        close : bool, optional
            Close the case with ``result["verdict"]``; the case must be ``measuring``.

        Returns
        -------
        CaseRecord
            The case after the write (audited as ``measure``, or ``transition`` when closing).

        Raises
        ------
        ContractError
            If ``result`` is not a mapping of JSON data.
        NotFoundError
            If no case has this id.
        StateError
            If the case is terminal, or cannot be closed now.
        """
        if not isinstance(result, Mapping):
            raise ContractError(f"result must be a mapping; got {type(result).__name__}")
        clean = _plain(result, "measurement_result")
        actor = _text("actor", actor)
        with self._transaction(f"record the measurement of case {case_id}") as session:
            case = self._writable(session, case_id, "measured")
            verdict = clean.get("verdict") if close else None
            if close:
                _check_transition(case, "closed", None, verdict)
            before = _snapshot(case)
            case.measurement_result = clean
            case.updated_at = utcnow()
            if close:
                _apply_transition(case, "closed", None, verdict)
            return self._audited(session, case, actor, "transition" if close else "measure", before)

    # -- audit ------------------------------------------------------------------------------

    def audit(self, entity_id: int | None = None, *, entity: str = "case") -> list[AuditRecord]:
        """Return audit rows, oldest first.

        Parameters
        ----------
        entity_id : int, optional
            Only rows about this entity id (for example a case id).
        entity : str, optional
            The kind of entity (default ``"case"``).

        Returns
        -------
        list of AuditRecord
            Ordered by id, which increases with time.

        Raises
        ------
        StoreError
            If the database read fails.
        """
        query = select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
        if entity_id is not None:
            query = query.where(AuditEntry.entity_id == entity_id)
        with self._transaction("read the audit log") as session:
            return [AuditRecord.from_model(entry) for entry in session.scalars(query)]

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _create_engine(url: str) -> Engine:
        try:
            parsed = make_url(url)
            if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
                return create_engine(
                    parsed,
                    poolclass=StaticPool,
                    connect_args={"check_same_thread": False},
                )
            return create_engine(parsed, pool_pre_ping=True)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(
                f"state store URL {mask_url(url)!r} is not usable: {exc}; fix: set "
                "CXIMPACT_DATABASE_URL to an SQLAlchemy URL such as "
                "sqlite:///cximpact.state.sqlite or postgresql+psycopg://user@host/db"
            ) from exc

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        if self._closed:
            raise StateError(f"state store {self._masked} is closed; open a new StateStore")
        try:
            yield
        except (SQLAlchemyError, CommandError) as exc:
            raise self._store_error(doing, exc) from exc

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[Session]:
        with self._errors(doing), self._sessions.begin() as session:
            yield session

    def _store_error(self, doing: str, exc: Exception) -> StoreError:
        cause = getattr(exc, "orig", None) or exc
        lines = str(cause).strip().splitlines()
        detail = lines[0] if lines else type(cause).__name__
        return StoreError(
            f"state store {self._masked}: could not {doing}: {detail}; fix: {_fix_for(exc)}"
        )

    def _upsert_once(
        self, issue: str, clean: dict[str, Any], actor: str
    ) -> tuple[CaseRecord, bool]:
        with self._sessions.begin() as session:
            query = select(Case).where(
                Case.issue == issue, Case.state.not_in(sorted(TERMINAL_STATES))
            )
            case = session.scalars(query.with_for_update()).first()
            if case is None:
                return self._open(session, issue, clean, actor), True
            return self._refresh(session, case, clean, actor), False

    def _open(self, session: Session, issue: str, clean: dict[str, Any], actor: str) -> CaseRecord:
        missing = [key for key in REQUIRED_ON_OPEN if key not in clean]
        if missing:
            raise ContractError(
                f"cannot open a case for issue {issue!r}: fields lack {missing}; "
                f"pass them (required on open: {list(REQUIRED_ON_OPEN)})"
            )
        now = utcnow()
        values = copy.deepcopy(_DEFAULTS) | clean
        case = Case(issue=issue, state="open", opened_at=now, updated_at=now, **values)
        session.add(case)
        return self._audited(session, case, actor, "open", None)

    def _refresh(
        self, session: Session, case: Case, clean: dict[str, Any], actor: str
    ) -> CaseRecord:
        before = _snapshot(case)
        written = _last_system_write(session, case.id)
        for key, value in clean.items():
            if key == "below_threshold_since":  # keep the first day it fell below
                first = case.below_threshold_since or value
                case.below_threshold_since = None if value is None else first
            elif key == "evidence":
                case.evidence = _merge_evidence(case.evidence, value)
            elif key in _MEASURED or _untouched_by_humans(key, before, written):
                setattr(case, key, value)
        case.updated_at = utcnow()
        return self._audited(session, case, actor, "refresh", before)

    @staticmethod
    def _audited(
        session: Session, case: Case, actor: str, action: str, before: dict[str, Any] | None
    ) -> CaseRecord:
        session.flush()
        record = CaseRecord.from_model(case)
        session.add(
            AuditEntry(
                at=utcnow(),
                actor=actor,
                action=action,
                entity="case",
                entity_id=case.id,
                before=before,
                after=record.to_dict(),
            )
        )
        session.flush()
        return record

    def _writable(self, session: Session, case_id: int, doing: str) -> Case:
        case = self._load(session, case_id, lock=True)
        if case.state in TERMINAL_STATES:
            raise StateError(
                f"case {case_id} is {case.state}; a terminal case cannot be {doing} "
                f"(open a new case for issue {case.issue!r} instead)"
            )
        return case

    def _load(self, session: Session, case_id: int, *, lock: bool = False) -> Case:
        query = select(Case).where(Case.id == case_id)
        case = session.scalars(query.with_for_update() if lock else query).first()
        if case is None:
            raise NotFoundError(
                f"no case with id {case_id} in the state store {self._masked}; "
                "list the cases to see the ids that exist"
            )
        return case


# -- helpers -------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return dict(value)
    return value


def _snapshot(case: Case) -> dict[str, Any]:
    return CaseRecord.from_model(case).to_dict()


def _last_system_write(session: Session, case_id: int) -> dict[str, Any] | None:
    query = (
        select(AuditEntry.after)
        .where(
            AuditEntry.entity == "case",
            AuditEntry.entity_id == case_id,
            AuditEntry.action.in_(_SYSTEM_ACTIONS),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def _merge_evidence(current: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Append new detections to a case's evidence, skipping ones already recorded."""
    merged = copy.deepcopy(current) if current else {}
    for key, items in new.items():
        if isinstance(items, list):
            kept = merged.setdefault(key, [])
            kept.extend(item for item in items if item not in kept)
        else:
            merged[key] = items
    return merged


def _untouched_by_humans(key: str, current: dict[str, Any], written: dict[str, Any] | None) -> bool:
    """Whether ``key`` still holds the value the system last wrote (so a refresh may change it)."""
    return written is not None and key in written and written[key] == current[key]


def _check_transition(case: Case, new_state: str, reason: str | None, verdict: str | None) -> None:
    allowed = allowed_next_states(case.state)
    if new_state not in allowed:
        options = ", ".join(allowed) if allowed else f"none: {case.state} is terminal"
        raise StateError(
            f"case {case.id} is {case.state}; it cannot move to {new_state!r} "
            f"(allowed next: {options})"
        )
    if new_state == "dismissed" and not (reason and reason.strip()):
        raise StateError(f"dismissing case {case.id} needs a reason; pass reason='...'")
    if new_state == "closed" and verdict not in VERDICTS:
        raise StateError(
            f"closing case {case.id} needs a verdict, one of {', '.join(VERDICTS)}; got {verdict!r}"
        )
    if new_state != "closed" and verdict is not None:
        raise StateError(
            f"a verdict is given only when closing; case {case.id} is moving to {new_state!r}"
        )


def _apply_transition(case: Case, new_state: str, reason: str | None, verdict: str | None) -> None:
    now = utcnow()
    case.state = new_state
    case.updated_at = now
    if new_state in TERMINAL_STATES:
        case.closed_at = now
    if reason is not None:
        case.reason = reason.strip()
    if verdict is not None:
        case.verdict = verdict


def _fix_for(exc: Exception) -> str:
    text = str(exc).lower()
    if isinstance(exc, CommandError):
        return (
            "if it names an unknown revision, the database was migrated by a newer cximpact: "
            "upgrade cximpact"
        )
    if "no such table" in text or re.search(r'relation "[^"]+" does not exist', text):
        return "create the schema first (StateStore.upgrade(), which runs the migrations)"
    if isinstance(exc, OperationalError):
        return (
            "check that the database is running and reachable, that the file's folder exists "
            "and is writable, and that CXIMPACT_DATABASE_URL is right"
        )
    return "check CXIMPACT_DATABASE_URL and the database's log"


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContractError(f"{name} must be a non-empty string; got {value!r}")
    return value.strip()


def _known(value: object, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ContractError(f"{name} {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _clean_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - CASE_FIELDS)
    if unknown:
        raise ContractError(
            f"unknown case fields {unknown}; allowed: {', '.join(sorted(CASE_FIELDS))}"
        )
    return {key: _clean_value(key, value) for key, value in fields.items()}


def _clean_value(key: str, value: Any) -> Any:
    if key == "severity":
        return _known(value, SEVERITIES, "severity")
    if key == "due":
        return _as_date(value)
    if key == "below_threshold_since":
        return None if value is None else _as_date(value)
    if key == "evidence":
        if not isinstance(value, Mapping):
            raise ContractError(f"evidence must be a mapping; got {type(value).__name__}")
        return _plain(value, key)
    if key in _MONEY:
        return _as_amount(key, value)
    if key == "customers":
        return _as_count(key, value)
    if key in ("measurement_plan", "business_case"):
        if not isinstance(value, Mapping):
            raise ContractError(f"{key} must be a mapping; got {type(value).__name__}")
        return _plain(value, key)
    if key == "recommended_response":
        return "" if value is None else str(value)
    return _text(key, value)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ContractError(
            f"a date must be a date or an ISO date (YYYY-MM-DD); got {value!r}"
        ) from exc


def _as_amount(key: str, value: Any) -> float:
    try:
        amount = float(value)
    except (TypeError, ValueError) as exc:
        raise ContractError(f"{key} must be a number; got {value!r}") from exc
    if not math.isfinite(amount):
        raise ContractError(f"{key} must be finite; got {value!r}")
    return amount


def _as_count(key: str, value: Any) -> int:
    amount = _as_amount(key, value)
    if amount < 0 or not amount.is_integer():
        raise ContractError(f"{key} must be a whole number >= 0; got {value!r}")
    return int(amount)


def _plain(value: Any, where: str) -> Any:
    """Return ``value`` as plain JSON data; non-finite floats become ``None``."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, where) for v in value]
    if hasattr(value, "item"):  # numpy / pandas scalars
        return _plain(value.item(), where)
    if isinstance(value, Path):
        return str(value)
    raise ContractError(f"{where} holds a {type(value).__name__}, which JSON cannot store")
