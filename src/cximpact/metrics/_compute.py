"""The portfolio's formulas: pure functions over the stored tables, one per metric.

Each function takes the facts (:class:`MetricInputs`), the windows and the assumptions and
returns one :class:`WindowValue` per window, or raises :class:`NoData` naming what is missing.
Rows are assigned to windows with one ``searchsorted``; the loops run over windows, not rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Assumptions", "MetricInputs", "NoData", "Window", "WindowValue"]

_EMPTY = pd.DataFrame()


class NoData(Exception):
    """The data a metric needs is not in the store; the message says what would enable it."""


@dataclass(frozen=True)
class Window:
    """A calendar window ``[start, end)`` and its label (``2026-01``, ``2026Q1``, ``2026-W02``)."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> float:
        return (self.end - self.start) / pd.Timedelta(days=1)


@dataclass(frozen=True)
class WindowValue:
    """A metric's value in one window; ``value`` is None when the window has no data."""

    window: str
    start: pd.Timestamp
    end: pd.Timestamp
    value: float | None
    note: str | None = None
    by: dict[str, float] | None = None
    components: dict[str, float] | None = None
    change: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "window": self.window,
            "start": self.start.date().isoformat(),
            "end": self.end.date().isoformat(),
            "value": _round(self.value),
            "status": "ok" if self.value is not None else "no data",
            "change": _round(self.change),
        }
        if self.note:
            out["note"] = self.note
        if self.by is not None:
            out["by"] = {k: _round(v) for k, v in self.by.items()}
        if self.components is not None:
            out["components"] = {k: _round(v) for k, v in self.components.items()}
        return out


