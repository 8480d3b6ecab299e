"""Incremental scoring: new interactions against the models of the last batch analysis.

:class:`LiveView` is one immutable snapshot of what the service shows (issues, customer-issue
rows, per-customer risk, signals); :class:`LiveScorer` returns the next snapshot with new or
changed interactions scored in. Pure computation over DataFrames: no I/O, no threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from cximpact.cases.business_case import load_playbook
from cximpact.cases.routing import load_routing
from cximpact.errors import NotFoundError
from cximpact.exposure.attribution import allocate_attributable_risk
from cximpact.exposure.issues import (
    _rank_issues,
    _why,
    customer_signal_summary,
    issue_flags,
)
from cximpact.flow import Analysis
from cximpact.risk.model import ChurnRiskModel, customer_features
from cximpact.service._rows import SignalRows, isin
from cximpact.settings import Settings
from cximpact.signals.keywords import KeywordSignals, load_taxonomy
from cximpact.signals.repeat import mark_repeat_contacts

__all__ = [
    "LiveScorer",
    "LiveView",
    "SignalRows",
    "customer_exposure",
    "find_interaction",
    "interaction_signals",
]

_INTERVAL = ("revenue_at_risk_low", "revenue_at_risk_high")
#: Per-issue sums kept by the live view: the issue total's column and the customer-issue
#: column it adds up (``customers`` counts rows: one row per customer and issue).
_SUMS = (
    ("revenue_at_risk", "revenue_at_risk"),
    ("aggregate_ltv", "value"),
    ("contacts", "contacts"),
    ("repeat_contacts", "repeat_contacts"),
    ("handling_cost", "handling_cost"),
    ("escalations", "escalations"),
    ("competitor_mentions", "competitor_mentions"),
    ("churn_language", "churn_language"),
)
_COUNTS: tuple[str, ...] = ("customers", "contacts", "repeat_contacts", "escalations")
_COUNTS += ("competitor_mentions", "churn_language")


@dataclass(frozen=True)
class LiveView:
    """One immutable snapshot of what the service shows; replaced whole, never mutated."""

    issues: pd.DataFrame
    customers: pd.DataFrame
    risk: pd.DataFrame
    signal_rows: SignalRows
    as_of: pd.Timestamp | None = None
    model_source: str | None = None
    refit_at: pd.Timestamp | None = None
    version: int = 0
    live_interactions: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    totals: pd.DataFrame | None = None
    """Per-issue sums behind ``issues`` (:meth:`LiveScorer.issue_sums`), kept incrementally."""
    touched: frozenset[str] = frozenset()
    """Issues whose totals the step that made this view changed."""

    @classmethod
    def empty(cls) -> LiveView:
        """A view before any batch analysis: no issues, customers or signals."""
        frame = pd.DataFrame()
        return cls(frame, frame, frame, SignalRows.of(frame))

    @cached_property
    def signals(self) -> pd.DataFrame:
        """Signals of every scored interaction (built once per view, on first use)."""
        return self.signal_rows.frame()

    @property
    def interactions_scored(self) -> int:
        """Number of interactions in the view (without building :attr:`signals`)."""
        return len(self.signal_rows)

    @property
    def ready(self) -> bool:
        """Whether a batch analysis has been run (so issues and exposure exist)."""
        return self.as_of is not None


class LiveScorer:
    """Scores new interactions with the models of the last batch analysis.

    Incremental per batch: keyword signals (root cause, sentiment, competitors, escalation,
    churn language), repeat contacts against each customer's history, the affected customers'
    issue flags, churn probability (the fitted model's coefficients), attribution, revenue at
    risk and "why" (:func:`customer_exposure` on those customers only), and the per-issue
    totals, kept as running sums (previous totals minus the rescored customers' old rows plus
    their new ones, :meth:`issue_sums`). Held fixed until the next refit: the model's
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
        self._values = analysis.values.set_index("customer_id")
        self._issue_names = pd.Index(
            [c.removeprefix("issue:") for c in analysis.model.issue_columns_], name="issue"
        )

    def first_view(self, version: int) -> LiveView:
        """The snapshot straight after the batch analysis."""
        exposure = self.analysis.exposure
        return LiveView(
            exposure.issues,
            exposure.customers,
            exposure.risk,
            SignalRows.of(self.analysis.signals),
            as_of=self.analysis.as_of,
            model_source=str(self.analysis.model.source_),
            refit_at=pd.Timestamp.now("UTC"),
            version=version,
            totals=self.issue_sums(exposure.customers),
        )

    def signals_of(self, interactions: pd.DataFrame) -> pd.DataFrame:
        """Keyword signals of new interactions (as ``compute_signals`` without self-training)."""
        return interaction_signals(self.keywords, interactions, self.settings.handling_cost)

    def score(
        self, view: LiveView, interactions: pd.DataFrame, signals: pd.DataFrame | None = None
    ) -> LiveView:
        """Return the view with ``interactions`` (new or changed, as stored) scored in.

        Parameters
        ----------
        view : LiveView
            The current snapshot (not modified).
        interactions : pandas.DataFrame
            Interactions contract rows as stored (redacted, pseudonymised ids).
        signals : pandas.DataFrame, optional
            Their :func:`interaction_signals`, when already computed (row for row).

        Returns
        -------
        LiveView
            A new snapshot with the affected customers' rows and every issue total updated.
        """
        fresh = self.signals_of(interactions) if signals is None else signals
        earlier, moved, rest = view.signal_rows.take(
            fresh["interaction_id"].to_numpy(), fresh["customer_id"].to_numpy()
        )
        affected = pd.unique(np.concatenate([fresh["customer_id"].to_numpy(), moved]))
        history = pd.concat([earlier, fresh], ignore_index=True)
        history["repeat_contact"] = mark_repeat_contacts(
            history[["customer_id", "timestamp", "root_cause"]],
            self.settings.repeat_contact_days,
        ).to_numpy()
        fresh = history.iloc[len(earlier) :]
        # the affected customers' earlier rows too: a new or corrected contact can make one of
        # them a repeat (or not), so their whole history is replaced, as a batch run marks it
        signal_rows = rest.plus(history)
        scorable = [c for c in affected if c in self.customers.index and c not in self.churned]
        customers_long, risk = view.customers, view.risk
        totals = view.totals if view.totals is not None else self.issue_sums(customers_long)
        touched: set[str] = set()
        if scorable:
            part = history[isin(history["customer_id"], scorable)]
            long, rows = self._exposure(part, scorable)
            drop_long = isin(customers_long["customer_id"], scorable)
            drop_risk = isin(risk["customer_id"], scorable)
            removed = customers_long.loc[drop_long]
            totals = totals + self.issue_sums(long) - self.issue_sums(removed)
            touched = {str(i) for i in pd.unique(np.concatenate([removed["issue"], long["issue"]]))}
            customers_long = pd.concat([customers_long.loc[~drop_long], long], ignore_index=True)
            risk = pd.concat([risk.loc[~drop_risk], rows], ignore_index=True)
        issues = self.issues_from_sums(totals) if touched else view.issues
        return replace(
            view,
            issues=issues,
            customers=customers_long,
            risk=risk,
            signal_rows=signal_rows,
            version=view.version + 1,
            live_interactions=view.live_interactions + len(fresh),
            totals=totals,
            touched=frozenset(touched),
        )

    def _exposure(
        self, signals: pd.DataFrame, scorable: list[str]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Customer-issue rows and risk rows of ``scorable`` customers, from their signals."""
        flags = issue_flags(signals)
        features = customer_features(
            self.customers.loc[scorable].reset_index(drop=True),
            flags,
            as_of=self.analysis.as_of,
            signals=signals if self.settings.risk_language_signals else None,
        ).reindex(columns=self.analysis.model.columns_, fill_value=0.0)
        return customer_exposure(
            features,
            self.analysis.model,
            self._values,
            customer_signal_summary(signals),
            horizon_factor=self.horizon_factor,
        )

    def issue_sums(self, customers_long: pd.DataFrame) -> pd.DataFrame:
        """Per-issue sums of customer-issue rows: the additive parts of the issue totals.

        One row per issue the model knows (index ``issue``): ``customers`` (rows), the sums of
        :data:`_SUMS`, and ``sentiment_sum`` / ``sentiment_n`` over rows with a mean
        sentiment, so ``mean_sentiment = sentiment_sum / sentiment_n`` as the batch ranking's
        mean of row means. Sums of disjoint row sets add, so the live totals are the previous
        totals minus the rescored customers' old rows plus their new rows.
        """
        names = self._issue_names
        issue = pd.Index(customers_long["issue"] if len(customers_long) else [], dtype=object)
        codes = names.get_indexer(issue)
        if (codes < 0).any():  # an issue outside the model: extend the index (never expected)
            names = names.append(pd.Index(sorted(set(issue) - set(names)), dtype=object))
            codes = names.get_indexer(issue)
        size = len(names)
        columns = {"customers": np.bincount(codes, minlength=size).astype(float)}
        for total, column in _SUMS:
            values = customers_long[column].to_numpy(dtype=float, na_value=np.nan)
            columns[total] = np.bincount(codes, np.nan_to_num(values), minlength=size)
        sentiment = customers_long["mean_sentiment"].to_numpy(dtype=float, na_value=np.nan)
        said = ~np.isnan(sentiment)
        columns["sentiment_sum"] = np.bincount(codes[said], sentiment[said], minlength=size)
        columns["sentiment_n"] = np.bincount(codes[said], minlength=size).astype(float)
        return pd.DataFrame(columns, index=names)

    def issues_from_sums(self, totals: pd.DataFrame) -> pd.DataFrame:
        """Issues ranked from per-issue sums: the columns and order of the batch ranking.

        Equal to :meth:`_issues` over the same customer-issue rows (up to float rounding of
        the running sums), without grouping them.
        """
        present = totals[totals["customers"].to_numpy().round() > 0]
        model = self.analysis.model
        names = present.index.rename("issue")
        columns: dict[str, Any] = {}
        for column in ("revenue_at_risk", "customers", "aggregate_ltv", "contacts"):
            columns[column] = present[column].to_numpy()
        for column in ("repeat_contacts", "handling_cost", "escalations"):
            columns[column] = present[column].to_numpy()
        for column in ("competitor_mentions", "churn_language"):
            columns[column] = present[column].to_numpy()
        for column in _COUNTS:
            columns[column] = columns[column].round().astype("int64")
        count = present["sentiment_n"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            columns["mean_sentiment"] = np.where(
                count > 0, present["sentiment_sum"].to_numpy() / count, np.nan
            )
        point = columns["revenue_at_risk"]
        columns["revenue_at_risk_low"] = np.zeros(len(names))
        columns["revenue_at_risk_high"] = np.zeros(len(names))
        columns["log_odds_effect"] = model.issue_effects_.reindex(names).to_numpy()
        columns["log_odds_standard_error"] = model.issue_standard_errors_.reindex(names).to_numpy()
        columns["risk_source"] = model.source_
        total = point.sum()
        columns["share_of_exposure"] = point / total if total > 0 else 0.0
        issues = pd.DataFrame(columns, index=names)
        issues = issues.sort_values("revenue_at_risk", ascending=False).reset_index()
        issues.insert(0, "rank", np.arange(1, len(issues) + 1))
        return self._scaled_intervals(issues)

    def _issues(self, customers_long: pd.DataFrame) -> pd.DataFrame:
        """Per-issue totals of the customer-issue rows, ranked, as the batch flow ranks them.

        The bootstrap is not repeated live: each issue keeps the batch interval, scaled by how
        its revenue at risk moved since (an issue the batch did not know gets its point).
        """
        zeros = pd.DataFrame(0.0, index=self._batch.index, columns=list(_INTERVAL))
        return self._scaled_intervals(_rank_issues(customers_long, self.analysis.model, zeros))

    def _scaled_intervals(self, issues: pd.DataFrame) -> pd.DataFrame:
        """Each issue's batch interval scaled by how its revenue at risk moved since."""
        batch = self._batch.reindex(issues["issue"])
        point = issues["revenue_at_risk"].to_numpy(dtype=float)
        before = batch["revenue_at_risk"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(before > 0, point / before, 1.0)
        for column in _INTERVAL:
            scaled = batch[column].to_numpy(dtype=float) * ratio
            issues[column] = np.where(np.isnan(scaled), point, scaled)
        return issues


def interaction_signals(
    keywords: KeywordSignals, interactions: pd.DataFrame, handling_cost: float
) -> pd.DataFrame:
    """Keyword signals of interactions, one row each (``compute_signals`` without self-training).

    Depends on the taxonomy only, not on the batch analysis, so the live path computes it on
    its own thread while the interactions are written (pyarrow's regular expressions release
    the GIL).

    Parameters
    ----------
    keywords : KeywordSignals
        Fitted on the taxonomy.
    interactions : pandas.DataFrame
        Interactions contract rows as stored (``id``, ``customer_id``, ``timestamp``,
        ``channel``, ``text``, ``handling_cost``).
    handling_cost : float
        Cost of a contact whose ``handling_cost`` is missing (currency units).

    Returns
    -------
    pandas.DataFrame
        ``interaction_id``, ``customer_id``, ``timestamp``, ``channel``, ``handling_cost``,
        the keyword signals, and ``repeat_contact`` (False; marked against the history when
        scored).
    """
    texts = interactions["text"].fillna("").astype(str).reset_index(drop=True)
    detected = keywords.transform(texts)
    frame = pd.DataFrame(
        {
            "interaction_id": interactions["id"].to_numpy(),
            "customer_id": interactions["customer_id"].to_numpy(),
            "timestamp": pd.to_datetime(interactions["timestamp"]).to_numpy(),
            "channel": interactions["channel"].to_numpy(),
            "handling_cost": pd.to_numeric(interactions["handling_cost"])
            .astype(float)
            .fillna(handling_cost)
            .to_numpy(),
        }
    )
    frame = frame.join(detected.reset_index(drop=True))
    frame["repeat_contact"] = False
    return frame


def customer_exposure(
    features: pd.DataFrame,
    model: ChurnRiskModel,
    values: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    horizon_factor: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customer-issue rows and risk rows of some customers, with a fitted model.

    The per-customer part of :func:`cximpact.exposure.issues.compute_exposure` (same formulas:
    ``revenue_at_risk = P(churn) x value`` and the attribution of
    :func:`~cximpact.exposure.attribution.allocate_attributable_risk`), without the issue
    ranking and the bootstrap, which need every customer: the live path rescores the customers
    a batch touched and keeps the issue totals itself.

    Parameters
    ----------
    features : pandas.DataFrame
        ``customer_features`` of active customers (index ``customer_id``), the model's columns.
    model : ChurnRiskModel
        The fitted churn model.
    values : pandas.DataFrame
        ``estimate_values`` output indexed by ``customer_id``.
    summary : pandas.DataFrame
        ``customer_signal_summary`` of these customers' signals.
    horizon_factor : float
        Horizon over the period the model's probabilities refer to.

    Returns
    -------
    (customers, risk) : tuple of DataFrame
        As ``ExposureResult.customers`` (sorted by issue, value descending) and
        ``ExposureResult.risk``.
    """
    contributions = model.issue_contributions(features)
    logit = model.decision_function(features)
    attribution = allocate_attributable_risk(logit, contributions, horizon_factor)
    vals = values.reindex(features.index)
    value = vals["value"].to_numpy(dtype=float)
    issues = [c.removeprefix("issue:") for c in model.issue_columns_]
    risk = pd.DataFrame(
        {
            "customer_id": features.index,
            "churn_probability": attribution.p_full,
            "baseline_probability": attribution.p_base,
            "value": value,
            "value_source": vals["value_source"].to_numpy(),
            "revenue_at_risk": attribution.p_full * value,
            "attributable_revenue_at_risk": (attribution.p_full - attribution.p_base) * value,
            "risk_source": model.source_,
        }
    )
    rows, cols = np.nonzero(features[model.issue_columns_].to_numpy() > 0)
    long = pd.DataFrame(
        {
            "customer_id": features.index.to_numpy()[rows],
            "issue": np.asarray(issues, dtype=object)[cols],
            "segment": vals["segment"].to_numpy()[rows],
            "value": value[rows],
            "value_low": vals["value_low"].to_numpy()[rows],
            "value_high": vals["value_high"].to_numpy()[rows],
            "value_source": vals["value_source"].to_numpy()[rows],
            "churn_probability": attribution.p_full[rows],
            "attributable_probability": attribution.allocated[rows, cols],
        }
    )
    long["revenue_at_risk"] = long["attributable_probability"] * long["value"]
    long = _with_summary(long, summary)
    long["why"] = _why(long)
    return long.sort_values(["issue", "value"], ascending=[True, False]), risk


def _with_summary(long: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """``long`` left-joined with ``summary`` on (customer, issue), columns in merge order.

    Every customer-issue row has its summary row (both come from the same topic mentions), so
    the join is a lookup: a dict of the summary's (customer, issue) pairs, a ``take`` per
    column; a row without one, or keys that are not plain strings (never expected), fall back
    to ``DataFrame.merge``.
    """
    right = summary.rename(columns={"root_cause": "issue"})
    if long.empty or right.empty:
        return long.merge(right, on=["customer_id", "issue"], how="left")
    pairs = list(zip(right["customer_id"].tolist(), right["issue"].tolist(), strict=True))
    lookup = {pair: k for k, pair in enumerate(pairs)}
    wanted = zip(long["customer_id"].tolist(), long["issue"].tolist(), strict=True)
    position = np.array([lookup.get(pair, -1) for pair in wanted], dtype=np.intp)
    plain = all(type(c) is str and type(i) is str for c, i in pairs)  # keys equal as strings
    if (position < 0).any() or len(lookup) < len(pairs) or not plain:
        return long.merge(right, on=["customer_id", "issue"], how="left")
    picked = right.drop(columns=["customer_id", "issue"]).take(position)
    return pd.concat([long, picked.set_axis(long.index)], axis=1)


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
