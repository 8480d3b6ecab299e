"""The customer-issue table of :func:`cximpact.exposure.issues.compute_exposure`, built fast.

One row per (customer, issue) pair, in the order the table is published (issue name, then
value from high to low, ties in customer order), joined to the per-customer signal summary
and explained in words. Everything is computed on integer codes:

* the order comes from one stable sort of the customers by value and a pass per issue over
  the customers x issues flag matrix (no sort of the long table);
* the join to the summary is given as the summary row of each pair
  (:mod:`cximpact.exposure._join`), not a hash join on two string keys;
* the "why" text is built once per distinct combination of its fields, which are combined
  into one integer key (see :func:`why`).

Each function reproduces exactly what the pandas operations it replaces produced (same rows,
order, index labels, dtypes and values).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cximpact.exposure._codes import gather, sorted_labels

__all__ = [
    "CustomerTable",
    "Pairs",
    "customer_issue_rows",
    "pairs_in_table_order",
    "why",
]

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]
#: Mixed-radix keys are re-coded before their range would pass this.
_KEY_LIMIT = 2**62
#: Rows up to which :func:`why` writes each row's reason directly (a dict of the distinct ones).
_FEW_ROWS = 2_000


class Pairs:
    """(customer, issue) pairs in table order.

    Attributes
    ----------
    rows, cols
        Customer (row of the features) and issue (column) of each pair.
    labels
        Position of each pair in row-major order (customer, then issue): the index label the
        table carried before it was sorted.
    starts
        First pair of each issue present, in table order (pairs of one issue are contiguous).
    """

    def __init__(self, rows: IntArray, cols: IntArray, labels: IntArray, starts: IntArray) -> None:
        self.rows = rows
        self.cols = cols
        self.labels = labels
        self.starts = starts


def pairs_in_table_order(
    has: NDArray[np.bool_], value: NDArray[np.float64], names: list[str]
) -> Pairs:
    """The pairs where ``has`` is true, ordered by issue name then value descending.

    The same order as ``sort_values(["issue", "value"], ascending=[True, False])`` (stable:
    ties keep customer order; missing values last) of the row-major table.

    Parameters
    ----------
    has
        Boolean matrix, customers x issues.
    value
        Value per customer (may hold NaN).
    names
        Issue name per column of ``has``.
    """
    k = has.shape[1]
    by_value = np.argsort(-value, kind="stable")  # NaN sorts last
    ranked = has[by_value]
    rank, _ = sorted_labels(names) if k else (np.empty(0, dtype=np.intp), None)
    rows, cols = [np.empty(0, dtype=np.intp)], [np.empty(0, dtype=np.intp)]
    for j in np.argsort(rank, kind="stable"):  # issues, not rows
        take = by_value[ranked[:, j]]
        rows.append(take)
        cols.append(np.full(len(take), j, dtype=np.intp))
    row, col = np.concatenate(rows), np.concatenate(cols)
    sizes = np.array([len(r) for r in rows[1:]], dtype=np.intp)
    starts = (np.cumsum(sizes) - sizes)[sizes > 0]
    before = np.cumsum(has.ravel(), dtype=np.int64) - 1  # row-major position of each pair
    return Pairs(row, col, before[row * k + col].astype(np.int64), starts)


def _texts(column: pd.Series) -> tuple[IntArray, NDArray[np.object_]]:
    """Codes into the distinct values of ``column.fillna("").astype(str)``.

    Missing and empty values get code ``-1``, which indexes the ``""`` appended last; only
    the rows with text are hashed (texts such as detector phrases are mostly empty).
    """
    said = _said(column)
    codes = np.full(len(column), -1, dtype=np.intp)
    found, uniques = pd.factorize(column[said])
    codes[said] = found
    texts = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype(str)
    return codes, np.append(texts.to_numpy(dtype=object), "")


def _said(column: pd.Series) -> NDArray[np.bool_]:
    """``(column.notna() & (column != "")).to_numpy()``; for object columns of mostly empty
    strings, the missing-value test runs only on the rows that are not ``""``."""
    values = column.to_numpy() if column.dtype == object else None
    if values is not None:
        try:
            said = np.asarray(values != "", dtype=bool)
        except (TypeError, ValueError):  # a value that refuses to be a bool (pd.NA)
            said = None
        if said is not None:
            some = np.flatnonzero(said)
            said[some] = pd.notna(values[some])
            return said
    return (column.notna() & (column != "")).to_numpy(dtype=bool)


def _number(column: pd.Series) -> Any:
    """The column as a numpy array, missing values as NaN (comparisons with NaN are false,
    as they are with the zero ``fillna(0)`` puts there in the comparisons below)."""
    values = column.to_numpy()
    return values if values.dtype.kind in "iufb" else column.fillna(0).to_numpy()


def _small_codes(values: NDArray[np.integer[Any]]) -> tuple[IntArray, Any]:
    """Codes and distinct values of small integers (an offset when their range is small)."""
    if len(values) and values.max() - values.min() < max(4 * len(values), 1 << 16):
        low = values.min()
        return (values - low).astype(np.intp), np.arange(low, values.max() + 1)
    codes, uniques = pd.factorize(values)
    return codes.astype(np.intp), uniques


def _combine(parts: list[tuple[IntArray, int]]) -> IntArray:
    """One code per distinct combination of the parts' codes (each in ``[0, size)``)."""
    key = np.zeros(len(parts[0][0]), dtype=np.int64)
    span = 1
    for codes, size in parts:
        if span * max(size, 1) >= _KEY_LIMIT:
            key = np.asarray(pd.factorize(key)[0], dtype=np.int64)
            span = int(key.max()) + 1 if len(key) else 1
        key = key * max(size, 1) + codes
        span *= max(size, 1)
    if span <= 4 * len(key) + (1 << 20):  # dense: renumber the keys present, no hashing
        present = np.zeros(span, dtype=bool)
        present[key] = True
        return (np.cumsum(present) - 1)[key].astype(np.intp)
    return np.asarray(pd.factorize(key)[0], dtype=np.intp)


