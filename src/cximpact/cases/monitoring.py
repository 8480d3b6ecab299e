"""What monitoring shows a user: detections per root cause and candidate issues from discovery.

Reads the stored signals and customer exposure (written by ``cximpact run``); topic shares come
from a file, or from a ``topic_shares`` table in the analytics store when topic discovery wrote
one (shape in :mod:`cximpact.monitor.topics`). Opening and refreshing cases from detections
happens in :func:`cximpact.flow.open_cases` during ``cximpact run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cximpact.errors import NotFoundError
from cximpact.monitor.detect import detect
from cximpact.monitor.topics import candidate_topics
from cximpact.settings import Settings

__all__ = ["monitor_report", "read_topic_shares"]


def read_topic_shares(path: Path) -> pd.DataFrame:
    """Topic shares from a CSV or Parquet file."""
    if not path.is_file():
        raise NotFoundError(f"topic shares file {path} does not exist")
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def monitor_report(
    settings: Settings, *, topics_file: Path | None = None, recent_only: bool = False
) -> dict[str, Any]:
    """Detections (newest first) and candidate issues, as plain data."""
    from cximpact.store.analytics import AnalyticsStore

    if not Path(settings.db).exists():
        raise NotFoundError(f"{settings.db} does not exist; run `cximpact run --db {settings.db}`")
    with AnalyticsStore(settings.db, read_only=True) as store:
        signals = store.read("signals")
        exposure = store.read("customer_exposure")
        stored_topics = store.read("topic_shares") if store.has_table("topic_shares") else None
    if signals.empty:
        raise NotFoundError(f"{settings.db} holds no signals; run `cximpact run` first")
    signals["timestamp"] = pd.to_datetime(signals["timestamp"])
    as_of = signals["timestamp"].max().ceil("D")
    found = detect(
        signals,
        exposure,
        baseline_days=settings.monitor_baseline_days,
        spike_z=settings.monitor_spike_z,
    )
    since = (as_of - pd.Timedelta(days=settings.monitor_recent_days)).date().isoformat()
    found["recent"] = found["date"] >= since
    if recent_only:
        found = found[found["recent"]]
    shares = read_topic_shares(topics_file) if topics_file is not None else stored_topics
    return {
        "as_of": as_of.date().isoformat(),
        "recent_since": since,
        "detections": found.to_dict(orient="records"),
        "candidate_issues": candidate_topics(shares) if shares is not None else [],
    }
