"""Targeting by expected uplift within a budget, not by raw risk.

For each customer of an open case and each policy that customer is eligible for::

    risk_reduction  = churn probability the action removes      (model or assumption)
    expected_uplift = value x risk_reduction - cost             (currency)

With a fitted :class:`~cximpact.actions.uplift.TwoModelUplift` for the policy (one per policy,
learned from that policy's own outcomes), ``risk_reduction`` is its prediction
(``uplift_source = "model"``); without one it is the playbook's assumption
``churn_probability x effectiveness`` (``uplift_source = "assumption"``). Each (customer, case)
keeps its best policy; only positive uplift is targeted; the budget is spent best first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from cximpact.actions.guardrails import apply_guardrails, holdout_flags, idempotency_key
from cximpact.actions.policies import PolicySet, cost_and_effectiveness, render_context
from cximpact.actions.uplift import TwoModelUplift, uplift_features
from cximpact.cases.business_case import PlaybookOption

__all__ = ["PlannedActions", "candidates", "plan_targets", "score_targets", "within_budget"]

_CANDIDATE_COLUMNS = ("customer_id", "issue", "segment", "value", "churn_probability")
_SCORE_COLUMNS = (
    "policy",
    "action",
    "channel",
    "contact_method",
    "cost",
    "risk_reduction",
    "uplift_source",
    "expected_uplift",
)


def candidates(exposure: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Customers of open cases: the exposure rows of each case's issue, with ``case_id``.

    Parameters
    ----------
    exposure : DataFrame
        The ``customer_exposure`` table (``customer_id, issue, segment, value,
        churn_probability`` ...).
    cases : DataFrame
        Open cases: ``case_id, issue``.

    Returns
    -------
    DataFrame
        One row per customer and open case.
    """
    rows = exposure.reindex(columns=list(_CANDIDATE_COLUMNS))
    return rows.merge(cases[["case_id", "issue"]], on="issue", how="inner")


def _eligible(frame: pd.DataFrame, rules: PolicySet, index: int) -> np.ndarray:
    e = rules.policies[index].eligibility
    mask = (frame["churn_probability"] >= e.min_churn_probability) & (frame["value"] >= e.min_value)
    if e.root_causes:
        mask &= frame["issue"].isin(e.root_causes)
    if e.segments:
        mask &= frame["segment"].isin(e.segments)
    return mask.to_numpy(dtype=bool)


def score_targets(
    frame: pd.DataFrame,
    rules: PolicySet,
    playbook: dict[str, PlaybookOption],
    model: TwoModelUplift | Mapping[str, TwoModelUplift] | None = None,
) -> pd.DataFrame:
    """Expected uplift of each eligible (customer, case, policy); best policy per pair.

    Returns
    -------
    DataFrame
        Candidate columns plus ``policy, action, channel, contact_method, cost, risk_reduction,
        expected_uplift, uplift_source``; positive uplift only, best first.
    """
    scored = []
    for index, policy in enumerate(rules.policies):
        rows = frame[_eligible(frame, rules, index)].copy()
        if rows.empty:
            continue
        cost, effectiveness = cost_and_effectiveness(policy, playbook)
        learned = model.get(policy.name) if isinstance(model, Mapping) else model
        if learned is not None:
            reduction = learned.predict(uplift_features(rows))
            source = "model"
        else:
            reduction = rows["churn_probability"].to_numpy(dtype=float) * effectiveness
            source = "assumption"
        rows = rows.assign(
            policy=policy.name,
            action=policy.action,
            channel=policy.channel,
            contact_method=policy.contact_method,
            cost=cost,
            risk_reduction=np.clip(reduction, -1.0, 1.0),
            uplift_source=source,
        )
        rows["expected_uplift"] = rows["value"] * rows["risk_reduction"] - rows["cost"]
        scored.append(rows)
    if not scored:
        columns = [*frame.columns, *_SCORE_COLUMNS]
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    every = pd.concat(scored, ignore_index=True)
    every = every[every["expected_uplift"] > 0]
    every = every.sort_values(["expected_uplift", "customer_id"], ascending=[False, True])
    return every.drop_duplicates(["customer_id", "case_id"]).reset_index(drop=True)