def _round(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


@dataclass(frozen=True)
class Assumptions:
    """Explicit assumptions of the formulas (settings of the same names feed them).

    Parameters
    ----------
    default_handling_cost
        Cost of a contact whose export has none (currency; setting ``handling_cost``).
    repeat_contact_days
        A contact on the same root cause within this many days repeats the previous one.
    status_root_causes
        Root causes that are status enquiries ("where is my order / refund / service").
    high_value_share
        Top share of customers by lifetime value counted as high value.
    purchase_margin_rate
        Margin share of revenue for customers without both monthly margin and revenue.
    lost_year_share
        Share of a year's margin lost when a customer churns within the year (0.5: customers
        leave, on average, mid-year).
    """

    default_handling_cost: float = 6.0
    repeat_contact_days: int = 14
    status_root_causes: tuple[str, ...] = ("late_delivery", "slow_refund", "network_outage")
    high_value_share: float = 0.2
    purchase_margin_rate: float = 0.30
    lost_year_share: float = 0.5


@dataclass(frozen=True)
class MetricInputs:
    """The stored tables the portfolio reads; derived tables are empty before `cximpact run`.

    ``customers`` is keyed by ``id`` as stored. Only facts dated before ``as_of`` count.
    """

    as_of: pd.Timestamp
    customers: pd.DataFrame
    interactions: pd.DataFrame
    outcomes: pd.DataFrame = field(default_factory=lambda: _EMPTY)
    transactions: pd.DataFrame = field(default_factory=lambda: _EMPTY)
    signals: pd.DataFrame = field(default_factory=lambda: _EMPTY)
    customer_values: pd.DataFrame = field(default_factory=lambda: _EMPTY)
    customer_exposure: pd.DataFrame = field(default_factory=lambda: _EMPTY)
    issue_exposure: pd.DataFrame = field(default_factory=lambda: _EMPTY)

    def until_as_of(self) -> MetricInputs:
        """A copy with timestamps parsed and facts after ``as_of`` dropped."""

        def cut(frame: pd.DataFrame, column: str) -> pd.DataFrame:
            if frame.empty or column not in frame:
                return frame
            stamps = pd.to_datetime(frame[column])
            return frame.assign(**{column: stamps})[stamps < self.as_of]

        return replace(
            self,
            interactions=cut(self.interactions, "timestamp"),
            transactions=cut(self.transactions, "timestamp"),
            signals=cut(self.signals, "timestamp"),
            outcomes=cut(self.outcomes, "churn_date"),
            customers=cut(self.customers, "start_date"),
        )


# -- helpers -------------------------------------------------------------------------------


def window_index(stamps: pd.Series, windows: Sequence[Window]) -> np.ndarray:
    """Index of the window holding each timestamp; -1 outside every window."""
    edges = np.array([w.start for w in windows] + [windows[-1].end], dtype="datetime64[ns]")
    values = pd.to_datetime(stamps).to_numpy(dtype="datetime64[ns]")
    idx = np.searchsorted(edges, values, side="right") - 1
    idx[(values < edges[0]) | (values >= edges[-1]) | np.isnat(values)] = -1
    return idx


def with_changes(values: list[WindowValue]) -> list[WindowValue]:
    """Each value with ``change`` against the previous window (None when either is None)."""
    out: list[WindowValue] = []
    previous: float | None = None
    for v in values:
        change: float | None = None if v.value is None or previous is None else v.value - previous
        out.append(replace(v, change=change))
        previous = v.value
    return out


def _need(frame: pd.DataFrame, columns: Sequence[str], enable: str) -> None:
    if frame.empty or any(col not in frame for col in columns):
        raise NoData(f"no data: needs {enable}")


def _known_flag(frame: pd.DataFrame, column: str, enable: str) -> pd.Series:
    """``column`` as a nullable boolean; NoData when the column is absent or never filled."""
    if frame.empty or column not in frame or frame[column].isna().all():
        raise NoData(f"no data: interactions carry no {column!r} flag; needs {enable}")
    return frame[column].astype("boolean")


def _costs(frame: pd.DataFrame, a: Assumptions) -> pd.Series:
    cost = frame["handling_cost"] if "handling_cost" in frame else pd.Series(np.nan, frame.index)
    return cost.astype(float).fillna(a.default_handling_cost)


def _per_window(
    index: np.ndarray, numerator: pd.Series, denominator: pd.Series, n: int
) -> np.ndarray:
    """Per window ``sum(numerator) / sum(denominator)``; NaN where the denominator is 0."""
    inside = index >= 0
    num = np.bincount(index[inside], weights=numerator.to_numpy(float)[inside], minlength=n)
    den = np.bincount(index[inside], weights=denominator.to_numpy(float)[inside], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _by(
    index: np.ndarray, keys: pd.Series, num: pd.Series, den: pd.Series | None, k: int
) -> dict[str, float]:
    mask = index == k
    if den is None:
        return {str(g): float(v) for g, v in num[mask].groupby(keys[mask]).sum().items()}
    grouped = pd.DataFrame({"n": num[mask], "d": den[mask], "g": keys[mask]}).groupby("g").sum()
    grouped = grouped[grouped["d"] > 0]
    return {str(g): float(r["n"] / r["d"]) for g, r in grouped.iterrows()}


def _values(
    windows: Sequence[Window],
    result: np.ndarray,
    empty_note: str,
    by: Sequence[dict[str, float] | None] | None = None,
) -> list[WindowValue]:
    out = []
    for k, w in enumerate(windows):
        value = float(result[k]) if np.isfinite(result[k]) else None
        out.append(
            WindowValue(
                w.label,
                w.start,
                w.end,
                value,
                None if value is not None else empty_note,
                by=by[k] if by is not None and value is not None else None,
            )
        )
    return out


def _ratio_metric(
    windows: Sequence[Window],
    stamps: pd.Series,
    numerator: pd.Series,
    denominator: pd.Series,
    keys: pd.Series | None,
    empty_note: str = "no contacts in the window",
) -> list[WindowValue]:
    index = window_index(stamps, windows)
    result = _per_window(index, numerator, denominator, len(windows))
    by = (
        [_by(index, keys, numerator, denominator, k) for k in range(len(windows))]
        if keys is not None
        else None
    )
    return _values(windows, result, empty_note, by)


def _churn_dates(inputs: MetricInputs) -> pd.Series:
    """Churn date per customer id (NaT when the customer has not churned)."""
    customers = inputs.customers["id"]
    if inputs.outcomes.empty:
        return pd.Series(pd.NaT, index=customers, dtype="datetime64[ns]")
    dates = pd.Series(
        pd.to_datetime(inputs.outcomes["churn_date"]).to_numpy(),
        index=inputs.outcomes["customer_id"],
    )
    return dates[~dates.index.duplicated()].reindex(customers)


def _active(inputs: MetricInputs, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Customers started before ``end`` and not churned before ``start``."""
    started = pd.to_datetime(inputs.customers["start_date"]).to_numpy() < end.to_datetime64()
    churn = _churn_dates(inputs).to_numpy()
    alive = np.isnat(churn) | (churn >= start.to_datetime64())
    result: np.ndarray = started & alive
    return result


def _contacts_with_causes(inputs: MetricInputs) -> pd.DataFrame:
    """Interactions with their root cause from signals (``""`` before any run)."""
    frame = inputs.interactions
    if not inputs.signals.empty and "root_cause" in inputs.signals:
        cause = inputs.signals.set_index("interaction_id")["root_cause"]
        return frame.assign(root_cause=frame["id"].map(cause).fillna("").astype(str))
    return frame.assign(root_cause="")


# -- short term ----------------------------------------------------------------------------


def cost_per_contact(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """``sum(handling_cost) / contacts`` per window, by channel."""
    frame = inputs.interactions
    _need(frame, ["timestamp"], "interactions")
    ones = pd.Series(1.0, index=frame.index)
    return _ratio_metric(windows, frame["timestamp"], _costs(frame, a), ones, frame["channel"])


def cost_per_customer(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """``sum(handling_cost) / active customers`` per window, by segment."""
    frame = inputs.interactions
    _need(frame, ["timestamp"], "interactions")
    _need(inputs.customers, ["id", "start_date"], "customers")
    index = window_index(frame["timestamp"], windows)
    segment = inputs.customers.set_index("id")["segment"]
    cost = _costs(frame, a)
    keys = frame["customer_id"].map(segment).fillna("unknown").astype(str)
    result = np.full(len(windows), np.nan)
    by: list[dict[str, float] | None] = []
    for k, w in enumerate(windows):
        active = _active(inputs, w.start, w.end)
        spent = cost[index == k].groupby(keys[index == k]).sum()
        counts = inputs.customers.loc[active, "segment"].astype(str).value_counts()
        if active.any():
            result[k] = float(spent.sum()) / int(active.sum())
        by.append({s: float(spent.get(s, 0.0)) / int(n) for s, n in counts.items() if n > 0})
    return _values(windows, result, "no active customers", by)


def _threads(contacts: pd.DataFrame, days: int) -> pd.DataFrame:
    """Contacts sorted by customer, root cause and time with thread ids.

    A thread is a run of contacts of one customer on one root cause, each within ``days`` of
    the previous one. Adds ``thread``, ``first`` (opens a thread) and ``followed`` (another
    contact of the thread follows).
    """
    ordered = contacts.sort_values(["customer_id", "root_cause", "timestamp"], kind="stable")
    same = (ordered["customer_id"].eq(ordered["customer_id"].shift())) & (
        ordered["root_cause"].eq(ordered["root_cause"].shift())
    )
    gap = ordered["timestamp"].diff()
    first = ~(same & (gap <= pd.Timedelta(days=days)))
    thread = first.cumsum()
    followed = thread.eq(thread.shift(-1))
    return ordered.assign(first=first, thread=thread, followed=followed)


def first_contact_resolution(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """First contacts resolved and not repeated within N days / first contacts (known flag)."""
    frame = _contacts_with_causes(inputs)
    resolved = _known_flag(frame, "resolved", "the optional interactions.resolved flag")
    frame = frame.assign(resolved=resolved)
    if "abandoned" in frame:
        frame = frame[~frame["abandoned"].astype("boolean").fillna(False).to_numpy(bool)]
    threads = _threads(frame, a.repeat_contact_days)
    # a first contact is judged only once its repeat window has passed before as_of
    judged = threads["timestamp"] <= inputs.as_of - pd.Timedelta(days=a.repeat_contact_days)
    firsts = threads[threads["first"] & threads["resolved"].notna() & judged]
    success = (firsts["resolved"].astype(bool) & ~firsts["followed"]).astype(float)
    ones = pd.Series(1.0, index=firsts.index)
    return _ratio_metric(windows, firsts["timestamp"], success, ones, None)


def repeat_contact_rate(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """Contacts flagged ``repeat_contact`` by the signals stage / contacts, by channel."""
    s = inputs.signals
    _need(s, ["repeat_contact", "timestamp"], "the signals table (`cximpact run`)")
    ones = pd.Series(1.0, index=s.index)
    repeat = s["repeat_contact"].astype(float)
    return _ratio_metric(windows, s["timestamp"], repeat, ones, s["channel"])


def abandonment_rate(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """Abandoned contacts / contacts with a known abandoned flag, by channel."""
    frame = inputs.interactions
    flag = _known_flag(frame, "abandoned", "the optional interactions.abandoned flag")
    known = flag.notna()
    return _ratio_metric(
        windows,
        frame.loc[known, "timestamp"],
        flag[known].astype(float),
        pd.Series(1.0, index=frame.index[known]),
        frame.loc[known, "channel"],
    )


def status_contact_share(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """Contacts whose root cause is a status enquiry / contacts."""
    s = inputs.signals
    _need(s, ["root_cause", "timestamp"], "the signals table (`cximpact run`)")
    status = s["root_cause"].isin(a.status_root_causes).astype(float)
    return _ratio_metric(windows, s["timestamp"], status, pd.Series(1.0, index=s.index), None)


def time_to_resolution_hours(
    inputs: MetricInputs, windows: Sequence[Window], a: Assumptions
) -> list[WindowValue]:
    """Median hours from a thread's first contact to the end of its resolving contact."""
    frame = _contacts_with_causes(inputs)
    frame = frame.assign(resolved=_known_flag(frame, "resolved", "the optional resolved flag"))
    threads = _threads(frame, a.repeat_contact_days)
    last = threads[~threads["followed"]]
    opened = threads.loc[threads["first"], ["thread", "timestamp"]].set_index("thread")["timestamp"]
    done = last[last["resolved"].fillna(False).astype(bool)]
    duration = (
        done.get("duration_seconds", pd.Series(0.0, index=done.index)).astype(float).fillna(0.0)
    )
    hours = ((done["timestamp"] - done["thread"].map(opened)).dt.total_seconds() + duration) / 3600
    index = window_index(done["timestamp"], windows)
    medians = hours.groupby(index).median()
    result = np.array([medians.get(k, np.nan) for k in range(len(windows))], dtype=float)
    return _values(windows, result, "no thread resolved in the window")
