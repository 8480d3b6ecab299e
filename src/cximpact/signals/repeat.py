"""Repeat contacts: the same customer coming back about the same root cause."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cximpact.errors import ConfigError, ContractError
from cximpact.signals.keywords import OTHER

__all__ = ["REPEAT_COLUMNS", "mark_repeat_contacts", "repeat_contact_flags", "thread_topics"]

REPEAT_COLUMNS: tuple[str, ...] = ("customer_id", "timestamp", "root_cause")
"""Columns :func:`mark_repeat_contacts` needs."""


def _check_days(days: int) -> None:
    """Raise when ``days`` is not a whole number >= 1."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigError(
            f"repeat-contact window must be a whole number of days >= 1, got {days!r}"
        )


def _check_frame(frame: pd.DataFrame, days: int) -> None:
    """Raise when ``frame`` lacks a column, has a non-datetime timestamp, or ``days`` < 1."""
    _check_days(days)
    missing = [column for column in REPEAT_COLUMNS if column not in frame.columns]
    if missing:
        raise ContractError(
            f"mark_repeat_contacts needs columns {list(REPEAT_COLUMNS)}; missing {missing}"
        )
    if not pd.api.types.is_datetime64_any_dtype(frame["timestamp"]):
        raise ContractError(
            f"column 'timestamp' must be datetime64, found {frame['timestamp'].dtype}; "
            "convert it with pandas.to_datetime"
        )


def _naive_utc(timestamp: pd.Series) -> pd.Series:
    """Time-zone aware timestamps as naive UTC; naive ones unchanged."""
    if isinstance(timestamp.dtype, pd.DatetimeTZDtype):
        naive: pd.Series = timestamp.dt.tz_convert("UTC").dt.tz_localize(None)
        return naive
    return timestamp


def mark_repeat_contacts(frame: pd.DataFrame, days: int) -> pd.Series:
    """Flag contacts that repeat an earlier contact of the same customer and root cause.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per contact with columns ``customer_id``, ``timestamp`` (datetime64, naive or
        time-zone aware) and ``root_cause``. Row order does not matter.
    days : int
        Window in days: a contact is a repeat when the previous contact of the same customer
        on the same root cause happened at most this long before it (inclusive).

    Returns
    -------
    pandas.Series
        Boolean, named ``repeat_contact``, aligned with ``frame`` (same index and order).
        Rows whose root cause is ``other`` or missing, or whose customer or timestamp is
        missing, are never repeats and never count as an earlier contact. Of two contacts at
        the same instant, the one later in ``frame`` is the repeat.

    Raises
    ------
    ContractError
        A column is missing or ``timestamp`` is not datetime64.
    ConfigError
        ``days`` is not a whole number >= 1.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "customer_id": ["c1", "c1", "c1"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-03-01"]),
    ...     "root_cause": ["billing_error"] * 3,
    ... })
    >>> mark_repeat_contacts(frame, days=14).tolist()
    [False, True, False]
    """
    _check_frame(frame, days)
    cause = frame["root_cause"]
    eligible = (
        cause.notna()
        & cause.ne(OTHER)
        & cause.astype("str").str.len().gt(0)
        & frame["customer_id"].notna()
        & frame["timestamp"].notna()
    ).to_numpy(dtype=bool)
    contacts = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy()[eligible],
            "root_cause": cause.to_numpy()[eligible],
            "timestamp": _naive_utc(frame["timestamp"]).to_numpy()[eligible],
        }
    ).sort_values("timestamp", kind="stable")
    gap = contacts.groupby(["customer_id", "root_cause"], sort=False)["timestamp"].diff()
    is_repeat = gap.le(pd.Timedelta(days=days)).sort_index()
    values = np.zeros(len(frame), dtype=bool)
    values[eligible] = is_repeat.to_numpy(dtype=bool)
    return pd.Series(values, index=frame.index, name="repeat_contact", dtype=bool)


def repeat_contact_flags(
    customers: np.ndarray, timestamps: np.ndarray, causes: np.ndarray, days: int
) -> np.ndarray:
    """:func:`mark_repeat_contacts` on a few rows given as arrays, without pandas.

    Its per-operation cost dominates on the few hundred rows of a live batch; here the rows are
    visited once in time order, each (customer, root cause) remembering its last contact.

    Parameters
    ----------
    customers, causes : numpy.ndarray
        Customer id and root cause of each contact (missing values: ``None`` or NaN).
    timestamps : numpy.ndarray
        ``datetime64`` (naive: time-zone aware timestamps go through
        :func:`mark_repeat_contacts`).
    days : int
        Window in days, as :func:`mark_repeat_contacts`.

    Returns
    -------
    numpy.ndarray
        Boolean, one per row: exactly what :func:`mark_repeat_contacts` marks.
    """
    _check_days(days)
    if timestamps.dtype.kind != "M":
        raise ContractError(f"timestamps must be datetime64, found {timestamps.dtype}")
    unit, _ = np.datetime_data(timestamps.dtype)
    window = int(np.array([days], dtype="m8[D]").astype(f"m8[{unit}]").view(np.int64)[0])
    ticks = timestamps.view(np.int64).tolist()
    missing = np.isnat(timestamps).tolist()
    people, topics = customers.tolist(), causes.tolist()
    eligible = [
        k
        for k in range(len(ticks))
        if not missing[k] and _known(people[k]) and _known(topics[k]) and _is_cause(topics[k])
    ]
    eligible.sort(key=ticks.__getitem__)  # stable: of two at one instant, the later row repeats
    out = np.zeros(len(ticks), dtype=bool)
    last: dict[tuple[object, object], int] = {}
    for k in eligible:
        key = (people[k], topics[k])
        before = last.get(key)
        if before is not None and ticks[k] - before <= window:
            out[k] = True
        last[key] = ticks[k]
    return out


