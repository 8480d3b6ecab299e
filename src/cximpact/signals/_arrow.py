"""Regex work on texts through pyarrow's RE2 engine, shared by the signal modules.

pyarrow is called directly rather than through ``Series.str``: pandas 3 parses every pattern
with Python's regex parser on each call to decide whether RE2 can run it (about 3 ms per
pattern and call), a fixed cost that dominated small (live) batches. Patterns must use only
syntax RE2 and Python's :mod:`re` share.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["arrow_strings", "contains_match", "count_matches", "replace_matches"]


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
