"""Regex work on texts through pyarrow's RE2 engine, shared by the signal modules.

pyarrow is called directly rather than through ``Series.str``: pandas 3 parses every pattern
with Python's regex parser on each call to decide whether RE2 can run it (about 3 ms per
pattern and call), a fixed cost that dominated small (live) batches. Patterns must use only
syntax RE2 and Python's :mod:`re` share.

pyarrow compiles the pattern on every call too: for the long generated patterns (negations
with a window of scope words, look-alike exclusions) that is 1-5 ms, however few the texts.
The ``*_few`` variants take the pattern compiled once by :mod:`re` and, for at most
:data:`FEW` texts, run it text by text (about 10-20 us a text); for more texts they defer
to pyarrow. On the single-spaced ASCII texts the signals normalise to, with patterns that
cannot match the empty string, both engines find the same leftmost-first matches (checked
on every pattern of the built-in taxonomy in ``tests/signals``).
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "FEW",
    "arrow_strings",
    "contains_match",
    "contains_match_few",
    "count_matches",
    "first_match_few",
    "replace_matches",
    "replace_matches_few",
]

FEW = 64
"""Most texts the ``*_few`` functions run through Python's :mod:`re` (more go to pyarrow)."""


def arrow_strings(text: pd.Series) -> pa.Array:
    """The texts as one pyarrow string array; missing values become "".

    Parameters
    ----------
    text : pandas.Series
        Texts (pyarrow-backed strings are taken without a copy).

    Returns
    -------
    pyarrow.Array
        A ``large_string`` array, one value per text.
    """
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
        array = pa.array(text.array)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        return pc.fill_null(array.cast(pa.large_string()), "")
    values = text.astype(object).where(text.notna(), "").astype(str).to_numpy(dtype=object)
    return pa.array(values, type=pa.large_string())


def count_matches(text: pd.Series, pattern: str) -> npt.NDArray[np.float64]:
    """Non-overlapping regex matches per text (RE2 through pyarrow)."""
    counts = pc.count_substring_regex(arrow_strings(text), pattern)
    return np.asarray(counts, dtype=np.float64)


def contains_match(text: pd.Series, pattern: str) -> npt.NDArray[np.bool_]:
    """Whether each text matches a regex (RE2 through pyarrow)."""
    return np.asarray(pc.match_substring_regex(arrow_strings(text), pattern), dtype=bool)


def replace_matches(text: pd.Series, pattern: str, replacement: str) -> pd.Series:
    """``pattern`` replaced by ``replacement`` in every text, as pyarrow-backed strings."""
    replaced = pc.replace_substring_regex(arrow_strings(text), pattern, replacement)
    return pd.Series(pd.arrays.ArrowStringArray(replaced), index=text.index)


def _plain(text: pd.Series) -> list[str]:
    """The texts as Python strings, missing values as "" (as :func:`arrow_strings`)."""
    values: list[str] = arrow_strings(text).to_pylist()
    return values


def contains_match_few(text: pd.Series, pattern: re.Pattern[str]) -> npt.NDArray[np.bool_]:
    """:func:`contains_match` with a compiled pattern; Python's :mod:`re` for few texts."""
    if len(text) > FEW:
        return contains_match(text, pattern.pattern)
    return np.array([pattern.search(value) is not None for value in _plain(text)], dtype=bool)


def replace_matches_few(text: pd.Series, pattern: re.Pattern[str], replacement: str) -> pd.Series:
    """:func:`replace_matches` with a compiled pattern; Python's :mod:`re` for few texts.

    ``replacement`` is literal (no group references: the engines write them differently).
    """
    if len(text) > FEW or "\\" in replacement:
        return replace_matches(text, pattern.pattern, replacement)
    replaced = [pattern.sub(lambda _: replacement, value) for value in _plain(text)]
    array = pa.array(replaced, type=pa.large_string())
    return pd.Series(pd.arrays.ArrowStringArray(array), index=text.index)


def first_match_few(text: pd.Series, pattern: re.Pattern[str]) -> npt.NDArray[np.object_]:
    """The first match of ``pattern`` in each text, "" where there is none.

    Python's :mod:`re` for at most :data:`FEW` texts, else pyarrow's ``extract_regex``.
    """
    if len(text) > FEW:
        matched = pc.extract_regex(arrow_strings(text), f"(?P<phrase>{pattern.pattern})")
        phrase = matched.field("phrase").fill_null("")
        return np.asarray(phrase.to_numpy(zero_copy_only=False), dtype=object)
    found = [pattern.search(value) for value in _plain(text)]
    return np.array([m.group(0) if m else "" for m in found], dtype=object)
