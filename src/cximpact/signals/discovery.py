"""Topic discovery without labels: cluster, name, assign, and find new and growing topics.

:class:`TopicDiscovery` groups texts by meaning with no taxonomy and no labels:

1. embed every text with the static embedding
   (:class:`~cximpact.signals.embeddings.StaticEmbedder`), remove the common direction (the
   mean vector) and rescale to unit length, so cosine similarity reads topic differences;
2. cluster with mini-batch k-means (Sculley, 2010) on those vectors; ``n_topics`` is given or
   chosen from a grid by the silhouette score (Rousseeuw, 1987) on a sample;
3. name each topic by its most distinctive terms, class-based TF-IDF over word 1-2-grams
   (c-TF-IDF, Grootendorst, *BERTopic*, 2022: term frequency in the topic times
   ``log(1 + mean words per topic / frequency of the term over all topics)``), and show the
   three texts nearest its centre;
4. assign every text to its nearest centre with a confidence, the cosine similarity to that
   centre; a text below ``min_similarity`` is *unassigned* (``other``). Unlike density
   clustering (HDBSCAN in BERTopic, which leaves 30–50% of texts as outliers), every text has
   a nearest centre, so the unassigned share stays small and is set by one explicit knob;
5. with timestamps, compare each topic's share of the texts in the recent window with its
   share in the earlier one: *growing* when the share rose by ``growth_factor`` or more, *new*
   when the topic was (almost) absent before.

Deterministic for a given ``seed``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import MiniBatchKMeans
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import silhouette_score

from cximpact.errors import ConfigError, ContractError
from cximpact.signals import _topic_common as common
from cximpact.signals.embeddings import default_embedder

__all__ = ["DiscoveredTopic", "DiscoveryReport", "TopicDiscovery"]

_MIN_TEXTS: Final = 10
_SILHOUETTE_SAMPLE: Final = 3000
_TOP_TERMS: Final = 8
_EXAMPLES: Final = 3
_NEW_EARLIER_SHARE: Final = 0.002


@dataclass(frozen=True)
class DiscoveredTopic:
    """One discovered topic.

    Attributes
    ----------
    id : int
        Topic number (``0..n_topics-1``, largest topic first).
    name : str
        Its three most distinctive terms joined by ``" / "``.
    top_terms : list of str
        Most distinctive terms (c-TF-IDF), best first.
    examples : list of str
        The texts nearest its centre.
    size : int
        Texts assigned to it.
    share : float
        ``size`` over all texts.
    earlier_share, recent_share : float or None
        Share among the texts of the earlier / recent window (``None`` without timestamps).
    growth : float or None
        ``recent_share / earlier_share`` (``None`` without timestamps or when earlier is 0).
    new, growing : bool
        Topic (almost) absent from the earlier window; share grew by ``growth_factor`` or more.
    """

    id: int
    name: str
    top_terms: list[str]
    examples: list[str]
    size: int
    share: float
    earlier_share: float | None = None
    recent_share: float | None = None
    growth: float | None = None
    new: bool = False
    growing: bool = False


@dataclass(frozen=True)
class DiscoveryReport:
    """What :meth:`TopicDiscovery.report` returns.

    Attributes
    ----------
    topics : list of DiscoveredTopic
        Largest first.
    n_texts : int
        Texts clustered.
    unassigned_share : float
        Share of texts whose similarity to their nearest centre is below ``min_similarity``.
    split_time : str or None
        Start of the recent window (ISO timestamp), ``None`` without timestamps.
    silhouette : float or None
        Silhouette score of the chosen ``n_topics`` when it was chosen automatically.
    """

    topics: list[DiscoveredTopic]
    n_texts: int
    unassigned_share: float
    split_time: str | None = None
    silhouette: float | None = None
    labels: list[int] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (without the per-text labels)."""
        out = asdict(self)
        out.pop("labels")
        return out


