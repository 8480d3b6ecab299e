"""Self-training: keyword labels teach a TF-IDF classifier to read what the keywords miss.

Keyword rules are precise but miss paraphrases ("the finish is peeling off" never says
*defective*). Texts the rules label confidently, with a single topic, train a linear model on
word and bigram TF-IDF features; texts the rules leave as ``other`` take the model's topic when it
is confident. A standard weak-supervision step (Yarowsky 1995; Meng et al., *LOTClass*, 2020),
fitted per batch, with no labels from the user.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from cximpact.errors import ConfigError

__all__ = ["self_train_topics"]

OTHER = "other"


def self_train_topics(
    texts: pd.Series,
    keyword_topics: pd.Series,
    secondary: pd.Series,
    *,
    threshold: float = 0.5,
    min_examples: int = 20,
    representation: str = "tfidf",
) -> tuple[pd.Series, pd.Series]:
    """Fill ``other`` answers of the keyword rules with a self-trained classifier.

    Parameters
    ----------
    texts
        Interaction texts.
    keyword_topics
        Root cause from the keyword rules (``other`` when none matched).
    secondary
        Secondary root cause from the rules (``""`` when the text has one topic).
    threshold
        Smallest class probability for the model's answer to replace ``other``.
    min_examples
        Topics with fewer confident keyword examples are not learned.
    representation
        ``"tfidf"`` (default): word 1-2-gram TF-IDF. ``"static"``: WordPiece TF-IDF + static
        embedding (:class:`~cximpact.signals.embeddings.StaticTextFeatures`); on the simulator
        it lowered root-cause accuracy (0.788 vs 0.828, five seeds, see
        docs/signals.md) and is slower, so it is not the default.

    Returns
    -------
    (topics, confidence)
        The completed root causes, and the model's probability where it answered (NaN where
        the keyword rules answered).
    """
    labels = keyword_topics.to_numpy(dtype=object)
    counts = pd.Series(labels).value_counts()
    learnable = set(counts[counts >= min_examples].index) - {OTHER}
    train = np.isin(labels, list(learnable)) & (secondary.to_numpy(dtype=object) == "")
    unknown = labels == OTHER
    confidence = pd.Series(np.nan, index=texts.index)
    if len(learnable) < 2 or not unknown.any():
        return keyword_topics.copy(), confidence
    features = _features(texts.fillna("").astype(str), representation)
    model = LogisticRegression(C=4.0, max_iter=300).fit(features[train], labels[train])
    proba = model.predict_proba(features[unknown])
    best = model.classes_[proba.argmax(axis=1)]
    sure = proba.max(axis=1) >= threshold
    filled = labels.copy()
    filled[np.flatnonzero(unknown)[sure]] = best[sure]
    confidence.iloc[np.flatnonzero(unknown)[sure]] = proba.max(axis=1)[sure]
    return pd.Series(filled, index=texts.index), confidence


def _features(texts: pd.Series, representation: str) -> sparse.csr_matrix:
    """Features of every text for the self-trained classifier.

    Raises
    ------
    ConfigError
        Unknown ``representation``.
    """
    if representation == "static":
        from cximpact.signals.embeddings import StaticTextFeatures

        return StaticTextFeatures(min_df=3).fit_transform(texts)
    if representation == "tfidf":
        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), min_df=3, sublinear_tf=True, max_features=200_000
        )
        return vectorizer.fit_transform(texts)
    raise ConfigError(f"unknown representation {representation!r}. Fix: use static or tfidf")
