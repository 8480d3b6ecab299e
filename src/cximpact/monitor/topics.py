"""New topics from discovery surfaced as candidate issues.

Topic discovery (``cximpact.signals.discovery``) is built separately; this module depends only
on a small input shape so either side can change: a DataFrame (or a table ``topic_shares`` in
the analytics store, or a CSV/Parquet file) with columns

``topic`` (str), ``share_recent`` (share of recent contacts, 0..1), ``share_before`` (share of
earlier contacts, 0..1), and optionally ``examples`` (a few redacted texts).

A topic is a candidate issue when its recent share reaches ``min_share`` and is at least
``min_lift`` times its earlier share (a topic new since before has an earlier share of 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cximpact.errors import ContractError

__all__ = ["TOPIC_COLUMNS", "candidate_topics"]

TOPIC_COLUMNS = ("topic", "share_recent", "share_before")


def candidate_topics(
    topics: pd.DataFrame, *, min_share: float = 0.01, min_lift: float = 2.0
) -> list[dict[str, Any]]:
    """Topics growing fast enough to be looked at as issues, largest recent share first.

    Parameters
    ----------
    topics : DataFrame
        ``topic, share_recent, share_before`` (see the module docstring).
    min_share : float
        Smallest recent share of contacts.
    min_lift : float
        Smallest ratio of recent to earlier share.

    Returns
    -------
    list of dict
        ``topic, share_recent, share_before, lift`` (``lift`` is ``None`` for a brand-new topic).
    """
    missing = set(TOPIC_COLUMNS) - set(topics.columns)
    if missing:
        raise ContractError(
            f"topic shares lack columns {sorted(missing)}; expected {list(TOPIC_COLUMNS)} "
            "(one row per discovered topic, shares between 0 and 1)"
        )
    recent = pd.to_numeric(topics["share_recent"], errors="coerce").fillna(0.0)
    before = pd.to_numeric(topics["share_before"], errors="coerce").fillna(0.0)
    if ((recent < 0) | (recent > 1) | (before < 0) | (before > 1)).any():
        raise ContractError(
            "topic shares must lie between 0 and 1; check share_recent and share_before"
        )
    lift = np.where(before > 0, recent / before.where(before > 0, 1.0), np.inf)
    keep = (recent >= min_share) & (lift >= min_lift)
    rows = []
    names = topics["topic"].astype(str).to_numpy()
    examples = topics["examples"].to_numpy() if "examples" in topics.columns else None
    shares_recent, shares_before = recent.to_numpy(dtype=float), before.to_numpy(dtype=float)
    for i in np.flatnonzero(keep.to_numpy()).tolist():  # discovered topics: dozens, not rows
        row: dict[str, Any] = {
            "topic": str(names[i]),
            "share_recent": round(float(shares_recent[i]), 4),
            "share_before": round(float(shares_before[i]), 4),
            "lift": None if np.isinf(lift[i]) else round(float(lift[i]), 2),
        }
        if examples is not None:
            row["examples"] = examples[i]
        rows.append(row)
    return sorted(rows, key=lambda r: -float(r["share_recent"]))