def _known(value: object) -> bool:
    """Whether ``value`` is present (not ``None``, NaN, ``NA`` or ``NaT``)."""
    return not (value is None or value is pd.NA or value is pd.NaT or value != value)


def _is_cause(value: object) -> bool:
    """Whether a present root cause can repeat: not ``other``, not empty as a string."""
    return value != OTHER and len(str(value)) > 0


def thread_topics(frame: pd.DataFrame, days: int) -> pd.Series:
    """The topic of each ``other`` contact's thread: what the same customer called about nearby.

    Customers describe one problem in different words from one contact to the next ("the line
    goes dead when it rains", then "your network is down again"). When the keyword rules read
    one contact of a thread confidently and miss another, the missed one most likely continues
    the same topic: Yarowsky's (1995) *one sense per discourse* constraint, with the customer's
    contacts within ``days`` of each other as the discourse. Self-training uses these as extra,
    noisier training labels (:meth:`cximpact.signals.selftrain.SelfTrainedTopics.fit`); they
    are never a contact's answer by themselves.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per contact with ``customer_id``, ``timestamp`` (datetime64), ``root_cause``
        (the keyword rules' answer) and ``secondary_root_cause`` (``""`` when single-topic).
    days : int
        Largest gap, in days, between a missed contact and the confident one it borrows from.

    Returns
    -------
    pandas.Series
        Aligned with ``frame``: for rows whose root cause is ``other``, the single-topic root
        cause of the customer's nearest confident contact before and after it within ``days``
        (``""`` when there is none, or when the one before and the one after disagree); ``""``
        for every other row.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "customer_id": ["c1", "c1", "c2"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-05"]),
    ...     "root_cause": ["network_outage", "other", "other"],
    ...     "secondary_root_cause": ["", "", ""],
    ... })
    >>> thread_topics(frame, days=14).tolist()
    ['', 'network_outage', '']
    """
    _check_frame(frame, days)
    if "secondary_root_cause" not in frame.columns:
        raise ContractError("thread_topics needs column 'secondary_root_cause'")
    cause = frame["root_cause"].astype("str").fillna(OTHER).to_numpy(dtype=object)
    second = frame["secondary_root_cause"].astype("str").fillna("").to_numpy(dtype=object)
    confident = (cause != OTHER) & (cause != "") & (second == "")
    known = frame["customer_id"].notna().to_numpy() & frame["timestamp"].notna().to_numpy()
    out = np.full(len(frame), "", dtype=object)
    missed = (cause == OTHER) & known
    if not missed.any() or not (confident & known).any():
        return pd.Series(out, index=frame.index, name="thread_topic", dtype="str")
    rows = np.flatnonzero(known & (confident | missed))
    stamp = _naive_utc(frame["timestamp"]).to_numpy()[rows]
    topic = cause[rows].copy()
    topic[~confident[rows]] = None
    sub = pd.DataFrame(
        {"customer": frame["customer_id"].to_numpy()[rows], "stamp": stamp, "topic": topic}
    )
    sub["topic_stamp"] = sub["stamp"].where(sub["topic"].notna())
    sub = sub.sort_values(["customer", "stamp"], kind="stable")
    grouped = sub.groupby("customer", sort=False)[["topic", "topic_stamp"]]
    before, after = grouped.ffill(), grouped.bfill()
    window = pd.Timedelta(days=days)
    near_before = (sub["stamp"] - before["topic_stamp"]).le(window)
    near_after = (after["topic_stamp"] - sub["stamp"]).le(window)
    topic_before = before["topic"].where(near_before)
    topic_after = after["topic"].where(near_after)
    agree = topic_before.isna() | topic_after.isna() | topic_before.eq(topic_after)
    chosen = topic_before.fillna(topic_after).where(agree & sub["topic"].isna())
    picked = chosen.notna().to_numpy()
    out[rows[sub.index.to_numpy()[picked]]] = chosen.to_numpy()[picked]
    return pd.Series(out, index=frame.index, name="thread_topic", dtype="str")
