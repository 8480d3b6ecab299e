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
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

__all__ = ["self_train_topics"]

OTHER = "other"


def self_train_topics(
    texts: pd.Series,
    keyword_topics: pd.Series,
    secondary: pd.Series,
    *,
    threshold: float = 0.5,
    min_examples: int = 20,
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
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), min_df=3, sublinear_tf=True, max_features=200_000
    )
    features = vectorizer.fit_transform(texts.fillna("").astype(str))
    model = LogisticRegression(C=4.0, max_iter=300).fit(features[train], labels[train])
    proba = model.predict_proba(features[unknown])
    best = model.classes_[proba.argmax(axis=1)]
    sure = proba.max(axis=1) >= threshold
    filled = labels.copy()
    filled[np.flatnonzero(unknown)[sure]] = best[sure]
    confidence.iloc[np.flatnonzero(unknown)[sure]] = proba.max(axis=1)[sure]
    return pd.Series(filled, index=texts.index), confidence
