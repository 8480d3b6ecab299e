"""Integer codes for the exposure stage: topics, mentions and label columns without string work.

The exposure tables are long (one row per customer and issue: millions of rows at a million
customers) but their string columns take few distinct values (issue names, segments, phrases).
These helpers keep those columns as integer codes into small tables of distinct values while
computing, and turn them back into the column pandas would have built from the strings
themselves (same dtype, same values), so the outputs stay exactly as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

__all__ = [
    "MentionCodes",
    "TopicPairs",
    "customer_codes",
    "gather",
    "mention_codes",
    "sorted_labels",
    "topic_codes",
    "topic_pairs",
]

IntArray = NDArray[np.intp]
OTHER = "other"

#: The dtype pandas infers for a column of Python strings (``str`` in pandas 3).
_INFERRED_STRING = pd.Series(np.array(["a"], dtype=object)).dtype


def topic_codes(column: pd.Series) -> tuple[Any, NDArray[np.object_]]:
    """Codes (``-1`` for missing) and distinct values of a topic column, without hashing
    every row's string when the column is categorical (its codes are returned as they are
    stored, in their small integer dtype)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        names = np.asarray(column.cat.categories.astype(object), dtype=object)
        return codes, names
    codes, uniques = pd.factorize(column)
    return codes.astype(np.intp), np.asarray(uniques, dtype=object)


class MentionCodes:
    """Every (interaction, root cause) mention as row positions and topic codes.

    The same mentions as :func:`cximpact.exposure.issues.topic_mentions` (primary topic, and the
    secondary one when present; ``other`` and empty topics raise nothing; a two-topic contact
    weighs 0.5 for each), in the same order: primary mentions by row, then secondary ones.

    Attributes
    ----------
    position
        Row (position in the signals table) of each mention.
    topic
        Code of the mention's topic into ``names``.
    weight
        Share of the contact's handling cost carried by the mention (1 or 0.5).
    names
        Distinct topic names, object array.
    """

    def __init__(
        self,
        position: IntArray,
        topic: IntArray,
        weight: NDArray[np.float64],
        names: NDArray[np.object_],
    ) -> None:
        self.position = position
        self.topic = topic
        self.weight = weight
        self.names = names


def _is_topic(names: NDArray[np.object_]) -> NDArray[np.bool_]:
    """Distinct values that raise an issue: not missing, not ``other``, not empty."""
    return np.array([not pd.isna(n) and n != OTHER and n != "" for n in names], dtype=bool)


class TopicPairs:
    """Primary and secondary topic of every contact as codes into one table of names.

    Attributes
    ----------
    primary, secondary
        Code of each row's topic into ``names``; ``len(names)`` (one past the end) where the
        row raises no issue there (missing, empty or ``other``). Small integer dtype.
    names
        Distinct topic names, object array.
    """

    def __init__(
        self,
        primary: Any,
        secondary: Any,
        names: NDArray[np.object_],
        secondary_codes: Any,
        secondary_names: NDArray[np.object_],
    ) -> None:
        self.primary = primary
        self.secondary = secondary
        self.names = names
        self._secondary = (secondary_codes, secondary_names)

    @property
    def second(self) -> NDArray[np.bool_]:
        """Whether each row has a secondary topic at all (present and not empty, ``other``
        included): its cost is then split in two. Computed when asked for."""
        codes, names = self._secondary
        said = np.append(np.array([n != "" for n in names], dtype=bool), False)
        out: NDArray[np.bool_] = said[codes]
        return out


def topic_pairs(signals: pd.DataFrame) -> TopicPairs:
    """The topics of ``signals`` as codes (see :class:`TopicPairs`); one gather per column."""
    p_codes, p_names = topic_codes(signals["root_cause"])
    s_codes, s_names = topic_codes(signals["secondary_root_cause"])
    names = np.asarray(pd.unique(np.concatenate([p_names, s_names])), dtype=object)
    none = len(names)
    dtype = np.int8 if none < 127 else np.int16 if none < 32767 else np.intp
    valid = np.append(_is_topic(names), False)
    lookup = pd.Index(names)

    def mapping(local: NDArray[np.object_]) -> Any:
        """Local code -> union code, or ``none`` when not an issue; code -1 -> ``none``."""
        union = np.append(lookup.get_indexer(local), -1)
        return np.where(valid[union], union, none).astype(dtype)

    return TopicPairs(mapping(p_names)[p_codes], mapping(s_names)[s_codes], names, s_codes, s_names)


