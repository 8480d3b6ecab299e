"""Spike and change-point detection on daily volume, escalations and exposure per root cause.

Two detectors, both documented and dependency-free:

* **spike** - a day whose value lies ``z`` robust standard deviations above the median of the
  ``baseline_days`` before it (robust z-score ``(y - median) / (1.4826 MAD)`` on the Anscombe
  scale ``y = 2 sqrt(x + 3/8)``, where Poisson counts have unit variance; the scale is floored
  at 1 so that quiet series do not flag a few contacts) and counts at least ``min_count``;
* **change point** - a two-sided tabular CUSUM (Page 1954) on the Anscombe-scaled series
  standardised by a reference period (mean, standard deviation floored at 1), slack ``k = 0.5``
  and decision interval ``h = 8`` standard deviations: the alarm day, and the change
  dated at the last day the sum was zero before it; the next reference starts at that change.
  This catches behaviour drift that no single day shows.

Series per root cause and day: ``volume`` (contacts), ``escalations`` (contacts asking to
escalate) and, when customer exposure is given, ``exposure`` (revenue at risk carried by the
day's contacts: each customer-issue pair's revenue at risk spread over its contacts; detected
in contact-equivalents, i.e. divided by the issue's mean revenue at risk per contact).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cximpact.errors import ContractError

__all__ = [
    "DETECTION_COLUMNS",
    "anscombe",
    "daily_series",
    "detect",
    "detect_changes",
    "detect_spikes",
]

DETECTION_COLUMNS = (
    "root_cause",
    "metric",
    "kind",
    "date",
    "since",
    "observed",
    "baseline",
    "score",
    "direction",
)
_MAD_SCALE = 1.4826


def daily_series(
    signals: pd.DataFrame, customer_exposure: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Daily ``volume``, ``escalations`` (and ``exposure``) per root cause; quiet days are 0.

    Parameters
    ----------
    signals : DataFrame
        ``customer_id, timestamp, root_cause, escalation`` per interaction.
    customer_exposure : DataFrame, optional
        ``customer_id, issue, revenue_at_risk, contacts`` per customer and issue.

    Returns
    -------
    DataFrame
        Indexed by ``(root_cause, day)`` over every day from the first to the last contact.
    """
    missing = {"customer_id", "timestamp", "root_cause"} - set(signals.columns)
    if missing:
        raise ContractError(f"signals lack {sorted(missing)}; compute signals first")
    frame = pd.DataFrame(
        {
            "root_cause": signals["root_cause"].astype(str).to_numpy(),
            "day": pd.to_datetime(signals["timestamp"]).dt.floor("D").to_numpy(),
            "volume": 1.0,
            "escalations": signals.get("escalation", pd.Series(0, index=signals.index))
            .fillna(0)
            .astype(float)
            .to_numpy(),
        }
    )
    if customer_exposure is not None and len(customer_exposure):
        per_contact = customer_exposure["revenue_at_risk"] / customer_exposure["contacts"].clip(
            lower=1
        ).fillna(1)
        key = pd.MultiIndex.from_arrays(
            [customer_exposure["customer_id"], customer_exposure["issue"]]
        )
        lookup = pd.Series(per_contact.to_numpy(), index=key)
        lookup = lookup[~lookup.index.duplicated()]
        pairs = pd.MultiIndex.from_arrays([signals["customer_id"], frame["root_cause"]])
        frame["exposure"] = lookup.reindex(pairs).fillna(0.0).to_numpy()
    grouped = frame.groupby(["root_cause", "day"]).sum()
    if grouped.empty:
        return grouped
    days = pd.date_range(frame["day"].min(), frame["day"].max(), freq="D")
    full = pd.MultiIndex.from_product(
        [grouped.index.get_level_values(0).unique(), days], names=["root_cause", "day"]
    )
    return grouped.reindex(full, fill_value=0.0)


