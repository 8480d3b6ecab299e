"""Repeat contacts: the same customer coming back about the same root cause."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cximpact.errors import ConfigError, ContractError
from cximpact.signals.keywords import OTHER

__all__ = ["REPEAT_COLUMNS", "mark_repeat_contacts"]

REPEAT_COLUMNS: tuple[str, ...] = ("customer_id", "timestamp", "root_cause")
"""Columns :func:`mark_repeat_contacts` needs."""


def _check_frame(frame: pd.DataFrame, days: int) -> None:
    """Raise when ``frame`` lacks a column, has a non-datetime timestamp, or ``days`` < 1."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigError(
            f"repeat-contact window must be a whole number of days >= 1, got {days!r}"
        )
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