def why(long: pd.DataFrame, issue: tuple[IntArray, NDArray[np.object_]] | None = None) -> Any:
    """A short, human reason per customer-issue row, as an object array.

    The reason depends on a handful of small-valued fields; each is coded (contacts, issue,
    four flags, three texts), the codes are combined into one key, the reason is written once
    per distinct key and indexed back (no per-row string work).

    Parameters
    ----------
    long
        Customer-issue rows with the summary columns (``contacts``, ``repeat_contacts``,
        ``escalations``, ``escalation_phrase``, ``churn_language``, ``churn_phrase``,
        ``competitors``, ``mean_sentiment``) and ``issue``.
    issue
        Codes and names of the ``issue`` column when the caller has them (saves hashing it).
    """
    if issue is None and len(long) <= _FEW_ROWS:
        return _why_rows(long)
    contacts = long["contacts"].fillna(0).astype(int).to_numpy()
    contact_codes, contact_values = _small_codes(contacts)
    issue_codes, issue_names = issue if issue is not None else _texts(long["issue"])
    flags = _flag_bits(long)
    texts = [_texts(long[c]) for c in ("escalation_phrase", "churn_phrase", "competitors")]
    parts: list[tuple[IntArray, int]] = [
        (contact_codes, len(contact_values)),
        (np.where(issue_codes < 0, len(issue_names) - 1, issue_codes), len(issue_names)),
        (flags.astype(np.intp), 16),
    ]
    parts += [(np.where(c < 0, len(t) - 1, c), len(t)) for c, t in texts]
    codes = _combine(parts) if len(long) else np.empty(0, dtype=np.intp)
    example = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=np.intp)
    example[codes] = np.arange(len(codes))  # any row of each distinct key
    reasons = np.empty(len(example), dtype=object)
    for k, row in enumerate(example):  # distinct reasons, not rows
        bits = int(flags[row])
        said = [t[c[row]] for c, t in texts]
        reasons[k] = _reason(int(contacts[row]), str(issue_names[issue_codes[row]]), bits, said)
    return reasons[codes]


def _flag_bits(long: pd.DataFrame) -> Any:
    """The four flags of each row as the bits of one integer (see :func:`_reason`)."""
    return (
        (_number(long["repeat_contacts"]) > 0).astype(np.intp)
        + 2 * (_number(long["escalations"]) > 0)
        + 4 * (_number(long["churn_language"]) > 0)
        + 8 * (_number(long["mean_sentiment"]) < -0.3)
    )


def _plain_texts(column: pd.Series) -> list[str]:
    """``column.fillna("").astype(str)`` as a list (missing and empty values ``""``)."""
    said = _said(column)
    values = column.to_numpy(dtype=object)
    return [str(v) if ok else "" for v, ok in zip(values, said, strict=True)]


def _why_rows(long: pd.DataFrame) -> Any:
    """:func:`why` for a few rows (the live path's batches): the same reasons, one per row
    from the row's own fields, without coding and combining every column first."""
    contacts = long["contacts"].fillna(0).astype(int).to_numpy().tolist()
    bits = _flag_bits(long).tolist()
    names = ("issue", "escalation_phrase", "churn_phrase", "competitors")
    issue, escalation, leaving, competitors = (_plain_texts(long[c]) for c in names)
    reasons = np.empty(len(long), dtype=object)
    seen: dict[tuple[Any, ...], str] = {}
    keys = zip(contacts, issue, bits, escalation, leaving, competitors, strict=True)
    for row, key in enumerate(keys):
        reason = seen.get(key)
        if reason is None:
            reason = seen[key] = _reason(key[0], key[1], key[2], list(key[3:]))
        reasons[row] = reason
    return reasons