def anscombe(counts: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``2 sqrt(x + 3/8)``: Poisson counts on a scale where their variance is about 1."""
    return np.asarray(2.0 * np.sqrt(np.clip(np.asarray(counts, dtype=float), 0.0, None) + 0.375))


def detect_spikes(
    series: pd.Series, *, baseline_days: int = 28, z: float = 4.0, min_count: float = 5.0
) -> list[dict[str, Any]]:
    """Days more than ``z`` robust standard deviations above their trailing ``baseline_days``.

    Works on the Anscombe scale (:func:`anscombe`), where a Poisson count has unit variance, so
    the MAD is floored at 1: quiet series do not flag a handful of contacts.
    """
    values = series.to_numpy(dtype=float)
    y = pd.Series(anscombe(values), index=series.index)
    window = y.shift(1).rolling(baseline_days, min_periods=max(baseline_days // 2, 3))
    median = window.median().to_numpy()
    mad = window.apply(lambda w: np.median(np.abs(w - np.median(w))), raw=True).to_numpy()
    score = (y.to_numpy() - median) / np.maximum(mad * _MAD_SCALE, 1.0)
    typical = series.shift(1).rolling(baseline_days, min_periods=1).median().to_numpy()
    hits = np.flatnonzero(np.nan_to_num(score, nan=0.0) >= z).tolist()
    days = series.index
    return [
        {
            "kind": "spike",
            "date": days[i].date().isoformat(),
            "since": days[i].date().isoformat(),
            "observed": round(float(values[i]), 2),
            "baseline": round(float(typical[i]), 2),
            "score": round(float(score[i]), 2),
            "direction": "up",
        }
        for i in hits
        if values[i] >= min_count
    ]


def _cusum_alarm(
    x: npt.NDArray[np.float64], begin: int, k: float, h: float
) -> tuple[int, int, bool, float] | None:
    """First alarm of a two-sided CUSUM from ``begin``: (alarm, change start, upward, sum)."""
    high = low = 0.0
    high_start = low_start = begin
    for i in range(begin, len(x)):  # one pass over days (hundreds), not rows
        high, low = max(0.0, high + x[i] - k), max(0.0, low - x[i] - k)
        if high == 0.0:
            high_start = i + 1
        if low == 0.0:
            low_start = i + 1
        if high > h or low > h:
            up = high > h
            return i, min(high_start if up else low_start, i), up, high if up else low
    return None


def detect_changes(
    series: pd.Series, *, baseline_days: int = 28, k: float = 0.5, h: float = 8.0
) -> list[dict[str, Any]]:
    """Two-sided CUSUM alarms, standardised by a reference period (mean, Poisson-floored scale).

    The first reference is the first ``baseline_days``; after an alarm the next reference is
    the ``baseline_days`` from the estimated change on, so a lasting shift is reported once.
    """
    values = series.to_numpy(dtype=float)
    y = anscombe(values)
    found: list[dict[str, Any]] = []
    ref = 0
    while ref + baseline_days + 7 <= len(values):
        reference = y[ref : ref + baseline_days]
        centre = float(reference.mean())
        scale = max(float(reference.std(ddof=1)), 1.0)
        alarm = _cusum_alarm((y - centre) / scale, ref + baseline_days, k, h)
        if alarm is None:
            break
        i, start, up, total = alarm
        found.append(
            {
                "kind": "change_point",
                "date": series.index[i].date().isoformat(),
                "since": series.index[start].date().isoformat(),
                "observed": round(float(values[start : i + 1].mean()), 2),
                "baseline": round(float(values[ref : ref + baseline_days].mean()), 2),
                "score": round(float(total), 2),
                "direction": "up" if up else "down",
            }
        )
        ref = start
    return found


def detect(
    signals: pd.DataFrame,
    customer_exposure: pd.DataFrame | None = None,
    *,
    baseline_days: int = 28,
    spike_z: float = 4.0,
    min_count: float = 5.0,
) -> pd.DataFrame:
    """Every spike and change point per root cause and metric, newest first.

    Parameters
    ----------
    signals, customer_exposure
        See :func:`daily_series`.
    baseline_days : int
        Trailing window of the spike detector and reference period of the CUSUM.
    spike_z : float
        Robust z-score from which a day is a spike.
    min_count : float
        Fewest contacts (or escalations) on a spike day.

    Returns
    -------
    DataFrame
        Columns :data:`DETECTION_COLUMNS`; ``other`` (unclassified contacts) is skipped.
    """
    daily = daily_series(signals, customer_exposure)
    rows: list[dict[str, Any]] = []
    for (root_cause, metric), series, unit in _each_series(daily):
        units = series / unit
        found = detect_spikes(
            units, baseline_days=baseline_days, z=spike_z, min_count=min_count
        ) + detect_changes(units, baseline_days=baseline_days)
        for row in found:
            row["observed"], row["baseline"] = (
                round(row["observed"] * unit, 2),
                round(row["baseline"] * unit, 2),
            )
            rows.append({"root_cause": root_cause, "metric": metric, **row})
    out = pd.DataFrame(rows, columns=list(DETECTION_COLUMNS))
    return out.sort_values(["date", "score"], ascending=[False, False], ignore_index=True)


def _each_series(daily: pd.DataFrame) -> list[tuple[tuple[str, str], pd.Series, float]]:
    """Each (root cause, metric) series with its unit: 1 for counts; for exposure the mean
    revenue at risk per contact, so exposure is detected in contact-equivalents."""
    out = []
    for root_cause in daily.index.get_level_values(0).unique():  # a few dozen root causes
        if root_cause == "other":
            continue
        block = daily.xs(root_cause, level=0)
        for metric in block.columns:
            unit = 1.0
            if metric == "exposure":
                total, volume = float(block[metric].sum()), float(block["volume"].sum())
                if total <= 0:
                    continue
                unit = total / max(volume, 1.0)
            out.append(((str(root_cause), str(metric)), block[metric], unit))
    return out
