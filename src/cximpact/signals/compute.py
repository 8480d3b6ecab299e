"""Signals for every interaction: root cause, sentiment, detectors and repeat contacts."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cximpact.signals.keywords import KeywordSignals, load_taxonomy
from cximpact.signals.repeat import mark_repeat_contacts
from cximpact.signals.selftrain import SelfTrainedTopics, Threads

if TYPE_CHECKING:
    from cximpact.signals.topics import TopicClassifier

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
    self_train: bool | SelfTrainedTopics = True,
    topic_model: TopicClassifier | None = None,
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
        (:meth:`cximpact.signals.selftrain.SelfTrainedTopics.fit_resolve`: it also breaks keyword
        ties and drops second topics the classifier does not support). A fitted
        :class:`~cximpact.signals.selftrain.SelfTrainedTopics` is used as it is
        (:meth:`~cximpact.signals.selftrain.SelfTrainedTopics.resolve`), so batches of one data
        set can share a model fitted once (the Spark engine).
    topic_model
        A fitted root-cause classifier (:func:`cximpact.signals.topics.make_topic_classifier`,
        supervised or few-shot) that replaces the keyword rules and self-training for the root
        cause; its confidence becomes ``root_cause_confidence``. The secondary root cause, the
        detectors and sentiment still come from the taxonomy.
    """
    model = _keyword_model(taxonomy_file, _mtime(taxonomy_file))
    texts = interactions["text"].fillna("").astype(str)
    stamps = pd.to_datetime(interactions["timestamp"]).to_numpy()
    self_training = topic_model is None and self_train is not False
    detected = model.transform(texts.reset_index(drop=True), ties=True, topic_texts=self_training)
    if topic_model is not None:
        plain = texts.reset_index(drop=True)
        detected["root_cause"] = pd.array(topic_model.predict(plain), dtype="str")
        detected["root_cause_confidence"] = np.asarray(topic_model.confidence(plain), dtype=float)
        same = detected["secondary_root_cause"] == detected["root_cause"]
        detected.loc[same, "secondary_root_cause"] = ""
    elif self_training:
        rules = (
            detected["topic_text"],
            detected["root_cause"],
            detected["secondary_root_cause"],
            detected["root_cause_tied"],
        )
        if isinstance(self_train, SelfTrainedTopics):  # fitted elsewhere: the Spark engine
            topics, learned, secondary = self_train.resolve(*rules)
        else:
            threads = Threads(interactions["customer_id"].to_numpy(), stamps, repeat_contact_days)
            topics, learned, secondary = SelfTrainedTopics().fit_resolve(*rules, threads)
        detected["root_cause"] = topics
        detected["root_cause_confidence"] = learned.fillna(detected["root_cause_confidence"])
        detected["secondary_root_cause"] = pd.array(secondary.to_numpy(dtype=object), dtype="str")
    frame = pd.DataFrame(
        {
            "interaction_id": interactions["id"].to_numpy(),
            "customer_id": interactions["customer_id"].to_numpy(),
            "timestamp": stamps,
            "channel": interactions["channel"].to_numpy(),
            "handling_cost": interactions["handling_cost"]
            .astype(float)
            .fillna(default_handling_cost)
            .to_numpy(),
        }
    )
    helpers = ["root_cause_tied", *(["topic_text"] if self_training else [])]
    frame = frame.join(detected.drop(columns=helpers).reset_index(drop=True))
    frame["repeat_contact"] = mark_repeat_contacts(
        frame[["customer_id", "timestamp", "root_cause"]], repeat_contact_days
    ).to_numpy()
    return frame
