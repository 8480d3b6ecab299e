"""Regex work on texts with RE2: pyarrow for many texts, patterns compiled once for few.

pyarrow is called directly rather than through ``Series.str``: pandas 3 parses every pattern
with Python's regex parser on each call to decide whether RE2 can run it (about 3 ms per
pattern and call), a fixed cost that dominated small (live) batches. Patterns must use only
syntax RE2 and Python's :mod:`re` share.

pyarrow compiles the pattern on every call too: 1-6 ms for the long generated patterns (the
taxonomy's multi-word phrases, negations with a window of scope words, look-alike
exclusions), however few the texts, which made up most of the keyword signals' cost on a
live batch of 100 texts. For at most :data:`FEW` texts and patterns of at least
:data:`LONG` characters the functions here run the same engine, RE2, through its own Python
binding (``google-re2``) with each pattern compiled once and kept (:func:`compiled`), text by
text (1-5 us a text and pattern, plus a Python object per match); for more texts, or short
patterns (cheap to compile, and some match every word), pyarrow's vectorised kernels win.
Both paths are RE2, so they find the same matches (``tests/signals/test_arrow_few.py``
checks every pattern of the built-in taxonomy). At 100 texts the keyword signals went from
32 to 19 ms. Patterns must not match the empty string (the two count such matches
differently).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import re2

__all__ = [
    "FEW",
    "arrow_strings",
    "compiled",
    "contains_match",
    "count_matches",
    "first_match",
    "replace_matches",
]

FEW = 256
"""Most texts the functions run through RE2 compiled once, text by text (more go to pyarrow)."""

LONG = 200
"""Shortest pattern (characters) worth compiling once for few texts."""

Pattern = str | re.Pattern[str]
"""A regex as its source, or as compiled by :mod:`re` (only its source is used)."""


@lru_cache(maxsize=4096)
def compiled(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (``google-re2``), once per pattern and process."""
    return re2.compile(pattern)


def _source(pattern: Pattern) -> str:
    return pattern if isinstance(pattern, str) else pattern.pattern


def _once(text: pd.Series, source: str) -> Any:
    """The compiled pattern when the few-texts path pays (:data:`FEW`, :data:`LONG`), else None."""
    return compiled(source) if len(text) <= FEW and len(source) >= LONG else None


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


def count_matches(text: pd.Series, pattern: Pattern) -> npt.NDArray[np.float64]:
    """Non-overlapping regex matches per text."""
    source = _source(pattern)
    if (regex := _once(text, source)) is not None:
        return np.array([len(regex.findall(value)) for value in _plain(text)], dtype=np.float64)
    counts = pc.count_substring_regex(arrow_strings(text), source)
    return np.asarray(counts, dtype=np.float64)


def contains_match(text: pd.Series, pattern: Pattern) -> npt.NDArray[np.bool_]:
    """Whether each text matches a regex."""
    source = _source(pattern)
    if (regex := _once(text, source)) is not None:
        return np.array([regex.search(value) is not None for value in _plain(text)], dtype=bool)
    return np.asarray(pc.match_substring_regex(arrow_strings(text), source), dtype=bool)


def replace_matches(text: pd.Series, pattern: Pattern, replacement: str) -> pd.Series:
    """``pattern`` replaced by ``replacement`` in every text, as pyarrow-backed strings.

    ``replacement`` is literal (no group references: the two paths write them differently).
    """
    source = _source(pattern)
    if "\\" in replacement:
        raise ValueError(f"replacement {replacement!r} must be literal (no backslashes)")
    if (regex := _once(text, source)) is not None:
        array = pa.array([regex.sub(replacement, v) for v in _plain(text)], type=pa.large_string())
    else:
        array = pc.replace_substring_regex(arrow_strings(text), source, replacement)
    return pd.Series(pd.arrays.ArrowStringArray(array), index=text.index)


def first_match(text: pd.Series, pattern: Pattern) -> npt.NDArray[np.object_]:
    """The first match of ``pattern`` in each text, "" where there is none."""
    source = _source(pattern)
    if (regex := _once(text, source)) is not None:
        found = [regex.search(value) for value in _plain(text)]
        return np.array([m.group(0) if m else "" for m in found], dtype=object)
    matched = pc.extract_regex(arrow_strings(text), f"(?P<phrase>{source})")
    phrase = matched.field("phrase").fill_null("")
    return np.asarray(phrase.to_numpy(zero_copy_only=False), dtype=object)


def _plain(text: pd.Series) -> list[str]:
    """The texts as Python strings, missing values as "" (as :func:`arrow_strings`)."""
    values: list[str] = arrow_strings(text).to_pylist()
    return values
