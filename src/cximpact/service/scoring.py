"""Incremental scoring: new interactions against the models of the last batch analysis.

:class:`LiveView` is one immutable snapshot of what the service shows (issues, customer-issue
rows, per-customer risk, signals); :class:`LiveScorer` returns the next snapshot with new or
changed interactions scored in. Pure computation over DataFrames: no I/O, no threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from cximpact.cases.business_case import load_playbook
from cximpact.cases.routing import load_routing
from cximpact.errors import NotFoundError
from cximpact.exposure.issues import (
    _rank_issues,
    compute_exposure,
    customer_signal_summary,
    issue_flags,
)
from cximpact.flow import Analysis
from cximpact.risk.model import customer_features
from cximpact.settings import Settings
from cximpact.signals.keywords import KeywordSignals, load_taxonomy
from cximpact.signals.repeat import mark_repeat_contacts

__all__ = ["LiveScorer", "LiveView", "find_interaction"]

_INTERVAL = ("revenue_at_risk_low", "revenue_at_risk_high")


@dataclass(frozen=True)
class LiveView:
    """One immutable snapshot of what the service shows; replaced whole, never mutated."""

    issues: pd.DataFrame
    customers: pd.DataFrame
    risk: pd.DataFrame
    signals: pd.DataFrame
    as_of: pd.Timestamp | None = None
    model_source: str | None = None
    refit_at: pd.Timestamp | None = None
    version: int = 0
    live_interactions: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> LiveView:
        """A view before any batch analysis: no issues, customers or signals."""
        frame = pd.DataFrame()
        return cls(frame, frame, frame, frame)

    @property
    def ready(self) -> bool:
        """Whether a batch analysis has been run (so issues and exposure exist)."""
        return self.as_of is not None


class LiveScorer:
    """Scores new interactions with the models of the last batch analysis.

    Incremental per batch: keyword signals (root cause, sentiment, competitors, escalation,
    churn language), repeat contacts against each customer's history, the affected customers'
    issue flags, churn probability (the fitted model's coefficients), attribution, revenue at
    risk and "why", and the per-issue totals. Held fixed until the next refit: the model's
    coefficients, the issues it knows, customers' values, the self-trained topic classifier,
    and the bootstrap intervals (scaled with each issue's revenue at risk).

    Parameters
    ----------
    analysis : Analysis
        The last batch analysis (``flow.analyse``).
    customers : pandas.DataFrame
        The customers table at that time.
    churned : set of str
        Customers already churned at ``analysis.as_of`` (they carry no revenue at risk).
    settings : Settings
        Taxonomy, repeat window and handling cost.
    """

    def __init__(
        self, analysis: Analysis, customers: pd.DataFrame, churned: set[str], settings: Settings
    ) -> None:
        self.analysis = analysis
        self.customers = customers.set_index("id", drop=False)
        self.churned = churned
        self.settings = settings
        self.keywords = KeywordSignals(load_taxonomy(settings.taxonomy_file)).fit()
        self.routing = load_routing(settings.routing_file)
        self.playbook = load_playbook(settings.playbook_file)
        period = analysis.window_days if analysis.model.source_ == "model" else 365
        self.horizon_factor = settings.horizon_days / period
        issues = analysis.exposure.issues.set_index("issue")
        self._batch = issues[["revenue_at_risk", *_INTERVAL]]

    def first_view(self, version: int) -> LiveView:
        """The snapshot straight after the batch analysis."""
        exposure = self.analysis.exposure
        return LiveView(
            exposure.issues,
            exposure.customers,
            exposure.risk,
            self.analysis.signals,
            as_of=self.analysis.as_of,
            model_source=str(self.analysis.model.source_),
            refit_at=pd.Timestamp.now("UTC"),
            version=version,
        )

    def signals_of(self, interactions: pd.DataFrame) -> pd.DataFrame:
        """Keyword signals of new interactions (as ``compute_signals`` without self-training)."""
        texts = interactions["text"].fillna("").astype(str).reset_index(drop=True)
        detected = self.keywords.transform(texts)
        frame = pd.DataFrame(
            {
                "interaction_id": interactions["id"].to_numpy(),
                "customer_id": interactions["customer_id"].to_numpy(),
                "timestamp": pd.to_datetime(interactions["timestamp"]).to_numpy(),
                "channel": interactions["channel"].to_numpy(),
                "handling_cost": pd.to_numeric(interactions["handling_cost"])
                .astype(float)
                .fillna(self.settings.handling_cost)
                .to_numpy(),
            }
        )
        frame = frame.join(detected.reset_index(drop=True))
        frame["repeat_contact"] = False
        return frame

    def score(self, view: LiveView, interactions: pd.DataFrame) -> LiveView:
        """Return the view with ``interactions`` (new or changed, as stored) scored in.

        Parameters
        ----------
        view : LiveView
            The current snapshot (not modified).
        interactions : pandas.DataFrame
            Interactions contract rows as stored (redacted, pseudonymised ids).

        Returns
        -------
        LiveView
            A new snapshot with the affected customers' rows and every issue total updated.
        """
        fresh = self.signals_of(interactions)
        old = view.signals
        replaced = old["interaction_id"].isin(fresh["interaction_id"])
        kept = old.loc[~replaced.to_numpy()]
        affected = pd.unique(fresh["customer_id"])
        mine = kept["customer_id"].isin(affected).to_numpy()
        history = pd.concat([kept.loc[mine], fresh], ignore_index=True)
        history["repeat_contact"] = mark_repeat_contacts(
            history[["customer_id", "timestamp", "root_cause"]],
            self.settings.repeat_contact_days,
        ).to_numpy()
        fresh = history.iloc[int(mine.sum()) :]
        signals = pd.concat([kept, fresh], ignore_index=True)
        scorable = [c for c in affected if c in self.customers.index and c not in self.churned]
        customers_long, risk = view.customers, view.risk
        if scorable:
            part = history[history["customer_id"].isin(scorable)]
            exposure = self._exposure(part, scorable)
            drop_long = customers_long["customer_id"].isin(scorable).to_numpy()
            drop_risk = risk["customer_id"].isin(scorable).to_numpy()
            customers_long = pd.concat(
                [customers_long.loc[~drop_long], exposure.customers], ignore_index=True
            )
            risk = pd.concat([risk.loc[~drop_risk], exposure.risk], ignore_index=True)
        issues = self._issues(customers_long) if len(customers_long) else view.issues
        return replace(
            view,
            issues=issues,
            customers=customers_long,
            risk=risk,
            signals=signals,
            version=view.version + 1,
            live_interactions=view.live_interactions + len(fresh),
        )

    def _exposure(self, signals: pd.DataFrame, scorable: list[str]) -> Any:
        flags = issue_flags(signals)
        features = customer_features(
            self.customers.loc[scorable].reset_index(drop=True),
            flags,
            as_of=self.analysis.as_of,
            signals=signals if self.settings.risk_language_signals else None,
        ).reindex(columns=self.analysis.model.columns_, fill_value=0.0)
        return compute_exposure(
            features,
            self.analysis.model,
            self.analysis.values,
            customer_signal_summary(signals),
            active=pd.Series(True, index=features.index),
            horizon_factor=self.horizon_factor,
            interval_draws=2,
        )

    def _issues(self, customers_long: pd.DataFrame) -> pd.DataFrame:
        """Per-issue totals of the customer-issue rows, ranked, as the batch flow ranks them.

        The bootstrap is not repeated live: each issue keeps the batch interval, scaled by how
        its revenue at risk moved since (an issue the batch did not know gets its point).
        """
        zeros = pd.DataFrame(0.0, index=self._batch.index, columns=list(_INTERVAL))
        issues = _rank_issues(customers_long, self.analysis.model, zeros)
        batch = self._batch.reindex(issues["issue"])
        point = issues["revenue_at_risk"].to_numpy(dtype=float)
        before = batch["revenue_at_risk"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(before > 0, point / before, 1.0)
        for column in _INTERVAL:
            scaled = batch[column].to_numpy(dtype=float) * ratio
            issues[column] = np.where(np.isnan(scaled), point, scaled)
        return issues


def find_interaction(view: LiveView, interaction_id: str) -> pd.Series:
    """The signals row of one interaction in the view, or :class:`NotFoundError`."""
    if view.signals.empty:
        raise NotFoundError(f"no interaction {interaction_id!r} is scored yet")
    rows = view.signals[view.signals["interaction_id"] == interaction_id]
    if rows.empty:
        raise NotFoundError(
            f"no interaction {interaction_id!r} in the live view; check the id, or POST it to "
            "/api/v1/ingest/interactions"
        )
    return rows.iloc[-1]
