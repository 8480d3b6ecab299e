"""Customer-issue rows and risk rows of the few customers a live batch touched.

Two ways to the same frames: :func:`customer_exposure` takes the frame functions of the batch
flow (issue flags, model features, signal summary), whose cost per pandas operation dominates
on a few hundred rows; :class:`FewCustomers` reads what is per customer (the model's
covariates, the values) once per scorer, sums a batch's rows in Python
(:func:`~cximpact.exposure._summary.few_signal_summary`) and has the model score an array of
the batch's customers: the same numbers, in the same order. :func:`plain` tells which signals
the second takes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cximpact.exposure._summary import FewSummary, few_signal_summary
from cximpact.exposure._table import _reason
from cximpact.exposure.attribution import allocate_attributable_risk
from cximpact.exposure.issues import _why
from cximpact.risk.model import (
    SIGNAL_COLUMNS,
    ChurnRiskModel,
    customer_features,
    few_signal_covariates,
)
from cximpact.service._rows import Columns, SignalRows

__all__ = ["FewCustomers", "customer_exposure", "plain"]

#: The columns of ``values`` a customer-issue row carries, as they are stored.
_VALUES = ("segment", "value_low", "value_high", "value_source")
#: Signals columns :class:`FewCustomers` reads, and the dtype each must have: pandas' string
#: dtype, or a numpy kind (naive datetime64, float, bool).
_PLAIN = {
    "interaction_id": "str",
    "customer_id": "str",
    "root_cause": "str",
    "secondary_root_cause": "str",
    "sentiment_label": "str",
    "competitors": "str",
    "timestamp": "M",
    "handling_cost": "f",
    "sentiment": "f",
    "repeat_contact": "b",
    "escalation": "b",
    "churn_language": "b",
}
#: Signals columns it reads when they are there (strings).
_PHRASES = ("escalation_phrase", "churn_phrase")


def plain(kept: SignalRows, fresh: pd.DataFrame) -> bool:
    """Whether :class:`FewCustomers` takes these signals rows.

    Parameters
    ----------
    kept : SignalRows
        The view's signals rows.
    fresh : pandas.DataFrame
        The batch's signals: they and every kept row must have one layout
        (:meth:`SignalRows.fits`), and the columns read plain dtypes (strings, naive
        ``datetime64``, floats, booleans).
    """
    if not kept.fits(fresh):
        return False
    layout = kept.layout
    wanted = _PLAIN | {name: "str" for name in _PHRASES if name in layout}
    return all(
        name in layout and _kind(layout.dtypes[name]) == kind for name, kind in wanted.items()
    )


def _kind(dtype: Any) -> str:
    """``"str"`` for pandas' string dtype, a numpy dtype's kind, else ``""``."""
    if isinstance(dtype, pd.StringDtype):
        return "str"
    return dtype.kind if isinstance(dtype, np.dtype) else ""


class FewCustomers:
    """Scores a few customers at a time with a fitted model (:meth:`rows`).

    Parameters
    ----------
    customers : pandas.DataFrame
        The customers table indexed by ``id`` (unique, no missing ids).
    values : pandas.DataFrame
        ``estimate_values`` output indexed by ``customer_id`` (unique).
    model : ChurnRiskModel
        The fitted churn model.
    as_of : pandas.Timestamp
        Reference time of the customers' tenure.
    horizon_factor : float
        Horizon over the period the model's probabilities refer to.
    language : bool
        Whether the model reads what customers said (``risk_language_signals``).
    """

    def __init__(
        self,
        customers: pd.DataFrame,
        values: pd.DataFrame,
        model: ChurnRiskModel,
        *,
        as_of: pd.Timestamp,
        horizon_factor: float,
        language: bool,
    ) -> None:
        self.model = model
        self.horizon_factor = horizon_factor
        self.ids = customers.index
        self.position = {c: k for k, c in enumerate(customers.index.tolist())}
        no_flags = pd.DataFrame(index=pd.Index([], name="customer_id"))
        features = customer_features(customers.reset_index(drop=True), no_flags, as_of=as_of)
        self.covariates = features.reindex(columns=model.columns_, fill_value=0.0).to_numpy(
            dtype=float
        )
        at = {c: k for k, c in enumerate(model.columns_)}
        names = [c.removeprefix("issue:") for c in model.issue_columns_]
        self.issues = np.asarray(names, dtype=object)
        self.issue_columns = np.array([at[c] for c in model.issue_columns_], dtype=np.intp)
        self.issue_at = dict(zip(names, self.issue_columns.tolist(), strict=True))
        self.effects = model.issue_effects_.to_numpy(dtype=float)[None, :]
        language_at = [(at[c], k) for k, c in enumerate(SIGNAL_COLUMNS) if c in at]
        self.language = language_at if language else None
        vals = values.reindex(customers.index)
        self.value = vals["value"].to_numpy(dtype=float)
        self.values = {c: vals[c].to_numpy() for c in _VALUES}

    @staticmethod
    def takes(customers: pd.DataFrame, values: pd.DataFrame) -> bool:
        """Whether these tables can be read per customer: ids unique and present (else the
        frame functions answer, as they did)."""
        ids = customers.index
        return bool(ids.is_unique and values.index.is_unique and not ids.hasnans)

    def rows(
        self, signals: Columns, scorable: list[Any]
    ) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """Customer-issue rows and risk rows of ``scorable`` from their signals rows.

        The frames :func:`customer_exposure` returns for the same customers (in this order)
        and signals (the customer-issue rows with a fresh index), or ``None`` when no
        customer has an issue the model knows (that frame is a merge of empty tables, left
        to the frame functions).

        Parameters
        ----------
        signals : Columns
            Every signals row of these customers (and no other), plain dtypes: string
            ids and topics, ``datetime64`` timestamps, boolean flags.
        scorable : list
            Active customers of the customers table.
        """
        summary = few_signal_summary(signals.arrays)
        at = [self.position[c] for c in scorable]
        features = self._features(signals, summary, scorable, at)
        model, ids = self.model, self.ids[at]
        logit = model.decision_function(pd.DataFrame(features, index=ids, columns=model.columns_))
        flags = features[:, self.issue_columns]
        contributions = flags * self.effects  # as model.issue_contributions
        attribution = allocate_attributable_risk(logit, contributions, self.horizon_factor)
        rows, cols = np.nonzero(flags > 0)
        if not len(rows):
            return None
        value = self.value[at]
        p_full, p_base = attribution.p_full, attribution.p_base
        risk = pd.DataFrame(
            {
                "customer_id": ids,
                "churn_probability": p_full,
                "baseline_probability": p_base,
                "value": value,
                "value_source": self.values["value_source"][at],
                "revenue_at_risk": p_full * value,
                "attributable_revenue_at_risk": (p_full - p_base) * value,
                "risk_source": model.source_,
            }
        )
        order = _table_order(self.issues[cols].tolist(), value[rows].tolist())
        rows, cols = rows[order], cols[order]
        customer = np.asarray(scorable, dtype=object)[rows]
        issue = self.issues[cols]
        pairs = list(zip(customer.tolist(), issue.tolist(), strict=True))
        allocated = attribution.allocated[rows, cols]
        columns: dict[str, Any] = {"customer_id": customer, "issue": issue}
        columns["segment"] = self.values["segment"][at][rows]
        columns["value"] = value[rows]
        for name in ("value_low", "value_high", "value_source"):
            columns[name] = self.values[name][at][rows]
        columns["churn_probability"] = p_full[rows]
        columns["attributable_probability"] = allocated
        columns["revenue_at_risk"] = allocated * value[rows]
        columns |= summary.columns(pairs)
        columns["why"] = pd.Series(_reasons(summary, pairs), dtype=object)
        return pd.DataFrame(columns), risk

    def _features(
        self, signals: Columns, summary: FewSummary, scorable: list[Any], at: list[int]
    ) -> np.ndarray:
        """The model's input for these customers: covariates, then issue flags (and what
        they said), as ``customer_features`` gives them."""
        features = self.covariates[at]
        row = {c: k for k, c in enumerate(scorable)}
        for customer, topic in summary.groups:
            column = self.issue_at.get(topic)
            if column is not None:
                features[row[customer], column] = 1.0
        if self.language is not None:
            for customer, said in few_signal_covariates(signals.arrays).items():
                for column, k in self.language:
                    features[row[customer], column] = said[k]
        return features


def _table_order(issues: list[str], values: list[float]) -> list[int]:
    """Positions ordering rows by issue, then value high to low (missing last), ties in row
    order: ``sort_values(["issue", "value"], ascending=[True, False])``."""

    def key(k: int) -> tuple[str, bool, float]:
        value = values[k]
        return (issues[k], False, -value) if value == value else (issues[k], True, 0.0)

    return sorted(range(len(issues)), key=key)


def _reasons(summary: FewSummary, pairs: list[tuple[Any, Any]]) -> np.ndarray:
    """The "why" of each customer-issue row (:func:`cximpact.exposure._table.why`)."""
    reasons = np.empty(len(pairs), dtype=object)
    seen: dict[tuple[Any, ...], str] = {}
    for k, pair in enumerate(pairs):
        group = summary.groups[pair]  # in SUMMARY_COLUMNS order
        contacts, repeats, _, sentiment, _, escalations, leaving = group[:7]
        bits = (
            (repeats > 0) + 2 * (escalations > 0) + 4 * (leaving > 0) + 8 * bool(sentiment < -0.3)
        )
        said = group[9:12]  # the escalation and churn phrases, the competitors
        key = (contacts, str(pair[1]), bits, *said)
        reason = seen.get(key)
        if reason is None:
            reason = seen[key] = _reason(key[0], key[1], key[2], list(key[3:]))
        reasons[k] = reason
    return reasons


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
    strings = all(type(c) is str and type(i) is str for c, i in pairs)  # keys equal as strings
    if (position < 0).any() or len(lookup) < len(pairs) or not strings:
        return long.merge(right, on=["customer_id", "issue"], how="left")
    picked = right.drop(columns=["customer_id", "issue"]).take(position)
    return pd.concat([long, picked.set_axis(long.index)], axis=1)
