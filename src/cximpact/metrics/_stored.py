"""What the presets and invest commands read from the store, and the measured baseline.

The I/O edge of :mod:`cximpact.metrics.presets` and :mod:`cximpact.metrics.invest`: the
commands in :mod:`cximpact.metrics.commands` only parse and format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from cximpact.metrics import invest as calc
from cximpact.metrics.presets import StrategyPreset, customer_profiles, prioritise
from cximpact.settings import Settings

__all__ = ["StoredAnalysis", "measure_initiative", "rank_with", "read_analysis"]

#: Days a customer counts as new (the strategy presets' default ``new_customer_days``).
NEW_CUSTOMER_DAYS = 365


@dataclass(frozen=True)
class StoredAnalysis:
    """The stored tables a ranking or an investment reads."""

    issues: pd.DataFrame
    customers: pd.DataFrame
    signals: pd.DataFrame
    profiles: pd.DataFrame
    as_of: pd.Timestamp
    window_days: int


def read_analysis(settings: Settings) -> StoredAnalysis:
    """Read the tables of the last ``cximpact run`` from the analytics store.

    Raises
    ------
    NotFoundError
        The store or one of its tables does not exist yet.
    """
    from cximpact.store.analytics import AnalyticsStore

    with AnalyticsStore(settings.db, read_only=True) as store:
        issues = store.read("issue_exposure")
        customers = store.read("customer_exposure")
        signals = store.read("signals")
        profiles = customer_profiles(store.read("customers"), store.read("customer_values"))
    stamps = pd.to_datetime(signals["timestamp"])
    as_of = stamps.max().ceil("D") if len(stamps) else pd.Timestamp.now().ceil("D")
    window = max(int((as_of - stamps.min()).days), 1) if len(stamps) else 1
    return StoredAnalysis(issues, customers, signals, profiles, as_of, window)


def rank_with(data: StoredAnalysis, preset: StrategyPreset) -> pd.DataFrame:
    """The stored issues ranked by ``preset``."""
    return prioritise(
        data.issues, data.customers, data.signals, preset, profiles=data.profiles, as_of=data.as_of
    )


def measure_initiative(
    initiative: calc.Initiative, settings: Settings
) -> tuple[dict[str, calc.Measured], dict[str, Any]]:
    """Baseline measured from the store, and the facts the attribution plan needs.

    "New customers" (for onboarding initiatives) are those in their first
    ``NEW_CUSTOMER_DAYS``, the strategy presets' default.
    """
    data = read_analysis(settings)
    start = pd.to_datetime(data.profiles["start_date"], errors="coerce")
    new = data.profiles.loc[
        ((data.as_of - start).dt.days < NEW_CUSTOMER_DAYS).to_numpy(), "id"
    ].astype(str)
    measured = calc.measure_baseline(
        initiative,
        data.signals,
        data.customers,
        data.issues,
        window_days=data.window_days,
        horizon_days=settings.horizon_days,
        new_customers=pd.Index(new),
    )
    rows = data.customers[data.customers["issue"].astype(str).isin(initiative.addresses)]
    targeted = data.signals[data.signals["root_cause"].astype(str).isin(initiative.addresses)]
    span = pd.to_datetime(targeted["timestamp"])
    facts = {
        "churn_rate": float(rows["churn_probability"].mean())
        if len(rows)
        else settings.prior_churn_rate,
        "segments": sorted(str(s) for s in rows["segment"].dropna().unique()),
        "history_days": int((span.max() - span.min()).days) if len(span) else 0,
    }
    return measured, facts
