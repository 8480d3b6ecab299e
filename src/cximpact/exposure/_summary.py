"""The per-customer, per-topic signal summary on integer codes (no per-mention frame).

:func:`cximpact.exposure.issues.customer_signal_summary` grouped a copy of the signals with
one row per mention (every column, millions of rows). Here each needed column is read once
from the signals, indexed by the mentions' row positions, and reduced with ``np.bincount``
over dense group codes: (customer code, topic rank) pairs numbered in sorted order, which is
the order of the groups of a sorted ``groupby``.

Sums of 0/1 columns are exact in any order and use ``np.bincount``. The cost and sentiment
sums go through pandas' groupby (compensated, Kahan, sums over the mentions in the same
order as before), so they are the same numbers to the last bit.

For the few hundred rows of a live batch, where pandas' cost per operation dominates,
:func:`few_signal_summary` gives the same groups and numbers from plain Python values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cximpact.exposure._codes import OTHER, customer_codes, gather, mention_codes, sorted_labels

__all__ = ["SUMMARY_COLUMNS", "FewSummary", "few_signal_summary", "signal_summary"]

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


#: The summary's columns after its keys (``customer_id``, ``root_cause``), in order.
SUMMARY_COLUMNS = (
    "contacts",
    "repeat_contacts",
    "handling_cost",
    "mean_sentiment",
    "negative_contacts",
    "escalations",
    "churn_language",
    "competitor_mentions",
    "last_contact",
    "escalation_phrase",
    "churn_phrase",
    "competitors",
)
_PHRASES = ("escalation_phrase", "churn_phrase")
#: ``NaT`` as int64 ticks: the smallest, so never the latest contact.
_NAT = np.iinfo(np.int64).min


class FewSummary:
    """:func:`signal_summary` of a few rows: each (customer, topic) group's values.

    Attributes
    ----------
    groups : dict
        ``(customer, topic)`` to the group's values in :data:`SUMMARY_COLUMNS` order (the
        latest contact as int64 ticks).
    """

    def __init__(
        self,
        groups: dict[tuple[Any, Any], tuple[Any, ...]],
        stamp: np.dtype[Any],
        said: dict[str, bool],
        named: bool,
    ) -> None:
        self.groups = groups
        self._stamp = stamp
        self._said = said
        self._named = named

    def columns(self, pairs: Sequence[tuple[Any, Any]]) -> dict[str, Any]:
        """The summary's columns (:data:`SUMMARY_COLUMNS`) for these (customer, topic) groups,
        each as :func:`signal_summary` has it, taken at those groups (same dtypes in a frame).
        """
        rows = [self.groups[pair] for pair in pairs]
        values = list(zip(*rows, strict=True)) if rows else [()] * len(SUMMARY_COLUMNS)
        out: dict[str, Any] = {}
        for name, column in zip(SUMMARY_COLUMNS, values, strict=True):
            if name in ("handling_cost", "mean_sentiment"):
                out[name] = np.array(column, dtype=float)
            elif name == "last_contact":
                out[name] = np.array(column, dtype=np.int64).view(self._stamp)
            elif name in _PHRASES or name == "competitors":
                texts = np.array(column, dtype=object)
                typed = self._named if name == "competitors" else self._said[name]
                # no text at all: a column of "" objects, as the frame path gives; else strings
                out[name] = texts if typed else pd.Series(texts, dtype=object)
            else:
                out[name] = np.array(column, dtype=np.int64)
        return out


def few_signal_summary(signals: Mapping[str, np.ndarray]) -> FewSummary:
    """:func:`signal_summary` of a few rows given as arrays, without pandas.

    On the few hundred rows of a live batch pandas' cost per operation dominates; here each
    mention is visited once. Float sums are compensated (Kahan) sums in mention order, as
    pandas' groupby adds them, so the numbers are the same to the last bit.

    Parameters
    ----------
    signals
        Column name to ``Series.to_numpy()`` of the signals columns the summary reads:
        ``customer_id`` (no missing ids), ``timestamp`` (naive ``datetime64``), the topic,
        detector and sentiment columns; ``repeat_contact``, ``escalation`` and
        ``churn_language`` boolean or float.

    Returns
    -------
    FewSummary
        Its groups are those of :func:`signal_summary` (which is ``None`` without mentions).
    """
    customer = signals["customer_id"].tolist()
    primary = signals["root_cause"].tolist()
    secondary = signals["secondary_root_cause"].tolist()
    second = [_present(s) and s != "" for s in secondary]
    mentions = [(k, t, 0.5 if second[k] else 1.0) for k, t in enumerate(primary) if _topic(t)]
    mentions += [(k, t, 0.5) for k, t in enumerate(secondary) if _topic(t)]
    cost = signals["handling_cost"].astype(float).tolist()
    sentiment = signals["sentiment"].astype(float).tolist()
    negative = [type(v) is str and v == "negative" for v in signals["sentiment_label"].tolist()]
    named = [_present(v) and v != "" for v in signals["competitors"].tolist()]
    flags = [_flags(signals[c]) for c in ("repeat_contact", "escalation", "churn_language")]
    ticks = signals["timestamp"].view(np.int64).tolist()
    phrases = [_texts(signals, name, len(customer)) for name in _PHRASES]
    # per group: contacts; repeats, escalations, churn language; cost (sum, compensation);
    # sentiment (sum, compensation, count); negative; competitor mentions; latest; 2 phrases
    sums: dict[tuple[Any, Any], list[Any]] = {}
    for k, topic, weight in mentions:
        key = (customer[k], topic)
        group = sums.get(key)
        if group is None:
            group = sums[key] = [0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, _NAT, "", ""]
        group[0] += 1
        group[1] += flags[0][k]
        group[2] += flags[1][k]
        group[3] += flags[2][k]
        _kahan(group, 4, cost[k] * weight)
        if sentiment[k] == sentiment[k]:
            _kahan(group, 6, sentiment[k])
            group[8] += 1
        group[9] += negative[k]
        group[10] += named[k]
        group[11] = max(group[11], ticks[k])
        group[12] = max(group[12], phrases[0][k])
        group[13] = max(group[13], phrases[1][k])
    texts = signals["competitors"]
    competitors = _competitors([(customer[k], texts[k]) for k, _, _ in mentions if named[k]])
    groups = {
        key: (
            g[0],
            int(g[1]),
            g[4],
            g[6] / g[8] if g[8] else np.nan,
            g[9],
            int(g[2]),
            int(g[3]),
            g[10],
            g[11],
            g[12],
            g[13],
            competitors.get(key[0], ""),
        )
        for key, g in sums.items()
    }
    said = {
        name: any(found[k] for k, _, _ in mentions)
        for name, found in zip(_PHRASES, phrases, strict=True)
    }
    return FewSummary(groups, signals["timestamp"].dtype, said, bool(competitors))


def _present(value: object) -> bool:
    """Whether ``value`` is present (not ``None``, NaN, ``NA`` or ``NaT``)."""
    return not (value is None or value is pd.NA or value is pd.NaT or value != value)


def _topic(value: object) -> bool:
    """Whether a topic raises an issue: present, not ``other``, not empty."""
    return _present(value) and value != OTHER and value != ""


def _flags(values: np.ndarray) -> list[float]:
    """A 0/1 column as floats to add up (missing values count 0)."""
    numbers = values.astype(float)
    counted: list[float] = np.where(np.isnan(numbers), 0.0, numbers).tolist()
    return counted


def _texts(signals: Mapping[str, np.ndarray], name: str, rows: int) -> list[str]:
    """A detector's phrase per row as a string, ``""`` where none (or no such column)."""
    if name not in signals:
        return [""] * rows
    return [str(v) if _present(v) and v != "" else "" for v in signals[name].tolist()]


def _kahan(group: list[Any], at: int, value: float) -> None:
    """Add ``value`` to the compensated sum at ``group[at]`` (compensation at ``at + 1``),
    as pandas' groupby sum and mean do; NaN values are skipped."""
    if value != value:
        return
    y = value - group[at + 1]
    t = group[at] + y
    compensation = t - group[at] - y
    group[at + 1] = 0.0 if compensation != compensation else compensation
    group[at] = t


def _competitors(said: list[tuple[Any, Any]]) -> dict[Any, str]:
    """Comma-joined competitor names each customer mentioned, for customers who named one
    (as :func:`cximpact.exposure.issues._competitors_by_customer`)."""
    names: dict[Any, set[str]] = {}
    for customer, text in said:
        found = {n.strip() for n in str(text).split(",") if n.strip()}
        if found:
            names.setdefault(customer, set()).update(found)
    return {customer: ", ".join(sorted(found)) for customer, found in names.items()}
