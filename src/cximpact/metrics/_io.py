"""The edge of the metrics package: reading the stores into DataFrames (the only I/O here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cximpact.errors import NotFoundError
from cximpact.metrics._compute import Assumptions, MetricInputs
from cximpact.settings import Settings

__all__ = ["assumptions_from_settings", "read_cases", "read_inputs"]

_DERIVED = ("signals", "customer_values", "customer_exposure", "issue_exposure")


def read_inputs(db: Path, as_of: pd.Timestamp | None = None) -> MetricInputs:
    """The facts and derived tables of the analytics store ``db``, read only.

    ``as_of`` defaults to the day after the last stored interaction. Derived tables missing
    (no `cximpact run` yet) come back empty, and the metrics that need them say "no data".
    """
    from cximpact.store.analytics import AnalyticsStore

    with AnalyticsStore(db, read_only=True) as store:
        facts = {
            kind: store.read(kind)
            for kind in ("customers", "interactions", "outcomes", "transactions")
        }
        derived = {t: store.read(t) if store.has_table(t) else pd.DataFrame() for t in _DERIVED}
    if facts["interactions"].empty or facts["customers"].empty:
        raise NotFoundError(
            f"{db} holds no customers or interactions; run `cximpact run --data DIR --db {db}`"
        )
    stamp = as_of if as_of is not None else _last_day(facts["interactions"])
    return MetricInputs(as_of=stamp, **facts, **derived)


def _last_day(interactions: pd.DataFrame) -> pd.Timestamp:
    last: pd.Timestamp = pd.to_datetime(interactions["timestamp"]).max().floor("D")
    return last + pd.Timedelta(days=1)


def assumptions_from_settings(settings: Settings) -> Assumptions:
    """The formulas' assumptions from the declared settings."""
    return Assumptions(
        default_handling_cost=settings.handling_cost,
        repeat_contact_days=settings.repeat_contact_days,
        status_root_causes=tuple(settings.metrics_status_root_causes),
        high_value_share=settings.metrics_high_value_share,
        purchase_margin_rate=settings.purchase_margin_rate,
        lost_year_share=settings.metrics_lost_year_share,
    )


def read_cases(settings: Settings) -> list[dict[str, Any]]:
    """Every case of the run's transactional store as dicts; empty when no run opened any."""
    from cximpact._cli import open_state
    from cximpact.store.state import StateStore

    try:
        store = open_state(settings, StateStore, "no cases yet")
    except NotFoundError:
        return []
    with store:
        return [c.to_dict() for c in store.list_cases(include_terminal=True)]
