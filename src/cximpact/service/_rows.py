"""Row bookkeeping of the live view: a fast membership test and the signals rows kept so that a
batch costs O(batch), not O(interactions).

:func:`isin` is ``Series.isin`` for string keys without pandas' per-value conversion of the
wanted values (pyarrow-backed strings convert each wanted value to a pyarrow scalar, about a
microsecond apiece, on every call).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["SignalRows", "isin"]


def isin(column: pd.Series | pd.Index, wanted: Iterable[object]) -> np.ndarray:
    """Whether each value of ``column`` is one of ``wanted``, as ``column.isin(wanted)``.

    Parameters
    ----------
    column : pandas.Series or pandas.Index
        Values to test (strings, or any hashable values).
    wanted : iterable
        The values looked for.

    Returns
    -------
    numpy.ndarray
        Booleans, one per value of ``column`` (a missing value is never found unless
        ``wanted`` holds one, as pandas).
    """
    values = wanted if isinstance(wanted, list) else list(wanted)
    dtype = column.dtype
    arrow = isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
    if arrow and all(isinstance(v, str) for v in values):
        data = pa.chunked_array(column.array.__arrow_array__())
        found = pc.is_in(data, value_set=pa.array(values, type=data.type))
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(pd.Series(column, copy=False).isin(values).to_numpy(), dtype=bool)


#: Recent parts are merged into a new base once they hold this share of the base's rows.
_COMPACT_SHARE = 0.25
_COMPACT_MIN = 5_000
_MAX_PARTS = 4


@dataclass(frozen=True)
class _Groups:
    """Row positions by value of one column (customer ids): found in O(wanted), not O(rows).

    ``Index.get_indexer_non_unique`` scans every row on each call; here the rows are sorted
    by value once (per base) and each value's rows are one slice of ``order``.
    """

    values: np.ndarray
    keys: pd.Index
    order: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, values: pd.Index) -> _Groups:
        """Group the positions of ``values``."""
        array = values.to_numpy(dtype=object)
        codes, uniques = pd.factorize(array)
        order = np.argsort(codes, kind="stable")
        starts = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        return cls(array, pd.Index(uniques, dtype=object), order, starts)

    def rows(self, wanted: np.ndarray) -> np.ndarray:
        """Sorted positions of the rows whose value is one of ``wanted``."""
        found = self.keys.get_indexer(pd.Index(wanted, dtype=object))
        found = found[found >= 0]
        if not len(found):
            return np.array([], dtype=np.intp)
        bounds = zip(self.starts[found], self.starts[found + 1], strict=True)
        slices = [self.order[lo:hi] for lo, hi in bounds]
        return np.sort(np.concatenate(slices))


@dataclass(frozen=True)
class SignalRows:
    """The signals rows of a view, kept so that a batch costs O(batch), not O(interactions).

    A large ``base`` frame is shared by successive views, ``alive`` marks which of its rows are
    still current, and the rows written since are kept in small ``parts``; ``ids`` and
    ``owners`` index the base's interaction and customer ids (hash tables built once per
    base). When the parts hold a quarter as many rows as the base they are merged into a new
    base, so each row is copied O(1) times on average.
    """

    base: pd.DataFrame
    alive: np.ndarray
    parts: tuple[pd.DataFrame, ...]
    ids: pd.Index
    owners: _Groups

    @classmethod
    def of(cls, frame: pd.DataFrame) -> SignalRows:
        """All of ``frame`` as the base."""
        frame = frame.reset_index(drop=True)
        if frame.empty or "interaction_id" not in frame:
            empty = pd.Index([], dtype=object)
            return cls(frame, np.ones(len(frame), dtype=bool), (), empty, _Groups.of(empty))
        return cls(
            frame,
            np.ones(len(frame), dtype=bool),
            (),
            pd.Index(frame["interaction_id"]),
            _Groups.of(pd.Index(frame["customer_id"])),
        )

    def __len__(self) -> int:
        return int(self.alive.sum()) + sum(len(part) for part in self.parts)

    def frame(self) -> pd.DataFrame:
        """Every current row as one frame (base rows first)."""
        if not self.parts:
            return (
                self.base if self.alive.all() else self.base.loc[self.alive].reset_index(drop=True)
            )
        return pd.concat([self.base.loc[self.alive], *self.parts], ignore_index=True)

    def take(
        self, ids: np.ndarray, customers: np.ndarray
    ) -> tuple[pd.DataFrame, np.ndarray, SignalRows]:
        """Split off the rows with these interaction ids and the rows of these customers.

        Parameters
        ----------
        ids : numpy.ndarray
            Interaction ids being replaced (their rows are dropped, not returned).
        customers : numpy.ndarray
            Customers whose other rows are returned (their history).

        Returns
        -------
        (history, moved, rest)
            The customers' current rows except ``ids``; the customer ids of the replaced rows
            (a corrected row may change hands: those customers are affected too); and the
            rows that stay.
        """
        alive = self.alive.copy()
        moved: list[np.ndarray] = []
        if len(self.ids):
            gone = self.ids.get_indexer(pd.Index(ids))
            gone = gone[gone >= 0]
            gone = gone[alive[gone]]
            moved.append(self.owners.values[gone])
            alive[gone] = False
        parts = []
        for part in self.parts:  # a row is copied only when it leaves its part
            replaced = isin(part["interaction_id"], ids)
            if replaced.any():
                moved.append(part["customer_id"].to_numpy()[replaced])
                part = part.loc[~replaced]
            parts.append(part)
        owners = pd.unique(np.concatenate([np.asarray(customers, dtype=object), *moved]))
        taken: list[pd.DataFrame] = []
        if len(self.owners.values):
            rows = self.owners.rows(owners)
            rows = rows[alive[rows]]
            taken.append(self.base.take(rows))
            alive[rows] = False
        kept = []
        for part in parts:
            mine = isin(part["customer_id"], owners)
            if not mine.any():
                taken.append(part.iloc[:0])  # its dtypes still join the history's, as before
                kept.append(part)
                continue
            taken.append(part.loc[mine])
            if not mine.all():
                kept.append(part.loc[~mine])
        history = pd.concat(taken, ignore_index=True) if taken else self.base.iloc[:0]
        rest = SignalRows(self.base, alive, tuple(kept), self.ids, self.owners)
        return history, np.concatenate(moved) if moved else np.array([], dtype=object), rest

    def plus(self, rows: pd.DataFrame) -> SignalRows:
        """These rows added (as a new part; parts merged into the base when large)."""
        parts = (*self.parts, rows)
        if len(parts) > _MAX_PARTS:  # few parts: each batch looks into every one
            parts = (pd.concat(parts, ignore_index=True),)
        grown = SignalRows(self.base, self.alive, parts, self.ids, self.owners)
        recent = sum(len(part) for part in grown.parts)
        if recent >= max(_COMPACT_MIN, _COMPACT_SHARE * len(self.base)):
            return SignalRows.of(grown.frame())
        return grown
