"""Incremental scoring: new interactions against the models of the last batch analysis.

:class:`LiveView` is one immutable snapshot of what the service shows (issues, customer-issue
rows, per-customer risk, signals); :class:`LiveScorer` returns the next snapshot with new or
changed interactions scored in. Pure computation over DataFrames (and, for a batch's few
customers, over arrays: :mod:`cximpact.service._few`): no I/O, no threads.
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
from cximpact.exposure.issues import (
    _rank_issues,
    customer_signal_summary,
    issue_flags,
)
from cximpact.flow import Analysis
from cximpact.risk.model import customer_features
from cximpact.service._few import FewCustomers, customer_exposure, plain
from cximpact.service._rows import Columns, SignalRows, isin
from cximpact.settings import Settings
from cximpact.signals.keywords import KeywordSignals, load_taxonomy
from cximpact.signals.repeat import mark_repeat_contacts, repeat_contact_flags

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
#: Columns of :meth:`LiveScorer.issue_sums`, in order.
_TOTALS = ("customers", *(total for total, _ in _SUMS), "sentiment_sum", "sentiment_n")


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

    A batch of plain signals (:func:`~cximpact.service._few.plain`) is scored on arrays: the
    signals rows as :class:`~cximpact.service._rows.Columns`, repeat contacts by
    :func:`~cximpact.signals.repeat.repeat_contact_flags`, the customers' rows by
    :class:`~cximpact.service._few.FewCustomers` (covariates and values read once, here);
    pandas' cost per operation would dominate on its few hundred rows. Other signals take
    the frame functions. Both give the same snapshot.

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
        self._effects = analysis.model.issue_effects_
        self._errors = analysis.model.issue_standard_errors_
        self._values = analysis.values.set_index("customer_id")
        self._issue_names = pd.Index(
            [c.removeprefix("issue:") for c in analysis.model.issue_columns_], name="issue"
        )
        self._few = (
            FewCustomers(
                self.customers,
                self._values,
                analysis.model,
                as_of=analysis.as_of,
                horizon_factor=self.horizon_factor,
                language=settings.risk_language_signals,
            )
            if FewCustomers.takes(self.customers, self._values)
            else None
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
        history: Columns | pd.DataFrame
        if self._few is not None and plain(view.signal_rows, fresh):
            history, affected, signal_rows = self._history(view, fresh)
        else:
            history, affected, signal_rows = self._history_frame(view, fresh)
        scorable = [c for c in affected if c in self.customers.index and c not in self.churned]
        customers_long, risk = view.customers, view.risk
        totals = view.totals if view.totals is not None else self.issue_sums(customers_long)
        touched: set[str] = set()
        if scorable:
            long, rows = self._rescored(history, scorable)
            drop_long = isin(customers_long["customer_id"], scorable)
            drop_risk = isin(risk["customer_id"], scorable)
            removed = np.flatnonzero(drop_long)
            totals, touched = self._moved(totals, long, customers_long, removed)
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

    def _history(
        self, view: LiveView, fresh: pd.DataFrame
    ) -> tuple[Columns, np.ndarray, SignalRows]:
        """The affected customers' signals rows as arrays (history, with repeat contacts
        marked as a batch run marks them), the affected customers, and the view's rows."""
        new = Columns.of(fresh)
        earlier, moved, rest = view.signal_rows.take_rows(new["interaction_id"], new["customer_id"])
        affected = pd.unique(np.concatenate([new["customer_id"], moved]))
        history = Columns.concat([earlier, new])
        repeat = repeat_contact_flags(
            history["customer_id"],
            history["timestamp"],
            history["root_cause"],
            self.settings.repeat_contact_days,
        )
        history = history.replace("repeat_contact", repeat)
        return history, affected, rest.plus_rows(history)

    def _history_frame(
        self, view: LiveView, fresh: pd.DataFrame
    ) -> tuple[pd.DataFrame, np.ndarray, SignalRows]:
        """:meth:`_history` as a frame, for signals of other columns or dtypes."""
        earlier, moved, rest = view.signal_rows.take(
            fresh["interaction_id"].to_numpy(), fresh["customer_id"].to_numpy()
        )
        affected = pd.unique(np.concatenate([fresh["customer_id"].to_numpy(), moved]))
        history = pd.concat([earlier, fresh], ignore_index=True)
        history["repeat_contact"] = mark_repeat_contacts(
            history[["customer_id", "timestamp", "root_cause"]],
            self.settings.repeat_contact_days,
        ).to_numpy()
        # the affected customers' earlier rows too: a new or corrected contact can make one of
        # them a repeat (or not), so their whole history is replaced, as a batch run marks it
        return history, affected, rest.plus(history)

    def _rescored(
        self, history: Columns | pd.DataFrame, scorable: list[str]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Customer-issue rows and risk rows of ``scorable`` from the affected ``history``."""
        if isinstance(history, pd.DataFrame):
            return self._exposure(history[isin(history["customer_id"], scorable)], scorable)
        assert self._few is not None
        wanted = set(scorable)
        mine = [c in wanted for c in history["customer_id"].tolist()]
        part = history.take(np.flatnonzero(mine))
        found = self._few.rows(part, scorable)
        return self._exposure(part.frame(), scorable) if found is None else found

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
        names, _, sums = self._sums(customers_long)
        return pd.DataFrame(sums, index=names, columns=list(_TOTALS))

    def _sums(
        self, customers_long: pd.DataFrame, rows: np.ndarray | None = None
    ) -> tuple[pd.Index, np.ndarray, np.ndarray]:
        """The issues of :meth:`issue_sums`, each row's issue (code into them) and the sums
        (issues x :data:`_TOTALS`), of the rows at ``rows`` (all when ``None``)."""

        def column(name: str) -> np.ndarray:
            series = customers_long[name]
            if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf":
                values = series.to_numpy()
            else:
                values = series.to_numpy(dtype=float, na_value=np.nan)
            return (values if rows is None else values[rows]).astype(float, copy=False)

        names = self._issue_names
        issue = np.empty(0, dtype=object)
        if len(customers_long):
            issue = customers_long["issue"].to_numpy(dtype=object)
        index = pd.Index(issue if rows is None else issue[rows], dtype=object)
        codes = names.get_indexer(index)
        if (codes < 0).any():  # an issue outside the model: extend the index (never expected)
            names = names.append(pd.Index(sorted(set(index) - set(names)), dtype=object))
            codes = names.get_indexer(index)
        size = len(names)
        sums = [np.bincount(codes, minlength=size).astype(float)]
        for _, name in _SUMS:
            sums.append(np.bincount(codes, np.nan_to_num(column(name)), minlength=size))
        sentiment = column("mean_sentiment")
        said = ~np.isnan(sentiment)
        sums.append(np.bincount(codes[said], sentiment[said], minlength=size))
        sums.append(np.bincount(codes[said], minlength=size).astype(float))
        return names, codes, np.column_stack(sums)

    def _moved(
        self,
        totals: pd.DataFrame,
        long: pd.DataFrame,
        customers_long: pd.DataFrame,
        removed: np.ndarray,
    ) -> tuple[pd.DataFrame, set[str]]:
        """``totals`` plus the sums of the new rows ``long``, minus those of the rows of
        ``customers_long`` at ``removed`` (the running sums of :meth:`issue_sums`), and the
        issues of those rows."""
        added, new, plus = self._sums(long)
        gone, old, minus = self._sums(customers_long, removed)
        issues = [added.to_numpy(dtype=object), gone.to_numpy(dtype=object)]
        touched = {str(issues[0][k]) for k in set(new.tolist())}
        touched |= {str(issues[1][k]) for k in set(old.tolist())}
        names, columns = self._issue_names, list(_TOTALS)
        aligned = totals.index.equals(names) and list(totals.columns) == columns
        if added is names and gone is names and aligned:  # the same issues: add the arrays
            moved = totals.to_numpy() + plus - minus
            return pd.DataFrame(moved, index=totals.index, columns=totals.columns), touched
        added_sums = pd.DataFrame(plus, added, columns)
        return totals + added_sums - pd.DataFrame(minus, gone, columns), touched

    def issues_from_sums(self, totals: pd.DataFrame) -> pd.DataFrame:
        """Issues ranked from per-issue sums: the columns and order of the batch ranking.

        Equal to :meth:`_issues` over the same customer-issue rows (up to float rounding of
        the running sums), without grouping them.
        """
        columns = list(totals.columns)
        sums = totals.to_numpy(dtype=float)
        present = sums[:, columns.index("customers")].round() > 0
        sums = sums[present]
        point = sums[:, columns.index("revenue_at_risk")]
        total = point.sum()  # in the order of the sums, as a frame's sum adds them
        order = _descending(point)
        sums, point = sums[order], point[order]
        names = totals.index[present][order].rename("issue")
        ranked: dict[str, Any] = {"rank": np.arange(1, len(names) + 1)}
        ranked["issue"] = names.to_numpy(dtype=object)  # inferred, as reset_index does
        for column in ("revenue_at_risk", "customers", "aggregate_ltv", "contacts"):
            ranked[column] = sums[:, columns.index(column)]
        for column in ("repeat_contacts", "handling_cost", "escalations"):
            ranked[column] = sums[:, columns.index(column)]
        for column in ("competitor_mentions", "churn_language"):
            ranked[column] = sums[:, columns.index(column)]
        for column in _COUNTS:
            ranked[column] = ranked[column].round().astype("int64")
        count = sums[:, columns.index("sentiment_n")]
        with np.errstate(invalid="ignore", divide="ignore"):
            ranked["mean_sentiment"] = np.where(
                count > 0, sums[:, columns.index("sentiment_sum")] / count, np.nan
            )
        ranked |= self._intervals(names, point)
        known = self._effects.index.get_indexer(names)
        ranked["log_odds_effect"] = _at(self._effects.to_numpy(dtype=float), known)
        ranked["log_odds_standard_error"] = _at(self._errors.to_numpy(dtype=float), known)
        ranked["risk_source"] = self.analysis.model.source_
        ranked["share_of_exposure"] = point / total if total > 0 else 0.0
        return pd.DataFrame(ranked)

    def _issues(self, customers_long: pd.DataFrame) -> pd.DataFrame:
        """Per-issue totals of the customer-issue rows, ranked, as the batch flow ranks them.

        The bootstrap is not repeated live: each issue keeps the batch interval, scaled by how
        its revenue at risk moved since (an issue the batch did not know gets its point).
        """
        zeros = pd.DataFrame(0.0, index=self._batch.index, columns=list(_INTERVAL))
        return self._scaled_intervals(_rank_issues(customers_long, self.analysis.model, zeros))

    def _scaled_intervals(self, issues: pd.DataFrame) -> pd.DataFrame:
        """``issues`` with :meth:`_intervals` set."""
        point = issues["revenue_at_risk"].to_numpy(dtype=float)
        for column, values in self._intervals(pd.Index(issues["issue"]), point).items():
            issues[column] = values
        return issues

    def _intervals(self, names: pd.Index, point: np.ndarray) -> dict[str, np.ndarray]:
        """Each issue's batch interval scaled by how its revenue at risk (``point``) moved
        since; an issue the batch did not know gets its point."""
        batch = self._batch.index.get_indexer(names)
        before = _at(self._batch["revenue_at_risk"].to_numpy(dtype=float), batch)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(before > 0, point / before, 1.0)
        scaled = {}
        for column in _INTERVAL:
            interval = _at(self._batch[column].to_numpy(dtype=float), batch) * ratio
            scaled[column] = np.where(np.isnan(interval), point, interval)
        return scaled


def interaction_signals(
    keywords: KeywordSignals, interactions: pd.DataFrame, handling_cost: float
) -> pd.DataFrame:
    """Keyword signals of interactions, one row each (``compute_signals`` without self-training).

    Depends on the taxonomy only, not on the batch analysis, so the live path computes it on
    its worker process with the round's validation (:mod:`cximpact.service._worker`).

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


def _descending(values: np.ndarray) -> np.ndarray:
    """Positions ordering ``values`` high to low, missing last: the order of
    ``sort_values(ascending=False)`` (its quicksort on the reversed values)."""
    missing = np.isnan(values)
    present = np.flatnonzero(~missing)[::-1]
    order = present[values[present].argsort(kind="quicksort")][::-1]
    return np.concatenate([order, np.flatnonzero(missing)])


def _at(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``values`` at ``positions``, NaN where a position is ``-1`` (not found)."""
    taken: np.ndarray = np.append(values, np.nan)[positions]
    return taken


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
