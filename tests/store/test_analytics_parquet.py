"""Tests for the analytics store's Parquet load and narrow read (used by the Spark engine)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cximpact.errors import NotFoundError, StoreError
from cximpact.store.analytics import AnalyticsStore


def test_replace_table_from_parquet_keeps_the_given_columns(tmp_path: Path) -> None:
    parts = tmp_path / "signals"
    parts.mkdir()
    for k in range(2):  # Spark writes several part files
        frame = pd.DataFrame(
            {"interaction_id": [f"i{k}a", f"i{k}b"], "root_cause": ["billing", "other"], "x": 1}
        )
        frame.to_parquet(parts / f"part-{k}.parquet")
    with AnalyticsStore(tmp_path / "a.duckdb") as store:
        store.replace_table_from_parquet("signals", parts, ["root_cause", "interaction_id"])
        loaded = store.read_columns("signals", ["interaction_id", "root_cause"])
        assert sorted(loaded["interaction_id"]) == ["i0a", "i0b", "i1a", "i1b"]
        assert list(store.read("signals").columns) == ["root_cause", "interaction_id"]


def test_missing_parquet_or_table_is_a_clear_error(tmp_path: Path) -> None:
    with AnalyticsStore(tmp_path / "a.duckdb") as store:
        with pytest.raises(StoreError, match="Parquet files the Spark engine wrote"):
            store.replace_table_from_parquet("signals", tmp_path / "nowhere", ["a"])
        with pytest.raises(NotFoundError, match="not in"):
            store.read_columns("signals", ["a"])
