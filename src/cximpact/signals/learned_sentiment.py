"""Learned sentiment: fit a classifier on the user's own labelled texts.

:class:`LearnedSentiment` is the learned counterpart of
:class:`~cximpact.signals.sentiment.LexiconSentiment`: TF-IDF of word 1-2-grams and of
character 2-5-grams inside words (sublinear term frequency, terms seen at least twice) and a
multinomial logistic regression (L2, ``C``, classes weighted inversely to their frequency, so
the rarer positive and neutral classes are not drowned by complaints). It is fitted on the
user's labels (``cximpact evaluate sentiment --train FILE``) and ships no weights.

Measured with 5-fold cross-validation on the airline tweets (``benchmarks/bench_sentiment.py``);
the benchmark is the only place that data is used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from cximpact.errors import ContractError, NotFittedError
from cximpact.signals.sentiment import SENTIMENT_LABELS

__all__ = ["LearnedSentiment"]

_MAX_ITER = 2000


def _texts(texts: Iterable[Any]) -> list[str]:
    """Texts as a list of strings, missing values becoming ``""``."""
    values = pd.Series(list(texts), dtype=object)
    return [str(v) for v in values.where(values.notna(), "")]


class LearnedSentiment:
    """TF-IDF + logistic regression sentiment fitted on labelled texts.

    Parameters
    ----------
    C : float, default 4.0
        Inverse L2 regularisation strength of the logistic regression.

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted features and classifier.
    classes_ : numpy.ndarray of str
        The labels seen in training (a subset of negative / neutral / positive).

    Examples
    --------
    >>> model = LearnedSentiment().fit(
    ...     ["love it", "great help", "awful wait", "terrible agent", "what time", "where is"],
    ...     ["positive", "positive", "negative", "negative", "neutral", "neutral"],
    ... )
    >>> model.predict(["love the help"])[0]
    'positive'
    """

    pipeline_: Pipeline
    classes_: npt.NDArray[np.object_]

    def __init__(self, C: float = 4.0) -> None:
        self.C = C

    def fit(self, texts: Iterable[Any], labels: Iterable[Any]) -> Self:
        """Fit on texts labelled negative / neutral / positive.

        Parameters
        ----------
        texts : iterable of str
            Training texts.
        labels : iterable of str
            One canonical label per text (see
            :func:`cximpact.signals.evaluate.normalise_sentiment`).

        Returns
        -------
        LearnedSentiment
            ``self``, fitted.

        Raises
        ------
        ContractError
            Lengths differ, a label is not canonical, or fewer than two labels occur.
        """
        x = _texts(texts)
        y = np.asarray([str(label) for label in labels], dtype=object)
        if len(x) != len(y):
            raise ContractError(
                f"LearnedSentiment.fit got {len(x)} texts but {len(y)} labels; pass one label "
                "per text"
            )
        unknown = sorted(set(y) - set(SENTIMENT_LABELS))
        if unknown:
            raise ContractError(
                f"sentiment labels must be {list(SENTIMENT_LABELS)}, found {unknown[:5]}; "
                "map them with cximpact.signals.evaluate.normalise_sentiment first"
            )
        if len(set(y)) < 2:
            raise ContractError(
                f"need at least two sentiment labels to learn from, found {sorted(set(y))}; "
                "label more texts"
            )
        pipeline = Pipeline(
            [
                (
                    "features",
                    FeatureUnion(
                        [
                            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                            (
                                "chars",
                                TfidfVectorizer(
                                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
                                ),
                            ),
                        ]
                    ),
                ),
                (
                    "model",
                    LogisticRegression(C=self.C, max_iter=_MAX_ITER, class_weight="balanced"),
                ),
            ]
        )
        min_df = 2 if len(x) >= 50 else 1  # tiny training sets keep every term
        pipeline.set_params(features__words__min_df=min_df, features__chars__min_df=min_df)
        pipeline.fit(x, y)
        self.pipeline_ = pipeline
        self.classes_ = np.asarray(pipeline.classes_, dtype=object)
        return self

    def _fitted(self) -> Pipeline:
        if not hasattr(self, "pipeline_"):
            raise NotFittedError("LearnedSentiment is not fitted; call fit(texts, labels) first")
        return self.pipeline_

    def predict(self, texts: Iterable[Any]) -> npt.NDArray[np.object_]:
        """The most probable label of each text.

        Parameters
        ----------
        texts : iterable of str
            Texts to label.

        Returns
        -------
        numpy.ndarray of str
            One label per text.
        """
        return np.asarray(self._fitted().predict(_texts(texts)), dtype=object)

    def transform(self, texts: pd.Series) -> pd.DataFrame:
        """Score, label and intensity, like :meth:`LexiconSentiment.transform`.

        Parameters
        ----------
        texts : pandas.Series
            Texts to score.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``texts``: ``sentiment`` = P(positive) - P(negative) in [-1, 1],
            ``sentiment_label`` (most probable label) and ``sentiment_intensity`` =
            max(P(positive), P(negative)) in [0, 1].
        """
        pipeline = self._fitted()
        if len(texts) == 0:
            return pd.DataFrame(
                {"sentiment": [], "sentiment_label": [], "sentiment_intensity": []},
                index=texts.index,
            ).astype({"sentiment": float, "sentiment_intensity": float})
        proba = pipeline.predict_proba(_texts(texts))
        columns = list(self.classes_)

        def column(label: str) -> npt.NDArray[np.float64]:
            if label in columns:
                return np.asarray(proba[:, columns.index(label)], dtype=np.float64)
            return np.zeros(len(proba))

        positive, negative = column("positive"), column("negative")
        return pd.DataFrame(
            {
                "sentiment": positive - negative,
                "sentiment_label": self.classes_[proba.argmax(axis=1)],
                "sentiment_intensity": np.maximum(positive, negative),
            },
            index=texts.index,
        )
