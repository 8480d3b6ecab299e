"""One interface for the three root-cause modes: supervised, few-shot and discovery.

Every mode gives a :class:`TopicClassifier`: ``fit`` then ``predict`` (a topic per text, or
``other`` below the threshold), ``predict_proba`` (a distribution over :attr:`classes_`) and
``confidence`` (the number compared with the threshold, in ``[0, 1]``).

* ``supervised`` -- :class:`~cximpact.signals.supervised.SupervisedTopicClassifier`, fitted on
  labelled texts; confidence = top probability.
* ``few-shot`` -- :class:`~cximpact.signals.fewshot.FewShotTopicClassifier`, built from a
  taxonomy file (descriptions + example phrases); labelled texts, when passed to ``fit``, only
  calibrate the threshold; confidence = top similarity.
* ``discovery`` -- :class:`DiscoveryTopicClassifier` over
  :class:`~cximpact.signals.discovery.TopicDiscovery`: no labels, topics found in the texts
  passed to ``fit`` (named ``topic_<id>``); confidence = similarity to the nearest centre.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Literal, Protocol, Self, runtime_checkable

import numpy as np
import numpy.typing as npt

from cximpact.errors import ConfigError
from cximpact.signals._topic_common import softmax
from cximpact.signals.discovery import TopicDiscovery
from cximpact.signals.fewshot import FewShotTopicClassifier
from cximpact.signals.supervised import SupervisedTopicClassifier

__all__ = ["MODES", "DiscoveryTopicClassifier", "TopicClassifier", "make_topic_classifier"]

Mode = Literal["supervised", "few-shot", "discovery"]
MODES: Final[tuple[str, ...]] = ("supervised", "few-shot", "discovery")
_TEMPERATURE: Final = 0.05


@runtime_checkable
class TopicClassifier(Protocol):
    """What every root-cause mode offers."""

    classes_: npt.NDArray[np.object_]
    other_label: str

    def fit(self, texts: Iterable[Any], labels: Iterable[Any] | None = None) -> Self:
        """Learn (supervised), calibrate (few-shot) or discover (discovery) the topics."""
        ...

    def predict(self, texts: Iterable[Any]) -> npt.NDArray[np.object_]:
        """Topic per text, ``other_label`` below the threshold."""
        ...

    def predict_proba(self, texts: Iterable[Any]) -> npt.NDArray[np.float64]:
        """Distribution over :attr:`classes_` per text."""
        ...

    def confidence(self, texts: Iterable[Any]) -> npt.NDArray[np.float64]:
        """Number in ``[0, 1]`` per text that the threshold is compared with."""
        ...


class DiscoveryTopicClassifier(TopicDiscovery):
    """:class:`~cximpact.signals.discovery.TopicDiscovery` behind the classifier interface.

    ``fit(texts)`` discovers the topics (labels are ignored); ``predict`` gives ``topic_<id>``
    or ``other_label``; ``predict_proba`` is a softmax of the similarities (temperature 0.05).
    """

    def fit(self, texts: Iterable[Any], labels: Any = None) -> Self:
        """Discover topics in ``texts`` (``labels`` ignored)."""
        super().fit(texts)
        return self

    def predict(self, texts: Iterable[Any]) -> npt.NDArray[np.object_]:  # type: ignore[override]
        """Topic name per text, ``other_label`` when unassigned."""
        return self.predict_labels(texts)

    def predict_proba(self, texts: Iterable[Any]) -> npt.NDArray[np.float64]:
        """Softmax of the similarities to the topic centres."""
        return softmax(self.transform(texts), _TEMPERATURE)


def make_topic_classifier(
    mode: str,
    *,
    taxonomy: Path | None = None,
    threshold: float | None = None,
    other_label: str = "other",
    n_topics: int | None = None,
    seed: int = 0,
) -> TopicClassifier:
    """An unfitted root-cause classifier of the given mode.

    Parameters
    ----------
    mode : {"supervised", "few-shot", "discovery"}
        Which classifier.
    taxonomy : pathlib.Path, optional
        Few-shot taxonomy file (required for ``few-shot``, ignored otherwise).
    threshold : float, optional
        Confidence below which the answer is ``other_label``; default per mode (0.5 for
        supervised, calibrated for few-shot, 0.15 similarity for discovery).
    other_label : str, default "other"
        Answer for texts no topic claims.
    n_topics : int, optional
        Number of topics for ``discovery`` (default: chosen by silhouette).
    seed : int, default 0
        Random seed for ``discovery``.

    Returns
    -------
    TopicClassifier
        Call ``fit`` next.

    Raises
    ------
    ConfigError
        Unknown mode, or ``few-shot`` without a taxonomy.
    """
    if mode == "supervised":
        return SupervisedTopicClassifier(
            threshold=0.5 if threshold is None else threshold, other_label=other_label
        )
    if mode == "few-shot":
        if taxonomy is None:
            raise ConfigError("few-shot mode needs a taxonomy file. Fix: pass --taxonomy FILE.yaml")
        return FewShotTopicClassifier(taxonomy, threshold=threshold, other_label=other_label)
    if mode == "discovery":
        return DiscoveryTopicClassifier(
            n_topics=n_topics,
            min_similarity=0.15 if threshold is None else threshold,
            seed=seed,
            other_label=other_label,
        )
    raise ConfigError(f"unknown topic mode {mode!r}. Fix: use one of {', '.join(MODES)}")