def _reason(contacts: int, issue: str, bits: int, said: list[str]) -> str:
    """The reason text of one combination (see :func:`why`)."""
    said_escalation, said_leaving, competitors = said
    parts = [f"{contacts} contact{'' if contacts == 1 else 's'} on {issue}"]
    parts += ["repeat contact"] if bits & 1 else []
    parts += [_quoted("asked to escalate", said_escalation)] if bits & 2 else []
    parts += [_quoted("talked about leaving", said_leaving)] if bits & 4 else []
    parts += [f"mentioned {competitors}"] if competitors else []
    parts += ["negative sentiment"] if bits & 8 else []
    return "; ".join(parts)


def _quoted(reason: str, phrase: str) -> str:
    """``reason ("phrase")`` when the detector recorded what it matched."""
    return f'{reason} ("{phrase}")' if phrase else reason


def customer_issue_rows(
    index: pd.Index,
    issues: list[str],
    vals: pd.DataFrame,
    p_full: FloatArray,
    allocated: FloatArray,
    rows: IntArray,
    cols: IntArray,
) -> pd.DataFrame:
    """One row per (customer, issue) pair given by ``rows`` and ``cols``, before the join.

    Columns: customer, issue, the customer's value (with interval, segment and source), churn
    probability (``p_full``, per customer), the probability allocated to the issue
    (``allocated``, per pair) and its revenue at risk (``attributable_probability x value``).
    """
    value = vals["value"].to_numpy(dtype=float)
    long = pd.DataFrame(
        {
            "customer_id": gather(index, rows),
            "issue": gather(pd.Series(np.asarray(issues, dtype=object)), cols),
            "segment": gather(vals["segment"], rows),
            "value": value[rows],
            "value_low": gather(vals["value_low"], rows),
            "value_high": gather(vals["value_high"], rows),
            "value_source": gather(vals["value_source"], rows),
            "churn_probability": p_full[rows],
            "attributable_probability": allocated,
        }
    )
    long["revenue_at_risk"] = long["attributable_probability"] * long["value"]
    return long


class CustomerTable:
    """Builds the customer-issue table on demand (a zero-argument callable).

    Holds what the table is made of: the customers' values and risk, the issue flags, the
    allocation of each pair (row-major order), the summary and, for each pair in row-major
    order, its summary row (``-1``: none), or a function that finds them.
    """

    def __init__(
        self,
        index: pd.Index,
        issues: list[str],
        vals: pd.DataFrame,
        p_full: FloatArray,
        allocated: FloatArray,
        has: NDArray[np.bool_],
        summary: pd.DataFrame,
        position: IntArray | Callable[[], IntArray],
    ) -> None:
        self.index = index
        self.issues = issues
        self.vals = vals
        self.p_full = p_full
        self.allocated = allocated
        self.has = has
        self.position = position
        self.extra = [c for c in summary.columns if c not in ("customer_id", "root_cause")]
        # a selection, not a copy: under copy-on-write a later change to the caller's frame
        # copies it for them, and this table is built from the summary as it was
        self.summary = summary[self.extra]

    def __call__(self) -> pd.DataFrame:
        """The table: sorted by issue then value (high to low), summary columns, ``why``."""
        value = self.vals["value"].to_numpy(dtype=float)
        pairs = pairs_in_table_order(self.has, value, self.issues)
        long = customer_issue_rows(
            self.index,
            self.issues,
            self.vals,
            self.p_full,
            self.allocated[pairs.labels],
            pairs.rows,
            pairs.cols,
        )
        long.index = pd.Index(pairs.labels)
        found = self.position if isinstance(self.position, np.ndarray) else self.position()
        right = self._summary_columns(found[pairs.labels], long.index)
        reasons = why(
            right.assign(issue=long["issue"]), (pairs.cols, np.asarray(self.issues, dtype=object))
        )
        joined = pd.concat([long, right], axis=1)
        joined["why"] = pd.Series(reasons, index=joined.index, dtype=object)
        return joined

    def _summary_columns(self, position: IntArray, index: pd.Index) -> pd.DataFrame:
        """The summary's columns for each pair, as ``merge(how="left")`` would add them."""
        summary = self.summary
        if (position >= 0).all():  # every pair found: plain takes, dtypes unchanged
            # Series of the source dtype: an object column must not be inferred as strings
            return pd.DataFrame(
                {
                    c: pd.Series(
                        summary[c].array.take(position), index=index, dtype=summary[c].dtype
                    )
                    for c in self.extra
                }
            )
        # missing pairs: reindex fills them (and upcasts) as the merge would
        right = summary[self.extra].set_axis(pd.RangeIndex(len(summary)), axis=0)
        right = right.reindex(position)
        right.index = index
        return right
