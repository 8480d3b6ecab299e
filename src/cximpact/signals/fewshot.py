"""Few-shot root-cause classifier: a taxonomy of descriptions and example phrases, no labels.

A taxonomy file names each topic with a one-line description and a handful (3–10) of example
phrases customers might write::

    version: 1
    topics:
      slow_refund:
        description: The customer is waiting for a refund that has not arrived.
        examples:
          - I returned the item three weeks ago and still have no money back
          - where is my refund
          - ...

:class:`FewShotTopicClassifier` scores a text against each topic twice and mixes the two
(0.4 semantic + 0.6 lexical, chosen on the simulator's texts and BANKING77 5-shot):

* semantic: the static embedding (:class:`~cximpact.signals.embeddings.StaticEmbedder`) of the
  text, of the description and of each example, with the embedding's common direction removed
  (the mean vector of the taxonomy and of any texts passed to :meth:`fit`: mean-pooled word
  vectors all share it, which hides the differences between topics; Mu & Viswanath,
  *All-but-the-Top*, 2018);
* lexical: TF-IDF of WordPiece unigrams and bigrams
  (:class:`~cximpact.signals.embeddings.StaticTextFeatures`), its IDF learned from the phrases
  and the texts passed to :meth:`fit`.

Each is the mean of the cosine similarity to the topic's centroid and to its nearest example
(prototype + nearest neighbour, Snell et al. 2017). The top score is the confidence; below
``threshold`` the answer is ``other_label``.

Threshold: given, or calibrated in :meth:`fit` -- from labelled texts when given (the threshold
that maximises accuracy on them, out-of-scope rows counting as correct when answered
``other_label``), else from the taxonomy alone (leave-one-out: the 10th percentile of each
example's score for its own topic with itself left out).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml
from sklearn.base import BaseEstimator, ClassifierMixin

from cximpact.errors import ConfigError, ContractError
from cximpact.signals._topic_common import (
    ThresholdClassifierMixin,
    as_texts,
    check_fitted,
    check_other_label,
    check_unit_interval,
    softmax,
    unit_rows,
)
from cximpact.signals.embeddings import StaticTextFeatures, default_embedder

__all__ = ["FewShotTopic", "FewShotTopicClassifier", "load_fewshot_taxonomy"]

_LOO_QUANTILE: Final = 0.10
_MIN_EXAMPLES: Final = 1
_TEMPERATURE: Final = 0.05
_EMBEDDING_SHARE: Final = 0.4


@dataclass(frozen=True)
class FewShotTopic:
    """One topic of a few-shot taxonomy.

    Attributes
    ----------
    name : str
        Topic id (the label predicted).
    description : str
        What the topic is about, in a sentence ("" when absent).
    examples : tuple of str
        Example phrases (3–10 recommended).
    """

    name: str
    description: str
    examples: tuple[str, ...]


def _parse_topics(raw: Any, source: str) -> dict[str, FewShotTopic]:
    """Validate the ``topics`` mapping of a taxonomy.

    Raises
    ------
    ConfigError
        Not a mapping of topic -> {description, examples}; the message lists every problem.
    """
    topics = raw.get("topics", raw) if isinstance(raw, Mapping) else raw
    if not isinstance(topics, Mapping) or not topics:
        raise ConfigError(
            f"{source}: expected a mapping 'topics: {{name: {{description, examples}}}}'. "
            "Fix: see docs/signals.md (few-shot taxonomy)"
        )
    problems: list[str] = []
    parsed: dict[str, FewShotTopic] = {}
    for name, spec in topics.items():
        if not isinstance(spec, Mapping):
            problems.append(f"{name}: expected description and examples, got {spec!r}")
            continue
        description = str(spec.get("description") or "").strip()
        examples = spec.get("examples") or []
        if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
            problems.append(f"{name}: examples must be a list of phrases")
            continue
        kept = tuple(e.strip() for e in examples if e.strip())
        if len(kept) < _MIN_EXAMPLES:
            problems.append(f"{name}: needs at least {_MIN_EXAMPLES} example phrase (3-10 best)")
            continue
        parsed[str(name)] = FewShotTopic(str(name), description, kept)
    if len(parsed) + len(problems) < 2:
        problems.append("needs at least two topics")
    if problems:
        raise ConfigError(f"{source}: invalid few-shot taxonomy: " + "; ".join(problems))
    return parsed


def load_fewshot_taxonomy(
    taxonomy: Path | str | Mapping[str, Any],
) -> dict[str, FewShotTopic]:
    """Read and validate a few-shot taxonomy (YAML file or an equivalent mapping).

    Parameters
    ----------
    taxonomy : pathlib.Path, str or mapping
        Path of a YAML file with ``topics: {name: {description, examples}}``, or that mapping.

    Returns
    -------
    dict
        Topic name -> :class:`FewShotTopic`, in file order.

    Raises
    ------
    ConfigError
        The file is missing or not YAML, or the layout is wrong (every problem listed).
    """
    if isinstance(taxonomy, Mapping):
        return _parse_topics(taxonomy, "taxonomy")
    path = Path(taxonomy)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read few-shot taxonomy {path}: {exc}. Fix: pass an existing YAML file"
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc}). Fix: correct the file") from exc
    return _parse_topics(raw, str(path))


class FewShotTopicClassifier(ThresholdClassifierMixin, ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Topic classifier from a taxonomy of descriptions and example phrases.

    :meth:`decision_function` gives the similarity of each text to each topic,
    :meth:`predict_proba` their softmax (temperature 0.05) and :meth:`confidence` the top
    similarity clipped to ``[0, 1]``, which the threshold is compared with.

    Parameters
    ----------
    taxonomy : pathlib.Path, str or mapping
        The few-shot taxonomy (see :func:`load_fewshot_taxonomy`).
    threshold : float or None, default None
        Smallest top score (cosine-based similarity, in ``[0, 1]`` after clipping) for which
        :meth:`predict` returns the topic; ``None`` calibrates it in :meth:`fit`.
    other_label : str, default "other"
        Label of texts no topic claims.

    Attributes
    ----------
    classes_ : numpy.ndarray
        Topic names (sorted).
    threshold_ : float
        Threshold in use (given or calibrated).
    topics_ : dict
        The parsed taxonomy.

    Examples
    --------
    >>> taxonomy = {"topics": {
    ...     "refund": {"description": "money back", "examples": ["where is my refund"]},
    ...     "card": {"description": "card delivery", "examples": ["my card never arrived"]}}}
    >>> model = FewShotTopicClassifier(taxonomy, threshold=0.0).fit()
    >>> list(model.predict(["I am still waiting for my money back"]))
    ['refund']
    """

    def __init__(
        self,
        taxonomy: Path | str | Mapping[str, Any] | None = None,
        threshold: float | None = None,
        other_label: str = "other",
    ) -> None:
        self.taxonomy = taxonomy
        self.threshold = threshold
        self.other_label = other_label

    def fit(self, texts: Iterable[Any] | None = None, labels: Iterable[Any] | None = None) -> Self:
        """Embed the taxonomy; calibrate the threshold when it is ``None``.

        Parameters
        ----------
        texts : iterable of str, optional
            Unlabelled texts of the domain: their mean embedding joins the common direction
            that is removed. With ``labels``, also used to calibrate the threshold.
        labels : iterable, optional
            Topic of each text; a label that is no taxonomy topic marks an out-of-scope text.

        Returns
        -------
        FewShotTopicClassifier
            ``self``, fitted.

        Raises
        ------
        ConfigError
            No taxonomy, an invalid one, or a threshold outside ``[0, 1]``.
        ContractError
            ``labels`` without ``texts`` or of another length.
        """
        if self.taxonomy is None:
            raise ConfigError("few-shot mode needs a taxonomy. Fix: pass taxonomy=FILE.yaml")
        check_unit_interval("threshold", self.threshold, optional=True)
        check_other_label(self.other_label)
        topics = load_fewshot_taxonomy(self.taxonomy)
        docs = as_texts(texts) if texts is not None else []
        embedder = default_embedder()
        phrases, owner = self._phrases(topics)
        phrase_vectors = embedder.encode(phrases)
        background = phrase_vectors.mean(axis=0)
        if docs:
            background = 0.5 * background + 0.5 * embedder.encode(docs).mean(axis=0)
        self.topics_ = topics
        self.classes_ = np.asarray(sorted(topics), dtype=object)
        self.owner_ = np.searchsorted(self.classes_, np.asarray(owner, dtype=object))
        self.background_ = background.astype(np.float32)
        self.examples_ = unit_rows(phrase_vectors - self.background_)
        self.centroids_ = self._centroids(self.examples_)
        # Lexical side: WordPiece TF-IDF, its IDF learned from the phrases and the given texts.
        self.lexical_ = StaticTextFeatures(embedding_weight=0.0).fit([*phrases, *docs])
        self.lexical_examples_ = np.asarray(
            self.lexical_.transform(phrases).toarray(), dtype=np.float32
        )
        self.lexical_centroids_ = self._centroids(self.lexical_examples_)
        self.threshold_ = self._calibrate(docs, labels)
        return self

    def _centroids(self, rows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Unit-length mean of each topic's phrase rows."""
        return unit_rows(
            np.stack([rows[self.owner_ == k].sum(axis=0) for k in range(self.classes_.size)])
        )

    @staticmethod
    def _phrases(topics: Mapping[str, FewShotTopic]) -> tuple[list[str], list[str]]:
        """Description and examples of every topic, with the topic each belongs to."""
        phrases: list[str] = []
        owner: list[str] = []
        for topic in topics.values():
            for phrase in ((topic.description,) if topic.description else ()) + topic.examples:
                phrases.append(phrase)
                owner.append(topic.name)
        return phrases, owner

    def _calibrate(self, docs: list[str], labels: Iterable[Any] | None) -> float:
        """Threshold: as given, best on labelled texts, or leave-one-out on the taxonomy."""
        if self.threshold is not None:
            return float(self.threshold)
        if labels is not None:
            truth = pd.Series(list(labels), dtype=object).astype(str).to_numpy(dtype=object)
            if len(truth) != len(docs) or not docs:
                raise ContractError(
                    f"labels ({len(truth)}) must come with as many texts ({len(docs)}). "
                    "Fix: pass texts and labels of the same length"
                )
            return self._best_threshold(self._scores_of(docs), truth)
        return self._leave_one_out()

    def _best_threshold(self, scores: npt.NDArray[np.float32], truth: npt.NDArray[Any]) -> float:
        """Threshold maximising accuracy on labelled texts (unknown labels = out of scope)."""
        best = self.classes_[scores.argmax(axis=1)]
        top = np.clip(scores.max(axis=1), 0.0, 1.0)
        in_scope = np.isin(truth, self.classes_)
        order = np.argsort(top)
        right = (best == truth)[order]
        out = (~in_scope)[order]
        # Threshold just above the i-th smallest score: rows 0..i answer "other".
        gain = np.concatenate(([0], np.cumsum(out.astype(int) - right.astype(int))))
        i = int(gain.argmax())
        if i == 0:
            return 0.0
        sorted_top = top[order]
        upper = sorted_top[i] if i < sorted_top.size else 1.0
        return float(min(1.0, (sorted_top[i - 1] + upper) / 2))

    def _leave_one_out(self) -> float:
        """10th percentile of each example's own-topic score with itself left out."""
        own: list[float] = []
        everything = np.arange(self.owner_.size)
        for row, topic in enumerate(self.owner_):
            mates = np.flatnonzero((self.owner_ == topic) & (everything != row))
            if mates.size == 0:
                continue
            parts = []
            for rows in (self.examples_, self.lexical_examples_):
                centroid = rows[mates].sum(axis=0)
                centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
                near = float((rows[mates] @ rows[row]).max())
                parts.append(0.5 * float(centroid @ rows[row]) + 0.5 * near)
            own.append(_EMBEDDING_SHARE * parts[0] + (1 - _EMBEDDING_SHARE) * parts[1])
        if not own:
            return 0.0
        return float(np.clip(np.quantile(own, _LOO_QUANTILE), 0.0, 1.0))

    def _scores_of(self, docs: list[str]) -> npt.NDArray[np.float32]:
        """Per text and topic: embedding and lexical similarity, mixed."""
        vectors = unit_rows(default_embedder().encode(docs) - self.background_)
        lexical = self.lexical_.transform(docs)
        semantic = self._similarity(vectors, self.examples_, self.centroids_)
        words = self._similarity(lexical, self.lexical_examples_, self.lexical_centroids_)
        scores: npt.NDArray[np.float32] = (
            _EMBEDDING_SHARE * semantic + (1 - _EMBEDDING_SHARE) * words
        ).astype(np.float32)
        return scores

    def _similarity(
        self, rows: Any, examples: npt.NDArray[np.float32], centroids: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """Mean of cosine to each topic's centroid and to its nearest example."""
        to_centroids = np.asarray(rows @ centroids.T, dtype=np.float32)
        to_examples = np.asarray(rows @ examples.T, dtype=np.float32)
        nearest = np.full_like(to_centroids, -1.0)
        for k in range(self.classes_.size):
            nearest[:, k] = to_examples[:, self.owner_ == k].max(axis=1)
        mixed: npt.NDArray[np.float32] = 0.5 * to_centroids + 0.5 * nearest
        return mixed

    def decision_function(self, texts: Iterable[Any]) -> npt.NDArray[np.float64]:
        """Similarity score of each text to each topic (higher is closer).

        Parameters
        ----------
        texts : iterable of str
            Texts to score.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_texts, n_topics)``, columns in :attr:`classes_` order, in ``[-1, 1]``.

        Raises
        ------
        NotFittedError
            :meth:`fit` was not called.
        """
        check_fitted(
            self, "centroids_", "FewShotTopicClassifier is not fitted; call fit() before predicting"
        )
        docs = as_texts(texts)
        if not docs:
            return np.zeros((0, self.classes_.size), dtype=np.float64)
        return self._scores_of(docs).astype(np.float64)

    def _scores(self, texts: Iterable[Any]) -> npt.NDArray[np.float64]:
        """The similarity scores (:meth:`decision_function`)."""
        return self.decision_function(texts)

    def _cutoff(self) -> float:
        """The threshold in use (given or calibrated)."""
        return float(self.threshold_)

    def _probabilities(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Softmax of the similarity scores, temperature 0.05."""
        return softmax(scores, _TEMPERATURE)
