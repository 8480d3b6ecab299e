"""Wiring of the actions stage to files and stores: plan, dispatch, take outcomes back.

The decisions are pure (:mod:`~cximpact.actions.targeting`, :mod:`~cximpact.actions.guardrails`,
:mod:`~cximpact.actions.measurement`); this module reads their inputs (policy, contacts and
suppression files, the analytics store, the state store) and writes their results.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cximpact.actions.measurement import case_measurements
from cximpact.actions.policies import PolicySet, load_policies, remaining_budgets
from cximpact.actions.store import ActionStore
from cximpact.actions.targeting import candidates, plan_targets
from cximpact.actions.uplift import TwoModelUplift, can_learn_uplift, uplift_features
from cximpact.cases.business_case import load_playbook
from cximpact.errors import ContractError, LowSampleWarning, NotFoundError
from cximpact.settings import Settings
from cximpact.store.analytics import AnalyticsStore
from cximpact.store.models import utcnow

__all__ = [
    "PlanSummary",
    "fit_uplift",
    "ingest_outcomes",
    "load_contacts",
    "load_suppression",
    "measure_cases",
    "plan_actions",
    "plan_from_settings",
    "plan_on_run",
]


def load_contacts(path: Path | None) -> pd.DataFrame:
    """The contacts file (CSV): ``customer_id, email, timezone, consent, do_not_contact``.

    Missing optional columns are empty; without a file nobody has consent on record.
    """
    columns = ["customer_id", "email", "timezone", "consent", "do_not_contact"]
    if path is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise ContractError(f"contacts file {path} cannot be read: {exc}") from exc
    if "customer_id" not in frame.columns:
        raise ContractError(
            f"contacts file {path} has no customer_id column; expected columns {columns}"
        )
    frame = frame.reindex(columns=columns).fillna("")
    frame["do_not_contact"] = (
        frame["do_not_contact"].str.strip().str.lower().isin(["1", "true", "yes", "y"])
    )
    return frame


def load_suppression(path: Path | None) -> set[str]:
    """Ids and addresses in the suppression file (one a line; blank lines and ``#`` skipped)."""
    if path is None:
        return set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ContractError(f"suppression file {path} cannot be read: {exc}") from exc
    return {s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#")}


def fit_uplift(store: ActionStore, min_per_arm: int = 30) -> dict[str, TwoModelUplift] | None:
    """One uplift model per policy, fitted on that policy's past outcomes, or None.

    Policies are different actions (a message, an offer, a call) with different effects, so
    each learns from its own outcomes; a policy with too few keeps the playbook assumption.
    None (with a warning when outcomes exist) when no policy has enough.
    """
    rows = pd.DataFrame(store.measured_actions())
    if rows.empty:
        return None
    models: dict[str, TwoModelUplift] = {}
    for policy, mine in rows.groupby("policy"):
        treated = ~mine["holdout"].to_numpy(dtype=bool)
        churned = mine["churned"].to_numpy(dtype=bool)
        if can_learn_uplift(treated, churned, min_per_arm):
            model = TwoModelUplift(min_per_arm=min_per_arm)
            models[str(policy)] = model.fit(
                uplift_features(mine), churned.astype(int), treatment=treated
            )
    if not models:
        warnings.warn(
            f"{len(rows)} action outcomes are too few to learn uplift from (each policy's arms "
            f"need {min_per_arm} with churned and retained customers); using playbook "
            "assumptions",
            LowSampleWarning,
            stacklevel=2,
        )
        return None
    return models


@dataclass(frozen=True)
class PlanSummary:
    """What a planning run recorded and why targets were dropped."""

    created: int
    treated: int
    held_out: int
    planned_cost: float
    expected_uplift: float
    uplift_source: str
    skipped: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        return {
            "created": self.created,
            "treated": self.treated,
            "held_out": self.held_out,
            "planned_cost": round(self.planned_cost, 2),
            "expected_uplift": round(self.expected_uplift, 2),
            "uplift_source": self.uplift_source,
            "skipped": self.skipped,
        }


def _history(store: ActionStore, now: datetime, days: int) -> pd.DataFrame:
    rows = store.contact_history(now - timedelta(days=days))
    return pd.DataFrame(rows, columns=["customer_id", "channel", "created_at"])


def plan_actions(
    store: ActionStore,
    exposure: pd.DataFrame,
    settings: Settings,
    *,
    rules: PolicySet | None = None,
    now: datetime | None = None,
) -> PlanSummary:
    """Plan actions for the customers of every open case and record them (with the outbox).

    Parameters
    ----------
    store : ActionStore
        Migrated state store.
    exposure : DataFrame
        The ``customer_exposure`` table of the analytics store.
    settings : Settings
        Policy, contacts and suppression files; playbook; default time zone.
    rules : PolicySet, optional
        Policies (loaded from settings when None).
    now : datetime, optional
        Planning time (aware).

    Returns
    -------
    PlanSummary
        Counts, planned cost and expected uplift of the new actions; dropped targets by reason.
    """
    now = now or utcnow()
    rules = rules or load_policies(settings.actions_policies_file)
    spent = store.spent_since(now - timedelta(days=rules.budget_window_days))
    rules = remaining_budgets(rules, spent)
    open_cases = store.list_cases(include_terminal=False)
    cases = pd.DataFrame([(c.id, c.issue) for c in open_cases], columns=["case_id", "issue"])
    shares = {  # the holdout each case's measurement plan was sized with
        c.id: float(c.measurement_plan["holdout_share"])
        for c in open_cases
        if c.measurement_plan.get("holdout_share") is not None
    }
    model = fit_uplift(store)
    pool = candidates(exposure, cases)
    done = store.planned_pairs(cases["case_id"].tolist())
    fresh = ~pd.Series(
        [
            (int(k), str(c)) in done
            for k, c in zip(pool["case_id"], pool["customer_id"], strict=True)
        ],
        index=pool.index,
        dtype=bool,
    )
    plan = plan_targets(
        pool[fresh],
        rules,
        load_playbook(settings.playbook_file),
        contacts=load_contacts(settings.actions_contacts_file),
        suppressed=load_suppression(settings.actions_suppression_file),
        history=_history(store, now, rules.frequency_caps.window_days),
        now=now,
        model=model,
        default_timezone=settings.actions_default_timezone,
        holdout_shares=shares,
    )
    actions = plan.actions.replace({np.nan: None})
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in row.items()} for row in actions.to_dict("records")
    ]
    created = store.add_actions(records, now=now)
    treated = actions[~actions["holdout"].astype(bool)] if len(actions) else actions
    return PlanSummary(
        created=created,
        treated=len(treated),
        held_out=len(actions) - len(treated),
        planned_cost=float(treated["cost"].sum()) if len(treated) else 0.0,
        expected_uplift=float(treated["expected_uplift"].sum()) if len(treated) else 0.0,
        uplift_source="model" if model is not None else "assumption",
        skipped=_reasons(plan.skipped, already_planned=int((~fresh).sum())),
    )


