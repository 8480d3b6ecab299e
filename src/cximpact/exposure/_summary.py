"""The per-customer, per-topic signal summary on integer codes (no per-mention frame).

:func:`cximpact.exposure.issues.customer_signal_summary` grouped a copy of the signals with
one row per mention (every column, millions of rows). Here each needed column is read once
from the signals, indexed by the mentions' row positions, and reduced with ``np.bincount``
over dense group codes: (customer code, topic rank) pairs numbered in sorted order, which is
the order of the groups of a sorted ``groupby``.

Sums of 0/1 columns are exact in any order and use ``np.bincount``. The cost and sentiment
sums go through pandas' groupby (compensated, Kahan, sums over the mentions in the same
order as before), so they are the same numbers to the last bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cximpact.exposure._codes import customer_codes, gather, mention_codes, sorted_labels

__all__ = ["signal_summary"]

IntArray = NDArray[np.intp]
#: Groups (customers x topics) above which the dense numbering gives way to a sort.
DENSE_GROUPS = 64_000_000


def signal_summary(
    signals: pd.DataFrame, competitors: Callable[[pd.DataFrame], pd.Series]
) -> pd.DataFrame | None:
    """The summary of :func:`cximpact.exposure.issues.customer_signal_summary`, or ``None``.

    ``None`` when the signals have a shape this path does not reproduce exactly (timestamps
    that are not plain ``datetime64``); the caller then groups with pandas.

    Parameters
    ----------
    signals
        Interaction signals.
    competitors
        The caller's per-customer competitor join (``customer_id``, ``competitors`` rows in,
        one joined string per customer out).
    """
    stamp = signals["timestamp"].dtype
    if not (isinstance(stamp, np.dtype) and stamp.kind == "M") or isinstance(
        signals["customer_id"].dtype, pd.CategoricalDtype
    ):
        return None
    mentions = mention_codes(signals)
    position = mentions.position
    if len(position) == 0:
        return None
    customer, ids = customer_codes(signals["customer_id"])
    customer = customer[position]
    if (customer < 0).any():
        return None
    rank, topic_names = sorted_labels(mentions.names)
    topic = rank[mentions.topic]
    width = max(len(topic_names), 1)
    key = customer.astype(np.int64) * width + topic
    group, keys = _groups(key, len(ids) * width)
    count = len(keys)

    def column(name: str) -> Any:
        return signals[name].to_numpy(dtype=float)[position]

    def count_of(name: str) -> Any:
        """Sum per group of a 0/1 column (a count of the rows where it is true)."""
        values = signals[name].to_numpy()
        if values.dtype == bool:  # count the true rows: no float weights
            return np.bincount(group[values[position]], minlength=count).astype("int64")
        return flags(column(name))

    def flags(values: Any) -> Any:
        weights = np.where(np.isnan(values), 0.0, values)
        return np.bincount(group, weights, minlength=count).astype("int64")

    cost = (signals["handling_cost"].to_numpy(dtype=float)[position]) * mentions.weight
    # Float sums through pandas: its compensated sums, in the same row order, so the same
    # numbers to the last bit. The group numbers are category codes (every category occurs),
    # which spares pandas hashing them again.
    by_group = pd.Categorical.from_codes(group, categories=pd.RangeIndex(count))
    floats = pd.DataFrame({"cost": cost, "sentiment": column("sentiment")})
    grouped = floats.groupby(pd.Series(by_group), observed=False)  # no named-aggregation pass
    handling_cost = grouped["cost"].sum().to_numpy()
    mean_sentiment = grouped["sentiment"].mean().to_numpy()
    negative = (signals["sentiment_label"] == "negative").to_numpy(dtype=bool)[position]
    named = (signals["competitors"].fillna("") != "").to_numpy(dtype=bool)[position]
    summary = pd.DataFrame(
        {
            "customer_id": gather(pd.Series(np.asarray(ids)), keys // width),
            "root_cause": gather(pd.Series(topic_names), keys % width),
            "contacts": np.bincount(group, minlength=count).astype("int64"),
            "repeat_contacts": count_of("repeat_contact"),
            "handling_cost": handling_cost,
            "mean_sentiment": mean_sentiment,
            "negative_contacts": np.bincount(group[negative], minlength=count).astype("int64"),
            "escalations": count_of("escalation"),
            "churn_language": count_of("churn_language"),
            "competitor_mentions": np.bincount(group[named], minlength=count).astype("int64"),
            "last_contact": _latest(signals["timestamp"], position, group, count),
        }
    )
    for name in ("escalation_phrase", "churn_phrase"):
        summary[name] = _phrases(signals, name, position, group, count)
    rows = position[named]  # rows of the mentions that named a competitor (few)
    said = pd.DataFrame(
        {
            "customer_id": signals["customer_id"].iloc[rows].to_numpy(),
            "competitors": signals["competitors"].iloc[rows].to_numpy(),
        }
    )
    by_customer = competitors(said)
    if by_customer.empty:  # no names: "" everywhere (the same column the map + fillna gave)
        summary["competitors"] = pd.Series("", index=summary.index, dtype=object)
    else:
        summary["competitors"] = summary["customer_id"].map(by_customer).fillna("")
    return summary


def _groups(key: NDArray[np.int64], span: int) -> tuple[IntArray, NDArray[np.int64]]:
    """Dense group number of each key, in sorted key order, and the sorted distinct keys."""
    if span <= DENSE_GROUPS:
        present = np.zeros(span, dtype=bool)
        present[key] = True
        keys = np.flatnonzero(present).astype(np.int64)
        number = np.cumsum(present, dtype=np.intp) - 1
        return number[key], keys
    keys, group = np.unique(key, return_inverse=True)
    return group.astype(np.intp).ravel(), keys


def _latest(stamps: pd.Series, position: IntArray, group: IntArray, count: int) -> Any:
    """Latest timestamp per group (``NaT`` is the smallest int64, so it never wins)."""
    values = stamps.to_numpy()
    ticks = values.view(np.int64)[position]
    latest = np.full(count, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, group, ticks)
    return latest.view(values.dtype)


def _phrases(
    signals: pd.DataFrame, name: str, position: IntArray, group: IntArray, count: int
) -> pd.Series:
    """Largest phrase a detector matched per group ("" when none), over the rows with one."""
    if name in signals:
        text = signals[name].fillna("")
        rows = np.flatnonzero((text != "").to_numpy(dtype=bool)[position])
        values = text.iloc[position[rows]].astype(str).to_numpy()
    else:
        rows, values = np.zeros(0, dtype=np.intp), np.zeros(0, dtype=object)
    if len(rows) == 0:  # the column a groupby of nothing gave: "" as objects
        return pd.Series("", index=pd.RangeIndex(count), dtype=object)
    # the largest string of each group: the largest of their ranks in sorted order
    rank, distinct = pd.factorize(np.asarray(values, dtype=object), sort=True)
    best = np.full(count, -1, dtype=np.intp)
    np.maximum.at(best, group[rows], rank)
    largest = np.full(count, "", dtype=object)
    largest[best >= 0] = np.asarray(distinct, dtype=object)[best[best >= 0]]
    return pd.Series(largest)  # strings: inferred as pandas' string dtype, as before