def mention_codes(signals: pd.DataFrame) -> MentionCodes:
    """The mentions of ``signals`` as codes (see :class:`MentionCodes`); linear in rows."""
    pairs = topic_pairs(signals)
    none = len(pairs.names)
    first = np.flatnonzero(pairs.primary != none)
    second = np.flatnonzero(pairs.secondary != none)
    position = np.concatenate([first, second])
    topic = np.concatenate([pairs.primary[first], pairs.secondary[second]]).astype(np.intp)
    weight = np.concatenate([np.where(pairs.second[first], 0.5, 1.0), np.full(len(second), 0.5)])
    return MentionCodes(position, topic, weight, pairs.names)


def customer_codes(ids: pd.Series) -> tuple[IntArray, Any]:
    """Code of each row's customer and the customer id of each code, in sorted id order.

    Integer ids in a compact range are their own codes (offset by the smallest; codes of
    ids that do not occur are simply unused), others are factorized with ``sort=True``.
    Missing ids get ``-1``.
    """
    if isinstance(ids.dtype, pd.CategoricalDtype):  # sort by value, not category order
        ids = pd.Series(ids.to_numpy())
    values = ids.to_numpy() if ids.dtype.kind in "iu" else None
    if values is not None and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low < 4 * len(values) + (1 << 16):
            codes = (values - low).astype(np.intp, copy=False)
            return codes, np.arange(low, high + 1).astype(values.dtype)
    codes, uniques = pd.factorize(ids, sort=True)
    return codes.astype(np.intp), np.asarray(uniques)


def sorted_labels(values: Any) -> tuple[IntArray, NDArray[np.object_]]:
    """Rank of each distinct value in Python's sort order, as ``pd.factorize(sort=True)``.

    Returns ``(rank, order)``: ``rank[k]`` is the sorted position of ``values[k]`` and
    ``order`` the values sorted.
    """
    values = np.asarray(values, dtype=object)
    codes, order = pd.factorize(values, sort=True)
    return codes.astype(np.intp), np.asarray(order, dtype=object)


def gather(column: pd.Series | pd.Index, positions: IntArray | None = None) -> Any:
    """``column.to_numpy()[positions]`` as pandas would store it in a new frame, fast.

    A string column is taken as strings (an Arrow ``take``), not converted to Python objects
    and inferred back; a categorical one through its codes; numeric ones as numpy arrays.
    For string and categorical columns ``positions`` may hold ``-1`` (a missing value). Other
    columns fall back to ``to_numpy()``, which pandas infers as before.
    """
    if isinstance(column, pd.Index):
        column = pd.Series(column, copy=False)
    if column.dtype == _INFERRED_STRING:
        array = column.array
        if positions is None:
            return array
        few = _few_strings(column, positions)
        return array.take(positions, allow_fill=True) if few is None else few
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = np.asarray(column.cat.categories.astype(object), dtype=object)
        small = pd.Series(categories)
        if len(categories) and small.dtype == _INFERRED_STRING:
            codes = np.asarray(column.cat.codes.to_numpy(), dtype=np.intp)
            codes = codes if positions is None else np.where(positions < 0, -1, codes[positions])
            return small.array.take(codes, allow_fill=True)
    values = column.to_numpy()
    return values if positions is None else values[positions]


#: Distinct values (per row of the source) below which a string column is taken through its
#: dictionary: a take of small codes, then one copy of a string per row from a few strings.
_FEW_STRINGS = 1 / 64
#: Rows below which a plain take is quick enough.
_MANY_ROWS = 100_000


def _few_strings(column: pd.Series, positions: IntArray) -> Any:
    """``column.array.take(positions, allow_fill=True)`` through a dictionary, or ``None``.

    A take of a string array copies each string from wherever it lies in the source; when the
    column holds few distinct strings (segments, sources, competitor lists), taking their codes
    and decoding them from a small dictionary is several times faster, with the same result.
    ``None`` when the column is short, or has many distinct values.
    """
    array = getattr(column.array, "_pa_array", None)
    if not isinstance(array, pa.ChunkedArray) or len(positions) < _MANY_ROWS:
        return None
    head = array.slice(0, 2048)
    if len(pc.unique(head)) > _FEW_STRINGS * len(head):  # likely many: not worth hashing
        return None
    encoded = pc.dictionary_encode(array).combine_chunks()
    if len(encoded.dictionary) > _FEW_STRINGS * len(array):
        return None
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    taken = np.where(positions < 0, -1, codes.take(np.maximum(positions, 0)))
    indices = pa.array(taken.astype(np.int32), mask=taken < 0)
    decoded = pa.DictionaryArray.from_arrays(indices, encoded.dictionary)
    return type(column.array)(pa.chunked_array([decoded]), dtype=column.dtype)
