"""Signals for every interaction: root cause, sentiment, detectors and repeat contacts."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from cximpact.signals.keywords import KeywordSignals, load_taxonomy
from cximpact.signals.repeat import mark_repeat_contacts
from cximpact.signals.selftrain import self_train_topics

__all__ = ["compute_signals"]


def _mtime(path: Path | None) -> float | None:
    return path.stat().st_mtime if path is not None and path.exists() else None


@lru_cache(maxsize=8)
def _keyword_model(taxonomy_file: Path | None, mtime: float | None) -> KeywordSignals:
    """The fitted rules of one taxonomy file, compiled once (refitted when the file changes)."""
    del mtime  # part of the cache key only
    return KeywordSignals(load_taxonomy(taxonomy_file)).fit()


def compute_signals(
    interactions: pd.DataFrame,
    *,
    taxonomy_file: Path | None = None,
    repeat_contact_days: int = 14,
    default_handling_cost: float = 6.0,
    self_train: bool = True,
) -> pd.DataFrame:
    """One row of signals per interaction.

    Parameters
    ----------
    interactions
        Interactions contract frame (text already redacted).
    taxonomy_file
        Path of a taxonomy YAML, or None for the built-in taxonomy.
    repeat_contact_days
        Window (days) within which a contact on the same root cause counts as a repeat.
    default_handling_cost
        Cost (currency) of a contact whose export has no handling cost.
    self_train
        Let texts the keyword rules label teach a classifier for the texts they miss
        (:func:`cximpact.signals.selftrain.self_train_topics`).
    """
    model = _keyword_model(taxonomy_file, _mtime(taxonomy_file))
    texts = interactions["text"].fillna("").astype(str)
    detected = model.transform(texts.reset_index(drop=True))
    if self_train:
        topics, learned = self_train_topics(
            texts.reset_index(drop=True), detected["root_cause"], detected["secondary_root_cause"]
        )
        detected["root_cause"] = topics
        detected["root_cause_confidence"] = learned.fillna(detected["root_cause_confidence"])
    frame = pd.DataFrame(
        {
            "interaction_id": interactions["id"].to_numpy(),
            "customer_id": interactions["customer_id"].to_numpy(),
            "timestamp": pd.to_datetime(interactions["timestamp"]).to_numpy(),
            "channel": interactions["channel"].to_numpy(),
            "handling_cost": interactions["handling_cost"]
            .astype(float)
            .fillna(default_handling_cost)
            .to_numpy(),
        }
    )
    frame = frame.join(detected.reset_index(drop=True))
    frame["repeat_contact"] = mark_repeat_contacts(
        frame[["customer_id", "timestamp", "root_cause"]], repeat_contact_days
    ).to_numpy()
    return frame