class TopicDiscovery(ClusterMixin, BaseEstimator):  # type: ignore[misc]
    """Unsupervised topics: static embeddings, k-means, c-TF-IDF names, growth over time.

    Parameters
    ----------
    n_topics : int or None, default None
        Number of topics; ``None`` picks it by silhouette from a grid between 5 and
        ``max_topics`` (capped at one topic per 20 texts).
    max_topics : int, default 60
        Largest ``n_topics`` tried when choosing.
    min_similarity : float, default 0.15
        Texts whose cosine similarity to their nearest centre is below this are unassigned.
    growth_factor : float, default 1.5
        A topic whose recent share is at least this times its earlier share is growing.
    seed : int, default 0
        Random seed of k-means and of the silhouette sample.
    other_label : str, default "other"
        Label :meth:`predict_labels` gives to unassigned texts.

    Attributes
    ----------
    classes_ : numpy.ndarray
        Topic names (``"topic_<id>"`` strings).
    centres_ : numpy.ndarray
        Unit-length topic centres, ``(n_topics, dim)``.
    labels_ : numpy.ndarray
        Topic id of each fitted text, ``-1`` when unassigned.
    confidence_ : numpy.ndarray
        Cosine similarity of each fitted text to its nearest centre.
    """

    def __init__(
        self,
        n_topics: int | None = None,
        max_topics: int = 60,
        min_similarity: float = 0.15,
        growth_factor: float = 1.5,
        seed: int = 0,
        other_label: str = "other",
    ) -> None:
        self.n_topics = n_topics
        self.max_topics = max_topics
        self.min_similarity = min_similarity
        self.growth_factor = growth_factor
        self.seed = seed
        self.other_label = other_label

    def _check_params(self, n: int) -> None:
        """Validate the parameters against ``n`` texts."""
        if n < _MIN_TEXTS:
            raise ContractError(
                f"need at least {_MIN_TEXTS} texts to discover topics, got {n}. "
                "Fix: pass more texts"
            )
        if self.n_topics is not None and not 2 <= int(self.n_topics) <= n:
            raise ConfigError(f"n_topics must be between 2 and {n} texts, got {self.n_topics!r}")
        if int(self.max_topics) < 2:
            raise ConfigError(f"max_topics must be at least 2, got {self.max_topics!r}")
        if not -1.0 <= float(self.min_similarity) <= 1.0:
            raise ConfigError(f"min_similarity must be in [-1, 1], got {self.min_similarity!r}")
        if not float(self.growth_factor) > 1.0:
            raise ConfigError(f"growth_factor must be above 1, got {self.growth_factor!r}")

    def fit(self, texts: Iterable[Any], y: Any = None) -> Self:
        """Cluster texts into topics and name them.

        Parameters
        ----------
        texts : iterable of str
            Texts to discover topics in (missing values count as empty).
        y : ignored
            Present for the scikit-learn API.

        Returns
        -------
        TopicDiscovery
            ``self``, fitted.

        Raises
        ------
        ContractError
            Fewer than 10 texts.
        ConfigError
            A parameter is out of range.
        """
        docs = common.as_texts(texts)
        self._check_params(len(docs))
        raw = default_embedder().encode(docs)
        self.mean_ = raw.mean(axis=0).astype(np.float32)
        vectors = common.unit_rows(raw - self.mean_)
        k, self.silhouette_ = self._choose_k(vectors)
        model = MiniBatchKMeans(
            n_clusters=k, random_state=int(self.seed), n_init=3, batch_size=2048
        ).fit(vectors)
        centres = common.unit_rows(np.asarray(model.cluster_centers_, dtype=np.float32))
        nearest = (vectors @ centres.T).argmax(axis=1)
        # Number topics by size, largest first.
        order = np.argsort(-np.bincount(nearest, minlength=k), kind="stable")
        self.centres_ = centres[order]
        self.classes_ = np.asarray([f"topic_{i}" for i in range(k)], dtype=object)
        self.labels_, self.confidence_ = self._assign(vectors)
        self._describe(docs, vectors)
        return self

    def _choose_k(self, vectors: npt.NDArray[np.float32]) -> tuple[int, float | None]:
        """``n_topics`` as given, or the best silhouette over a grid of candidates."""
        if self.n_topics is not None:
            return int(self.n_topics), None
        n = vectors.shape[0]
        top = max(2, min(int(self.max_topics), n // 20))
        grid = sorted({round(float(k)) for k in np.geomspace(min(5, top), top, num=6)})
        rng = np.random.default_rng(int(self.seed))
        sample = rng.choice(n, size=min(n, _SILHOUETTE_SAMPLE), replace=False)
        best_k, best_score = grid[0], -np.inf
        for k in grid:
            model = MiniBatchKMeans(
                n_clusters=k, random_state=int(self.seed), n_init=1, batch_size=2048
            ).fit(vectors[sample])
            labels = model.labels_
            if np.unique(labels).size < 2:
                continue
            score = float(silhouette_score(vectors[sample], labels, metric="cosine"))
            if score > best_score:
                best_k, best_score = k, score
        return best_k, (round(best_score, 4) if np.isfinite(best_score) else None)

    def _assign(
        self, vectors: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Nearest topic and its cosine similarity; -1 below ``min_similarity``."""
        similarity = vectors @ self.centres_.T
        confidence = similarity.max(axis=1).astype(np.float64)
        return common.label_ids(similarity, self.min_similarity, clip=False), confidence

    def _describe(self, docs: list[str], vectors: npt.NDArray[np.float32]) -> None:
        """Top c-TF-IDF terms and nearest examples of each topic."""
        k = self.centres_.shape[0]
        counter = CountVectorizer(ngram_range=(1, 2), stop_words="english", min_df=2)
        try:
            counts = counter.fit_transform(docs)
            terms = np.asarray(counter.get_feature_names_out(), dtype=object)
        except ValueError:  # no term occurs twice (tiny or empty input)
            counts, terms = None, np.empty(0, dtype=object)
        top_terms: list[list[str]] = [[] for _ in range(k)]
        if counts is not None and terms.size:
            nearest = (vectors @ self.centres_.T).argmax(axis=1)
            onehot = np.zeros((k, len(docs)), dtype=np.float64)
            onehot[nearest, np.arange(len(docs))] = 1.0
            per_topic = np.asarray((counts.T @ onehot.T).T)  # (k, terms)
            tf = per_topic / np.maximum(per_topic.sum(axis=1, keepdims=True), 1.0)
            frequency = per_topic.sum(axis=0)
            idf = np.log(1.0 + per_topic.sum(axis=1).mean() / np.maximum(frequency, 1.0))
            ctfidf = tf * idf
            for topic in range(k):
                best = np.argsort(-ctfidf[topic], kind="stable")[:_TOP_TERMS]
                top_terms[topic] = [str(terms[i]) for i in best if ctfidf[topic, i] > 0]
        similarity = vectors @ self.centres_.T
        self.top_terms_ = top_terms
        self.examples_ = [
            [docs[i] for i in np.argsort(-similarity[:, t], kind="stable")[:_EXAMPLES]]
            for t in range(k)
        ]

    def _fitted(self) -> None:
        """Raise unless fitted."""
        common.check_fitted(self, "centres_", "TopicDiscovery is not fitted; call fit(texts) first")

    def transform(self, texts: Iterable[Any]) -> npt.NDArray[np.float64]:
        """Cosine similarity of each text to each topic centre.

        Parameters
        ----------
        texts : iterable of str
            Texts.

        Returns
        -------
        numpy.ndarray
            ``(n_texts, n_topics)`` similarities in ``[-1, 1]``.
        """
        self._fitted()
        vectors = common.unit_rows(default_embedder().encode(common.as_texts(texts)) - self.mean_)
        return np.asarray(vectors @ self.centres_.T, dtype=np.float64)

    def predict(self, texts: Iterable[Any]) -> npt.NDArray[np.int64]:
        """Topic id of each text (``-1`` when unassigned).

        Parameters
        ----------
        texts : iterable of str
            Texts.

        Returns
        -------
        numpy.ndarray
            Integer topic ids.
        """
        return self._topic_ids(texts)

    def _topic_ids(self, texts: Iterable[Any]) -> npt.NDArray[np.int64]:
        """Nearest topic id per text, -1 below ``min_similarity``."""
        return common.label_ids(self.transform(texts), self.min_similarity, clip=False)

    def predict_labels(self, texts: Iterable[Any]) -> npt.NDArray[np.object_]:
        """Topic name of each text (``topic_<id>``, or ``other_label`` when unassigned).

        Parameters
        ----------
        texts : iterable of str
            Texts.

        Returns
        -------
        numpy.ndarray
            Object array of labels.
        """
        return common.label_names(self._topic_ids(texts), self.classes_, self.other_label)

    def confidence(self, texts: Iterable[Any]) -> npt.NDArray[np.float64]:
        """Cosine similarity of each text to its nearest topic centre, clipped to ``[0, 1]``.

        Parameters
        ----------
        texts : iterable of str
            Texts.

        Returns
        -------
        numpy.ndarray
            One confidence per text.
        """
        return common.top_confidence(self.transform(texts))

    def report(
        self, timestamps: Iterable[Any] | None = None, *, split: Any = None
    ) -> DiscoveryReport:
        """Topics of the fitted texts: names, examples, shares, and growth over time.

        Parameters
        ----------
        timestamps : iterable, optional
            Time of each fitted text (anything :func:`pandas.to_datetime` reads), for growth.
        split : datetime-like, optional
            Start of the recent window; default the midpoint of the time span.

        Returns
        -------
        DiscoveryReport
            Topics largest first, with the unassigned share.

        Raises
        ------
        ContractError
            ``timestamps`` not one per fitted text, or unreadable.
        """
        self._fitted()
        labels = self.labels_
        n, k = labels.size, self.centres_.shape[0]
        sizes = np.bincount(labels[labels >= 0], minlength=k)
        growth = self._growth(labels, timestamps, split) if timestamps is not None else None
        topics = []
        for t in range(k):
            earlier, recent, ratio, new, growing = (
                growth[t] if growth is not None else (None, None, None, False, False)
            )
            topics.append(
                DiscoveredTopic(
                    id=t,
                    name=" / ".join(self.top_terms_[t][:3]) or f"topic {t}",
                    top_terms=list(self.top_terms_[t]),
                    examples=list(self.examples_[t]),
                    size=int(sizes[t]),
                    share=round(float(sizes[t]) / n, 4),
                    earlier_share=earlier,
                    recent_share=recent,
                    growth=ratio,
                    new=new,
                    growing=growing,
                )
            )
        return DiscoveryReport(
            topics=topics,
            n_texts=n,
            unassigned_share=round(float(np.mean(labels < 0)), 4),
            split_time=None if growth is None else str(self.split_time_),
            silhouette=self.silhouette_,
            labels=[int(v) for v in labels],
        )

    def _growth(
        self, labels: npt.NDArray[np.int64], timestamps: Iterable[Any], split: Any
    ) -> list[tuple[float, float, float | None, bool, bool]]:
        """Per topic: earlier share, recent share, ratio, new, growing."""
        try:
            times = pd.to_datetime(pd.Series(list(timestamps)), utc=True)
        except (ValueError, TypeError) as exc:
            raise ContractError(
                f"timestamps are not dates/times ({exc}). Fix: pass an ISO 8601 time column"
            ) from exc
        if len(times) != labels.size:
            raise ContractError(
                f"got {len(times)} timestamps for {labels.size} texts. Fix: one per text"
            )
        if split is None:
            cut = times.min() + (times.max() - times.min()) / 2
        else:
            cut = pd.Timestamp(split)
            cut = cut.tz_localize("UTC") if cut.tzinfo is None else cut.tz_convert("UTC")
        self.split_time_ = cut.isoformat()
        recent = (times >= cut).to_numpy(dtype=bool)
        k = self.centres_.shape[0]
        out = []
        for window in (~recent, recent):
            counts = np.bincount(labels[window & (labels >= 0)], minlength=k)
            out.append(counts / max(int(window.sum()), 1))
        before, after = out
        result = []
        for t in range(k):
            ratio = float(after[t] / before[t]) if before[t] > 0 else None
            new = bool(before[t] < _NEW_EARLIER_SHARE and after[t] >= 5 * _NEW_EARLIER_SHARE)
            growing = bool(new or (ratio is not None and ratio >= float(self.growth_factor)))
            result.append(
                (
                    round(float(before[t]), 4),
                    round(float(after[t]), 4),
                    None if ratio is None else round(ratio, 3),
                    new,
                    growing,
                )
            )
        return result
