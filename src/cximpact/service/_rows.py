"""Row bookkeeping of the live view: a fast membership test and the signals rows kept so that a
batch costs O(batch), not O(interactions).

:func:`isin` is ``Series.isin`` for string keys without pandas' per-value conversion of the
wanted values (pyarrow-backed strings convert each wanted value to a pyarrow scalar, about a
microsecond apiece, on every call).

The signals rows are held as :class:`Columns` (one numpy array per column): on a few hundred
rows a numpy take costs microseconds where a pandas one costs a fraction of a millisecond per
column. A frame is built only when one is asked for, with the dtypes of the frame the rows
came from, so :meth:`SignalRows.frame` is the frame the rows made before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Columns", "SignalRows", "isin"]


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


class Columns:
    """Rows as one array per column, and each column's dtype.

    Parameters
    ----------
    arrays : dict of str to array
        The columns, in order, all of one length: ``Series.to_numpy()`` (:meth:`of`), or as
        a frame stores them (:meth:`stored`); :meth:`take` gives numpy arrays either way.
    dtypes : dict of str to dtype
        The dtype each column has in a frame (:meth:`frame`).
    """

    __slots__ = ("arrays", "dtypes")

    def __init__(self, arrays: dict[str, Any], dtypes: dict[str, Any]) -> None:
        self.arrays = arrays
        self.dtypes = dtypes

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Columns:
        """The rows of a small ``frame`` as numpy arrays (its index is dropped)."""
        columns: dict[Any, pd.Series] = dict(frame.items())  # cheaper than lookups by name
        arrays = {c: column.to_numpy() for c, column in columns.items()}
        return cls(arrays, {c: column.dtype for c, column in columns.items()})

    @classmethod
    def stored(cls, frame: pd.DataFrame) -> Columns:
        """The rows of a large ``frame`` as it stores them: nothing is converted (strings stay
        Arrow strings, not one Python object each) until rows are taken."""
        arrays = {c: frame[c].array for c in frame.columns}
        numbers = {
            c: frame[c].to_numpy() for c, a in arrays.items() if isinstance(a.dtype, np.dtype)
        }
        return cls(arrays | numbers, dict(frame.dtypes))

    def __len__(self) -> int:
        return len(next(iter(self.arrays.values()))) if self.arrays else 0

    def __contains__(self, name: object) -> bool:
        return name in self.arrays

    def __getitem__(self, name: str) -> Any:
        return self.arrays[name]

    def fits(self, frame: pd.DataFrame) -> bool:
        """Whether ``frame`` has these columns, in this order, with these dtypes."""
        if list(frame.columns) != list(self.arrays):
            return False
        return all(d == self.dtypes[c] for c, d in zip(self.arrays, frame.dtypes, strict=True))

    def take(self, positions: np.ndarray) -> Columns:
        """The rows at ``positions``, as numpy arrays (``Series.to_numpy()`` of those rows)."""
        return Columns({c: _take(a, positions) for c, a in self.arrays.items()}, self.dtypes)

    def replace(self, name: str, values: np.ndarray) -> Columns:
        """These rows with column ``name`` replaced by ``values``."""
        return Columns({**self.arrays, name: values}, self.dtypes)

    @staticmethod
    def concat(pieces: Sequence[Columns]) -> Columns:
        """The rows of ``pieces`` one after the other (of the first's columns and dtypes)."""
        first = pieces[0]
        if len(pieces) == 1:
            return first
        arrays = {c: np.concatenate([p.arrays[c] for p in pieces]) for c in first.arrays}
        return Columns(arrays, first.dtypes)

    def frame(self) -> pd.DataFrame:
        """The rows as a frame, each column with its dtype (index 0 .. n - 1)."""
        return pd.DataFrame(
            {c: pd.Series(a, dtype=self.dtypes[c], copy=False) for c, a in self.arrays.items()}
        )


def _take(values: Any, positions: np.ndarray) -> np.ndarray:
    """``values[positions]`` as ``Series.to_numpy()`` gives them; Arrow strings are taken by
    pyarrow (pandas' take of them costs several times more, more still with missing
    values)."""
    if isinstance(values, np.ndarray):
        return np.asarray(values[positions])
    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return np.asarray(values.take(positions).to_numpy())
    taken = pa.chunked_array(values.__arrow_array__()).take(positions)
    out = np.asarray(taken.to_numpy(zero_copy_only=False), dtype=object)
    if taken.null_count:  # pyarrow gives None: the dtype's missing value instead
        out[np.asarray(pc.is_null(taken).to_numpy(zero_copy_only=False), dtype=bool)] = (
            dtype.na_value
        )
    return out


#: Recent parts are merged into a new base once they hold this share of the base's rows.
_COMPACT_SHARE = 0.25
_COMPACT_MIN = 5_000
_MAX_PARTS = 4


@dataclass(frozen=True)
class _Groups:
    """Row positions by value of one column (customer ids): found in O(wanted), not O(rows).

    ``Index.get_indexer_non_unique`` scans every row on each call; here the rows are sorted
    by value once (per segment) and each value's rows are one slice of ``order``.
    """

    values: np.ndarray
    keys: pd.Index
    order: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> _Groups:
        """Group the positions of ``values``."""
        array = np.asarray(values, dtype=object)
        codes, uniques = pd.factorize(array)
        order = np.argsort(codes, kind="stable")
        starts = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        return cls(array, pd.Index(uniques, dtype=object), order, starts)

    def rows(self, wanted: np.ndarray, lost: np.ndarray | None = None) -> np.ndarray:
        """Sorted positions of the rows whose value is one of ``wanted``; with ``lost`` (the
        missing values among them), also the rows whose value is missing and one of those,
        as ``Series.isin`` finds them."""
        found = self.keys.get_indexer(pd.Index(wanted, dtype=object))
        found = found[found >= 0]
        bounds = zip(self.starts[found], self.starts[found + 1], strict=True)
        slices = [self.order[lo:hi] for lo, hi in bounds]
        if lost is not None and len(lost) and self.starts[0]:  # codes -1 (missing) sort first
            missing = self.order[: self.starts[0]]
            said = pd.Series(self.values[missing], dtype=object).isin(lost).to_numpy()
            slices.append(missing[said])
        if not slices:
            return np.array([], dtype=np.intp)
        return np.sort(np.concatenate(slices))


@dataclass(frozen=True)
class _Segment:
    """Rows stored once, with their interaction ids and customers indexed (built once).

    ``source`` is the frame the rows came from, when they came from one.
    """

    rows: Columns
    ids: pd.Index
    owners: _Groups
    source: pd.DataFrame | None = None

    @classmethod
    def of(cls, rows: Columns, source: pd.DataFrame | None = None) -> _Segment:
        """Index ``rows`` (rows without interaction ids are never found by id or customer)."""
        if not len(rows) or "interaction_id" not in rows:
            return cls(rows, pd.Index([], dtype=object), _Groups.of(np.array([])), source)
        ids = pd.Index(rows["interaction_id"], dtype=object)
        return cls(rows, ids, _Groups.of(rows["customer_id"]), source)

    def __len__(self) -> int:
        return len(self.rows) if self.source is None else len(self.source)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The rows as a frame (built once)."""
        return self.rows.frame() if self.source is None else self.source

    def replaced(self, ids: pd.Index, alive: np.ndarray) -> np.ndarray:
        """Positions of the current rows with one of ``ids``: in the order of ``ids`` when the
        segment's ids are unique, else in row order."""
        if not len(self.ids):
            return np.array([], dtype=np.intp)
        if self.ids.is_unique:
            gone = self.ids.get_indexer(ids)
            gone = gone[gone >= 0]
        else:
            gone = np.flatnonzero(self.ids.isin(ids))
        return np.asarray(gone[alive[gone]])


@dataclass(frozen=True)
class SignalRows:
    """The signals rows of a view, kept so that a batch costs O(batch), not O(interactions).

    A large base segment is shared by successive views, ``alive`` marks which rows of each
    segment are still current, and the rows written since are kept in small segments (the
    parts), each with the dtypes of the frame it came from. Each segment indexes its
    interaction and customer ids once. When the parts hold a quarter as many rows as the base
    they are merged into a new base, so each row is copied O(1) times on average.
    """

    segments: tuple[_Segment, ...]
    alive: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> SignalRows:
        """All of ``frame`` as the base."""
        frame = frame.reset_index(drop=True)
        base = _Segment.of(Columns.stored(frame), frame)
        return cls((base,), (np.ones(len(frame), dtype=bool),))

    @property
    def layout(self) -> Columns:
        """The base rows (their columns and dtypes are those of the rows :meth:`fits`)."""
        return self.segments[0].rows

    @property
    def parts(self) -> tuple[_Segment, ...]:
        """The segments written since the base."""
        return self.segments[1:]

    @property
    def uniform(self) -> bool:
        """Whether every segment has the base's columns and dtypes (:meth:`take_rows`)."""
        return all(s.rows.dtypes is self.layout.dtypes for s in self.parts)

    def fits(self, frame: pd.DataFrame) -> bool:
        """Whether rows of ``frame`` are kept as they are in :meth:`take_rows`'s arrays:
        every segment and ``frame`` have the base's columns and dtypes."""
        return self.uniform and self.layout.fits(frame)

    def __len__(self) -> int:
        return sum(int(alive.sum()) for alive in self.alive)

    def frame(self) -> pd.DataFrame:
        """Every current row as one frame (base rows first)."""
        base, alive = self.segments[0], self.alive[0]
        if not self.parts:
            return base.frame if alive.all() else base.frame.loc[alive].reset_index(drop=True)
        parts = _current(self.parts, self.alive[1:])
        recent = [Columns.concat(parts).frame()] if self.uniform else [p.frame() for p in parts]
        return pd.concat([base.frame.loc[alive], *recent], ignore_index=True)

    def take(
        self, ids: np.ndarray, customers: np.ndarray
    ) -> tuple[pd.DataFrame, np.ndarray, SignalRows]:
        """:meth:`take_rows`, with the history as one frame of the segments' rows (of the
        dtypes their concatenation gives)."""
        taken, moved, rest = self._split(ids, customers)
        if not len(self.segments[0].ids):  # a base without ids has no rows to give
            taken = taken[1:]
        if not taken:
            return self.segments[0].frame.iloc[:0], moved, rest
        return pd.concat([t.frame() for t in taken], ignore_index=True), moved, rest

    def take_rows(
        self, ids: np.ndarray, customers: np.ndarray
    ) -> tuple[Columns, np.ndarray, SignalRows]:
        """Split off the rows with these interaction ids and the rows of these customers.

        For rows of one layout (:attr:`uniform`); :meth:`take` takes any.

        Parameters
        ----------
        ids : numpy.ndarray
            Interaction ids being replaced (their rows are dropped, not returned).
        customers : numpy.ndarray
            Customers whose other rows are returned (their history).

        Returns
        -------
        (history, moved, rest)
            The customers' current rows except ``ids`` (base rows first, each segment's in
            row order); the customer ids of the replaced rows (a corrected row may change
            hands: those customers are affected too); and the rows that stay.
        """
        taken, moved, rest = self._split(ids, customers)
        return Columns.concat(taken), moved, rest

    def _split(
        self, ids: np.ndarray, customers: np.ndarray
    ) -> tuple[list[Columns], np.ndarray, SignalRows]:
        """The rows :meth:`take_rows` returns, one piece per segment, and the rest."""
        wanted = pd.Index(ids, dtype=object)
        alive = [a.copy() for a in self.alive]
        moved: list[np.ndarray] = []
        for k, (segment, current) in enumerate(zip(self.segments, alive, strict=True)):
            gone = segment.replaced(wanted, current)
            if k:  # a part gives its replaced rows in row order, the base in the ids' order
                gone = np.sort(gone)
            moved.append(segment.owners.values[gone])
            current[gone] = False
        owners = pd.unique(np.concatenate([np.asarray(customers, dtype=object), *moved]))
        lost = owners[pd.isna(owners)]  # found in the parts only, as a membership test would
        taken: list[Columns] = []
        kept: list[int] = [0]
        for k, (segment, current) in enumerate(zip(self.segments, alive, strict=True)):
            found = segment.owners.rows(owners, lost if k else None)
            rows = found if len(segment.ids) else np.zeros(0, np.intp)
            rows = rows[current[rows]]
            taken.append(segment.rows.take(rows))
            if k and current.any() and len(rows) == np.count_nonzero(current):
                continue  # a part whose current rows all leave
            current[rows] = False
            if k:
                kept.append(k)
        rest = SignalRows(tuple(self.segments[k] for k in kept), tuple(alive[k] for k in kept))
        return taken, np.concatenate(moved), rest

    def plus(self, rows: pd.DataFrame) -> SignalRows:
        """These rows added as a new part (of their own dtypes); the parts merged into the
        base when large."""
        columns = Columns.of(rows)
        if self.layout.fits(rows):  # the base's dtypes: one layout (see uniform)
            columns = Columns(columns.arrays, self.layout.dtypes)
        return self.plus_rows(columns)

    def plus_rows(self, rows: Columns) -> SignalRows:
        """These rows added as a new part; the parts merged into the base when large.

        Rows of the base's layout share its ``dtypes`` (the same object).
        """
        segments = (*self.segments, _Segment.of(rows))
        alive = (*self.alive, np.ones(len(rows), dtype=bool))
        if len(segments) - 1 > _MAX_PARTS:  # few parts: each batch looks into every one
            merged = _Segment.of(_joined(_current(segments[1:], alive[1:])))
            segments, alive = (segments[0], merged), (alive[0], np.ones(len(merged), dtype=bool))
        grown = SignalRows(segments, alive)
        recent = sum(int(a.sum()) for a in alive[1:])
        if recent >= max(_COMPACT_MIN, _COMPACT_SHARE * len(segments[0])):
            return SignalRows.of(grown.frame())
        return grown


def _current(segments: Sequence[_Segment], alive: Sequence[np.ndarray]) -> list[Columns]:
    """The current rows of each segment."""
    return [
        s.rows if a.all() else s.rows.take(np.flatnonzero(a))
        for s, a in zip(segments, alive, strict=True)
    ]


def _joined(pieces: list[Columns]) -> Columns:
    """The rows of ``pieces`` as one piece: of their dtypes when they share them, else of
    those their frames' concatenation gives."""
    if all(p.dtypes is pieces[0].dtypes for p in pieces):
        return Columns.concat(pieces)
    return Columns.of(pd.concat([p.frame() for p in pieces], ignore_index=True))