def _reasons(skipped: pd.DataFrame, *, already_planned: int) -> dict[str, int]:
    counts = skipped["reason"].value_counts() if len(skipped) else pd.Series(dtype=int)
    reasons = {str(k): int(v) for k, v in counts.items()}
    if already_planned:
        reasons["already_planned"] = already_planned
    return reasons


def plan_from_settings(settings: Settings, *, now: datetime | None = None) -> PlanSummary:
    """Plan from the analytics store ``settings.db`` into the state store of ``settings``."""
    if not Path(settings.db).exists():
        raise NotFoundError(
            f"{settings.db} does not exist; run `cximpact run --data DIR` first, or pass its --db"
        )
    with AnalyticsStore(settings.db, read_only=True) as analytics:
        if not analytics.has_table("customer_exposure"):
            raise NotFoundError(f"{settings.db} has no analysis yet; run `cximpact run` first")
        exposure = analytics.read("customer_exposure")
    with ActionStore(settings.state_url()) as store:
        store.upgrade()
        return plan_actions(store, exposure, settings, now=now)


def plan_on_run(
    settings: Settings, exposure: pd.DataFrame, *, step: Callable[[str], None] | None = None
) -> PlanSummary:
    """The ``cximpact run`` step (``CXIMPACT_ACTIONS_PLAN_ON_RUN``): plan for open cases."""
    if step is not None:
        step("actions")
    with ActionStore(settings.state_url()) as store:
        store.upgrade()
        return plan_actions(store, exposure, settings)


def ingest_outcomes(store: ActionStore, path: Path, *, source: str | None = None) -> int:
    """Record every row of an outcomes CSV; returns the actions updated.

    Columns: ``outcome`` and either ``idempotency_key`` or ``customer_id`` and ``case_id``;
    ``at`` (ISO 8601) optional.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise ContractError(f"outcomes file {path} cannot be read: {exc}") from exc
    if "outcome" not in frame.columns:
        raise ContractError(
            f"outcomes file {path} has no outcome column; expected outcome and "
            "idempotency_key (or customer_id and case_id), optionally at"
        )
    updated = 0
    for row in frame.to_dict("records"):  # outcomes arrive in hundreds, not millions
        at = pd.Timestamp(row["at"]) if row.get("at") else None
        if at is not None and at.tzinfo is None:
            at = at.tz_localize("UTC")
        updated += len(
            store.record_outcome(
                row["outcome"].strip(),
                idempotency_key=row.get("idempotency_key") or None,
                customer_id=row.get("customer_id") or None,
                case_id=int(row["case_id"]) if row.get("case_id") else None,
                at=at.to_pydatetime() if at is not None else None,
                source=source or path.name,
            )
        )
    return updated


def measure_cases(store: ActionStore) -> list[dict[str, Any]]:
    """Treated versus held-out churn of every case with final outcomes."""
    return case_measurements(store.measured_actions())
