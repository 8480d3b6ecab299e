"""A small, hand-made analysis (issues, customers carrying them, daily contacts) for case tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cximpact.exposure.issues import ExposureResult
from cximpact.flow import Analysis
from cximpact.store.state import StateStore

AS_OF = pd.Timestamp("2026-05-01")


def make_analysis(
    revenue_at_risk: dict[str, float],
    *,
    days: int = 120,
    spike: dict[str, float] | None = None,
    channel: dict[str, str] | None = None,
    customers_per_issue: int = 50,
    seed: int = 0,
) -> Analysis:
    """Issues with the given revenue at risk; steady Poisson(5) daily contacts per issue; a
    ``spike`` puts that many contacts of an issue on the last day."""
    rng = np.random.default_rng(seed)
    total = sum(revenue_at_risk.values())
    issues = pd.DataFrame(
        [
            {
                "issue": name,
                "revenue_at_risk": rar,
                "revenue_at_risk_low": 0.8 * rar,
                "revenue_at_risk_high": 1.2 * rar,
                "customers": customers_per_issue,
                "aggregate_ltv": 10 * rar,
                "contacts": 2 * customers_per_issue,
                "repeat_contacts": 10,
                "handling_cost": 600.0,
                "risk_source": "model",
                "share_of_exposure": rar / total,
            }
            for name, rar in revenue_at_risk.items()
        ]
    ).sort_values("revenue_at_risk", ascending=False, ignore_index=True)
    rows: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    start = AS_OF - pd.Timedelta(days=days)
    for name, rar in revenue_at_risk.items():
        ids = [f"{name}-{i}" for i in range(customers_per_issue)]
        for i, cid in enumerate(ids):
            rows.append(
                {
                    "customer_id": cid,
                    "issue": name,
                    "segment": "smb" if i % 2 else "enterprise",
                    "value": 1000.0 + 100 * i,
                    "value_source": "finance",
                    "revenue_at_risk": rar / customers_per_issue,
                    "churn_probability": 0.2,
                    "why": f"2 contacts on {name}",
                    "contacts": 2,
                }
            )
        counts = rng.poisson(5, days)
        if spike and name in spike:
            counts[-1] = int(spike[name])
        for d, n in enumerate(counts):
            for _ in range(int(n)):
                contacts.append(
                    {
                        "customer_id": ids[int(rng.integers(len(ids)))],
                        "timestamp": start + pd.Timedelta(days=d, hours=10),
                        "root_cause": name,
                        "channel": (channel or {}).get(name, "phone"),
                        "escalation": 0,
                    }
                )
    signals = pd.DataFrame(contacts)
    exposure = ExposureResult(issues, pd.DataFrame(rows), pd.DataFrame())
    return Analysis(AS_OF, days, signals, pd.DataFrame(), None, exposure, 365)  # type: ignore[arg-type]


@pytest.fixture
def state(sqlite_url: str) -> Iterator[StateStore]:
    """A migrated SQLite state store."""
    with StateStore(sqlite_url) as store:
        store.upgrade()
        yield store
