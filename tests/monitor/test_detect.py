"""Spike and change-point detection: planted events are found, quiet series stay quiet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cximpact.errors import ContractError
from cximpact.monitor.detect import anscombe, daily_series, detect, detect_changes, detect_spikes

DAYS = pd.date_range("2026-01-01", periods=120, freq="D")


def _poisson(rate: float, seed: int) -> pd.Series:
    return pd.Series(np.random.default_rng(seed).poisson(rate, len(DAYS)).astype(float), DAYS)


def test_anscombe_stabilises_poisson_variance() -> None:
    rng = np.random.default_rng(0)
    for rate in (3.0, 30.0, 300.0):
        assert anscombe(rng.poisson(rate, 50_000)).std() == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("rate", [3.0, 30.0, 300.0])
def test_a_planted_spike_is_found_on_its_day(rate: float) -> None:
    series = _poisson(rate, 1)
    series.iloc[100] = rate * 3 + 12
    spikes = detect_spikes(series)
    assert "2026-04-11" in [s["date"] for s in spikes]
    assert all(s["direction"] == "up" for s in spikes)


def test_quiet_series_rarely_alarm() -> None:
    """Poisson noise only, 100 series of 120 days: spikes in at most 3%, change points in at most
    10% of the series (the CUSUM's h = 8 keeps its false alarms per series near 5%)."""
    spikes = changes = 0
    for seed in range(100):
        series = _poisson(10.0, seed)
        spikes += bool(detect_spikes(series))
        changes += bool(detect_changes(series))
    assert spikes <= 3 and changes <= 10


def test_a_level_shift_is_found_and_dated_near_its_start() -> None:
    series = _poisson(10.0, 3)
    series.iloc[80:] += np.random.default_rng(4).poisson(8.0, 40)
    changes = detect_changes(series)
    assert changes and changes[0]["direction"] == "up"
    since = pd.Timestamp(changes[0]["since"])
    assert abs((since - DAYS[80]).days) <= 7
    assert len([c for c in changes if c["direction"] == "up"]) == 1  # reported once


def test_a_drop_is_found_too() -> None:
    series = _poisson(20.0, 5)
    series.iloc[70:] = np.random.default_rng(6).poisson(8.0, 50)
    assert any(c["direction"] == "down" for c in detect_changes(series))


def _signals(spike_on: str | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for cause in ("billing_error", "app_login", "other"):
        for day, n in zip(DAYS, rng.poisson(6, len(DAYS)), strict=True):
            if spike_on == cause and day == DAYS[-2]:
                n = 50
            for k in range(int(n)):
                rows.append(
                    {
                        "customer_id": f"{cause}-{k % 20}",
                        "timestamp": day + pd.Timedelta(hours=9),
                        "root_cause": cause,
                        "escalation": int(k == 0),
                    }
                )
    return pd.DataFrame(rows)


def test_daily_series_counts_every_day_and_spreads_exposure_over_contacts() -> None:
    signals = _signals()
    exposure = pd.DataFrame(
        {
            "customer_id": [f"billing_error-{i}" for i in range(20)],
            "issue": "billing_error",
            "revenue_at_risk": 100.0,
            "contacts": 4,
        }
    )
    daily = daily_series(signals, exposure)
    billing = daily.xs("billing_error", level=0)
    assert len(billing) == len(DAYS)
    assert billing["volume"].sum() == (signals["root_cause"] == "billing_error").sum()
    assert billing["exposure"].sum() == pytest.approx(billing["volume"].sum() * 25.0)
    assert daily.xs("app_login", level=0)["exposure"].sum() == 0.0
    with pytest.raises(ContractError, match="root_cause"):
        daily_series(signals.drop(columns="root_cause"))


def test_detect_names_root_cause_and_metric_and_skips_other() -> None:
    found = detect(_signals(spike_on="app_login"))
    hit = found[(found["kind"] == "spike") & (found["date"] == DAYS[-2].date().isoformat())]
    assert set(hit["root_cause"]) == {"app_login"} and "volume" in set(hit["metric"])
    assert "other" not in set(detect(_signals(spike_on="other"))["root_cause"])
    assert list(found.columns)[:4] == ["root_cause", "metric", "kind", "date"]