def within_budget(frame: pd.DataFrame, rules: PolicySet) -> np.ndarray:
    """Which rows (best first) fit the per-policy budgets and then the overall budget.

    Held-out rows cost nothing (nothing is sent) and always fit.
    """
    spend = frame["cost"].to_numpy(dtype=float) * ~frame["holdout"].to_numpy(dtype=bool)
    spend_s = pd.Series(spend, index=frame.index)
    caps = {p.name: p.budget for p in rules.policies if p.budget is not None}
    fits = np.ones(len(frame), dtype=bool)
    if caps:
        per_policy = spend_s.groupby(frame["policy"]).cumsum()
        limit = frame["policy"].map(caps).fillna(np.inf)
        fits = (per_policy <= limit).to_numpy()
    overall = np.cumsum(np.where(fits, spend, 0.0))
    return fits & (overall <= rules.budget)


@dataclass(frozen=True)
class PlannedActions:
    """What planning decided: actions to record (treated and held out) and dropped targets."""

    actions: pd.DataFrame
    skipped: pd.DataFrame


def plan_targets(
    frame: pd.DataFrame,
    rules: PolicySet,
    playbook: dict[str, PlaybookOption],
    *,
    contacts: pd.DataFrame,
    suppressed: set[str],
    history: pd.DataFrame,
    now: datetime,
    model: TwoModelUplift | Mapping[str, TwoModelUplift] | None = None,
    default_timezone: str = "UTC",
    holdout_shares: dict[int, float] | None = None,
) -> PlannedActions:
    """Score, apply the guardrails, split off the holdout and spend the budget.

    Parameters
    ----------
    frame : DataFrame
        Output of :func:`candidates`.
    rules, playbook : PolicySet, dict
        Policies and the case playbook (costs and assumed effectiveness).
    contacts, suppressed, history, now, default_timezone
        See :func:`~cximpact.actions.guardrails.apply_guardrails`.
    model : TwoModelUplift or mapping of policy name to TwoModelUplift, optional
        Fitted uplift model(s): one for every policy, or one per policy (policies without one
        keep the playbook assumption); the playbook assumption when None.
    holdout_shares : dict, optional
        Holdout share per case id, as the case's measurement plan fixed it; cases without one
        use the policies' ``holdout_share``.

    Returns
    -------
    PlannedActions
        ``actions`` with ``holdout``, ``idempotency_key``, ``value_tier``, ``context``,
        ``not_before``; ``skipped`` with a ``reason``.
    """
    scored = score_targets(frame, rules, playbook, model)
    shares = scored["case_id"].map(holdout_shares or {}).astype(float).fillna(rules.holdout_share)
    scored["holdout"] = holdout_flags(scored["customer_id"], scored["case_id"], shares)
    allowed, skipped = apply_guardrails(
        scored, contacts, suppressed, history, rules, now, default_timezone=default_timezone
    )
    fits = within_budget(allowed, rules)
    over = allowed[~fits].assign(reason="over_budget")
    chosen = allowed[fits].reset_index(drop=True)
    chosen["value_tier"] = [rules.value_tier(float(v)) for v in chosen["value"]]
    chosen["idempotency_key"] = [
        idempotency_key(int(k), str(c), str(p))
        for k, c, p in zip(chosen["case_id"], chosen["customer_id"], chosen["policy"], strict=True)
    ]
    by_name = {p.name: p for p in rules.policies}
    contexts = [
        render_context(
            by_name[str(r.policy)],
            {
                "issue": str(r.issue),
                "issue_label": str(r.issue).replace("_", " "),
                "value_tier": str(r.value_tier),
                "customer_id": str(r.customer_id),
                "case_id": str(r.case_id),
            },
        )
        for r in chosen.itertuples()
    ]
    chosen["context"] = pd.Series(contexts, index=chosen.index, dtype=object)
    return PlannedActions(chosen, pd.concat([skipped, over], ignore_index=True))
