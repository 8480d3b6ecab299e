"""The customer-issue pairs joined to the signal summary, and the ranking's per-issue totals.

:func:`cximpact.exposure.issues.compute_exposure` needs, for each (customer, issue) pair of
the flag matrix, the summary row of that customer and root cause, as ``merge(how="left")``
would find it: for the per-issue totals of the ranking now, and for the customer-issue table
when it is read. The join here runs from the summary's side, on integer codes:

* each summary row's customer becomes a row of the flag matrix (a dense lookup when the ids
  are compact integers, ``Index.get_indexer`` otherwise) and its root cause a column (one
  ``pyarrow.compute.index_in`` over the string column: each distinct string hashed once);
* the rows whose (row, column) cell is a pair are the matches; their flat cell numbers,
  ascending in the usual case (the summary sorted by customer and topic), are checked for
  duplicates in one pass.

The totals then add up the summary columns over the matches in pair order, which are the
numbers (to the last bit) of adding them up over the pairs after the merge.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from cximpact.exposure._codes import sorted_labels

__all__ = ["SUMMED", "SummaryMatches", "issue_totals", "match_summary"]

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]

#: Summary columns the issue ranking adds up (or averages) per issue, in ranking order.
SUMMED = (
    "contacts",
    "repeat_contacts",
    "handling_cost",
    "escalations",
    "competitor_mentions",
    "churn_language",
    "mean_sentiment",
)


class SummaryMatches:
    """The summary rows that belong to a pair, in pair (row-major) order.

    Attributes
    ----------
    rows
        Summary row (position) of each matched pair.
    cells
        Flat cell ``customer row x issues + issue column`` of each matched pair, ascending.
    cols
        Issue column of each matched pair.
    """

    def __init__(self, rows: IntArray, cells: IntArray, width: int) -> None:
        self.rows = rows
        self.cells = cells
        self.cols = cells % max(width, 1)

    def positions(self, has: NDArray[np.bool_]) -> IntArray:
        """Summary row of every pair in row-major order (``-1``: none), as the join gives it."""
        flat = has.ravel()
        pair = np.cumsum(flat, dtype=np.intp) - 1  # row-major number of each pair cell
        position = np.full(int(np.count_nonzero(flat)), -1, dtype=np.intp)
        position[pair[self.cells]] = self.rows
        return position


def match_summary(
    summary: pd.DataFrame, index: pd.Index, has: NDArray[np.bool_], issues: list[str]
) -> SummaryMatches | None:
    """The summary rows of the pairs ``has`` marks, or ``None`` where the join is not 1:1.

    Parameters
    ----------
    summary
        Per (customer, root cause) summary with ``customer_id`` and ``root_cause`` columns.
    index
        Customer id of each row of ``has``; unique.
    has
        Boolean matrix, customers x issues: the pairs.
    issues
        Issue name of each column of ``has``.

    Returns
    -------
    SummaryMatches or None
        ``None`` when a pair has two summary rows (a merge would duplicate it).
    """
    width = has.shape[1]
    row = _customer_rows(summary["customer_id"], index)
    col = _issue_columns(summary["root_cause"], issues)
    candidate = np.flatnonzero((row >= 0) & (col >= 0))
    cells = row[candidate] * width + col[candidate]
    hit = has.ravel()[cells]
    rows, cells = candidate[hit], cells[hit]
    if len(cells) > 1 and not bool((cells[1:] > cells[:-1]).all()):  # not in pair order
        order = np.argsort(cells, kind="stable")
        rows, cells = rows[order], cells[order]
        if bool((cells[1:] == cells[:-1]).any()):
            return None  # a pair with two summary rows
    return SummaryMatches(rows.astype(np.intp), cells.astype(np.intp), width)


def _customer_rows(ids: pd.Series, index: pd.Index) -> IntArray:
    """Row of ``index`` holding each summary row's customer (``-1``: not there).

    Compact integer ids go through a dense table indexed by id (no hashing); others through
    ``Index.get_indexer``.
    """
    if ids.dtype.kind in "iu" and index.dtype.kind in "iu" and len(index):
        known = index.to_numpy().astype(np.int64)
        low, high = int(known.min()), int(known.max())
        if high - low < 4 * len(known) + (1 << 16):
            # one -1 either side: ids outside [low, high] are clipped onto them
            table = np.full(high - low + 3, -1, dtype=np.intp)
            table[known - (low - 1)] = np.arange(len(known))
            offset = ids.to_numpy().astype(np.int64) - (low - 1)
            return table.take(np.clip(offset, 0, high - low + 2))
    return np.asarray(index.get_indexer(pd.Index(ids)), dtype=np.intp)


def _issue_columns(topics: pd.Series, issues: list[str]) -> IntArray:
    """Column of ``issues`` naming each summary row's root cause (``-1``: none)."""
    array = getattr(topics.array, "_pa_array", None)
    if isinstance(array, pa.ChunkedArray) and (
        pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
    ):
        try:
            found = pc.index_in(array, value_set=pa.array(issues, type=array.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            found = None
        if found is not None:
            return np.asarray(found.fill_null(-1).to_numpy(), dtype=np.intp)
    return np.asarray(pd.Index(issues, dtype=object).get_indexer(pd.Index(topics)), dtype=np.intp)


def issue_totals(
    issues: list[str],
    cols: IntArray,
    value: FloatArray,
    dollars: FloatArray,
    summary: pd.DataFrame,
    matches: SummaryMatches,
) -> pd.DataFrame:
    """The per-issue aggregates of the ranking, without building the customer-issue table.

    Equivalent to ``table.groupby("issue").agg(...)`` in
    :func:`cximpact.exposure.issues._rank_issues` when every customer appears once per issue
    and the summed summary columns are numeric: sums skip missing values (pairs without a
    summary row); integer columns stay integers unless a pair has no summary row (then, as
    after the merge, they are floats).

    Parameters
    ----------
    issues
        Issue names (columns).
    cols
        Issue column of each pair.
    value, dollars
        Each pair's customer value and revenue at risk.
    summary, matches
        The summary and its rows matched to the pairs.
    """
    k = len(issues)
    count = np.bincount(cols, minlength=k)
    present = np.flatnonzero(count > 0)
    missing = len(matches.rows) < len(cols)

    def total(values: Any, by: IntArray) -> Any:
        values = np.asarray(values, dtype=float)
        if np.isnan(values).any():
            values = np.where(np.isnan(values), 0.0, values)
        return np.bincount(by, values, minlength=k)[present]

    columns: dict[str, Any] = {
        "revenue_at_risk": total(dollars, cols),
        "customers": count[present].astype(np.int64),
        "aggregate_ltv": total(value, cols),
    }
    for name in SUMMED:
        source = summary[name].to_numpy()
        taken = source.take(matches.rows)
        integer = source.dtype.kind in "iu" and not missing
        if name == "mean_sentiment":
            taken = taken.astype(float)
            seen = np.bincount(matches.cols, ~np.isnan(taken), minlength=k)[present]
            with np.errstate(invalid="ignore", divide="ignore"):
                sums = total(taken, matches.cols)
                columns[name] = np.where(seen > 0, sums / np.maximum(seen, 1), np.nan)
        else:
            sums = total(taken, matches.cols)
            columns[name] = sums.astype(np.int64) if integer else sums
    names = np.asarray(issues, dtype=object)[present]
    frame = pd.DataFrame(columns, index=pd.Index(names, name="issue"))
    order = sorted_labels(names)[0]
    return frame.iloc[np.argsort(order, kind="stable")]
