"""Tests for :mod:`cximpact.engines`: choosing an engine, and what the local engine imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cximpact.engines import run_flow
from cximpact.errors import ConfigError
from cximpact.exposure.issues import issue_flags
from cximpact.settings import load_settings
from cximpact.signals.compute import compute_signals
from cximpact.simulate import SimulationConfig, simulate


def test_unknown_engine_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown engine 'dask'"):
        run_flow(None, load_settings(db=tmp_path / "a.duckdb"), engine="dask")


def test_cli_unknown_engine_is_one_line(tmp_path: Path) -> None:
    args = ["run", "--engine", "dask", "--db", str(tmp_path / "a.duckdb")]
    result = subprocess.run(
        [sys.executable, "-m", "cximpact", *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "unknown engine 'dask'" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_local_engine_never_imports_pyspark() -> None:
    code = (
        "import sys, cximpact.cli, cximpact.engines, cximpact.flow; "
        "sys.exit(1 if any(m.startswith('pyspark') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_spark_engine_needs_exports(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    with pytest.raises(ConfigError, match="--data"):
        run_flow(None, load_settings(db=tmp_path / "a.duckdb"), engine="spark")


def test_flags_from_summary_equal_issue_flags() -> None:
    """The Spark engine's issue flags (pairs of the per-customer summary) are issue_flags."""
    pytest.importorskip("pyspark")
    from cximpact.engines.spark import _flags_from_summary
    from cximpact.exposure.issues import customer_signal_summary

    interactions = simulate(SimulationConfig(customers=300, seed=5)).interactions
    interactions = interactions.assign(timestamp=pd.to_datetime(interactions["timestamp"]))
    signals = compute_signals(interactions)
    expected = issue_flags(signals)
    flags = _flags_from_summary(customer_signal_summary(signals))
    assert (signals["secondary_root_cause"] != "").any()  # secondary topics raise flags too
    pd.testing.assert_frame_equal(flags, expected, check_index_type=False)
