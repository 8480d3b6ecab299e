"""Shared pieces of the topic classifiers (supervised, few-shot, discovery) and embeddings.

Private: input checks, row normalisation, the ``other``-threshold rule, a softmax, and two
mixins, :class:`TextInputMixin` (scikit-learn tags for text input) and
:class:`ThresholdClassifierMixin` (``predict`` / ``predict_proba`` / ``confidence`` from one
score matrix and a threshold).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cximpact.errors import ConfigError, ContractError, NotFittedError

__all__ = [
    "TextInputMixin",
    "ThresholdClassifierMixin",
    "as_texts",
    "check_fitted",
    "check_other_label",
    "check_unit_interval",
    "label_ids",
    "label_names",
    "softmax",
    "top_confidence",
    "unit_rows",
]


def as_texts(texts: Iterable[Any], what: str = "texts") -> list[str]:
    """Turn texts into a list of strings, missing values becoming ``""``.

    Parameters
    ----------
    texts : iterable
        Texts (list, tuple, :class:`pandas.Series`, 1-D array).
    what : str, default "texts"
        Name of the argument, for messages.

    Returns
    -------
    list of str
        The texts as strings.

    Raises
    ------
    ContractError
        ``texts`` is a plain string (not a collection of texts).
    """
    if isinstance(texts, str | bytes):
        raise ContractError(
            f"{what} must be a collection of texts, got a single string. Fix: pass [text]"
        )
    values = list(texts)
    missing = pd.isna(pd.Series(values, dtype=object)).to_numpy(dtype=bool)
    return ["" if gone else str(value) for value, gone in zip(values, missing, strict=True)]


def unit_rows(matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Rows scaled to unit length (zero rows stay zero).

    Parameters
    ----------
    matrix : numpy.ndarray
        2-D array.

    Returns
    -------
    numpy.ndarray
        A new array of the same shape and type.
    """
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    out: npt.NDArray[np.float32] = np.zeros_like(matrix)
    np.divide(matrix, norms, out=out, where=norms > 0)
    return out


def check_fitted(estimator: object, attribute: str, message: str) -> None:
    """Refuse to use an estimator before ``fit``.

    Parameters
    ----------
    estimator : object
        The estimator.
    attribute : str
        A fitted attribute, set by ``fit``.
    message : str
        Error message (names the class and the call to make).

    Raises
    ------
    NotFittedError
        ``estimator`` has no ``attribute``.
    """
    if not hasattr(estimator, attribute):
        raise NotFittedError(message)


def check_unit_interval(name: str, value: Any, *, optional: bool = False) -> None:
    """Refuse a parameter outside ``[0, 1]`` (or not ``None`` when ``optional``).

    Parameters
    ----------
    name : str
        Parameter name, for the message.
    value : float or None
        The value.
    optional : bool, default False
        ``None`` is allowed.

    Raises
    ------
    ConfigError
        ``value`` is outside ``[0, 1]``.
    """
    if optional and value is None:
        return
    if not 0.0 <= float(value) <= 1.0:
        suffix = " or None" if optional else ""
        raise ConfigError(f"{name} must be in [0, 1]{suffix}, got {value!r}")


def check_other_label(value: Any) -> None:
    """Refuse an ``other_label`` that is not a non-blank string.

    Parameters
    ----------
    value : object
        The label.

    Raises
    ------
    ConfigError
        ``value`` is not a string or is blank.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"other_label must be a non-blank string, got {value!r}")


def top_confidence(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Top score per row, clipped to ``[0, 1]``.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(n_texts, n_topics)`` scores.

    Returns
    -------
    numpy.ndarray
        One value per row (empty for no rows).
    """
    if scores.shape[0] == 0:
        return np.zeros(0, dtype=np.float64)
    return np.asarray(np.clip(scores.max(axis=1), 0.0, 1.0), dtype=np.float64)


def label_ids(
    scores: npt.NDArray[Any], cutoff: float, *, clip: bool = True
) -> npt.NDArray[np.int64]:
    """Column of the top score per row, ``-1`` where that score is below ``cutoff``.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(n_texts, n_topics)`` scores.
    cutoff : float
        Smallest top score that keeps the top column.
    clip : bool, default True
        Compare the top score clipped to ``[0, 1]`` (as :func:`top_confidence` gives it).

    Returns
    -------
    numpy.ndarray
        Integer column per row, ``-1`` when below ``cutoff``.
    """
    best = scores.argmax(axis=1).astype(np.int64)
    if scores.shape[0]:
        top = scores.max(axis=1).astype(np.float64)
        if clip:
            top = np.clip(top, 0.0, 1.0)
        best[top < float(cutoff)] = -1
    ids: npt.NDArray[np.int64] = best
    return ids


def label_names(
    ids: npt.NDArray[np.int64], classes: npt.NDArray[Any], other_label: str
) -> npt.NDArray[np.object_]:
    """Class of each id, ``other_label`` for ``-1``.

    Parameters
    ----------
    ids : numpy.ndarray
        Column per text, as :func:`label_ids` gives.
    classes : numpy.ndarray
        Class per column.
    other_label : str
        Label of ``-1``.

    Returns
    -------
    numpy.ndarray
        Object array of labels.
    """
    labels: npt.NDArray[np.object_] = np.asarray(classes, dtype=object)[np.maximum(ids, 0)]
    labels[ids < 0] = other_label
    return labels


def softmax(scores: npt.NDArray[np.float64], temperature: float) -> npt.NDArray[np.float64]:
    """Row-wise softmax of ``scores / temperature``.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(n_texts, n_topics)`` scores.
    temperature : float
        Divides the scores before the softmax (smaller is sharper).

    Returns
    -------
    numpy.ndarray
        Same shape, rows summing to 1.
    """
    scaled = scores / temperature
    if scaled.shape[0] == 0:
        return np.asarray(scaled, dtype=np.float64)
    weights = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    return np.asarray(weights / weights.sum(axis=1, keepdims=True), dtype=np.float64)


class TextInputMixin:
    """Scikit-learn tags for estimators whose input is a collection of strings."""

    def __sklearn_tags__(self) -> Any:
        """Scikit-learn tags: the input is a collection of strings, not a 2-D array."""
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


class ThresholdClassifierMixin(TextInputMixin):
    """``predict``, ``predict_proba`` and ``confidence`` from one score per text and topic.

    A subclass provides :meth:`_scores` (``(n_texts, n_topics)``, higher is closer, columns in
    ``classes_`` order; raising :class:`~cximpact.errors.NotFittedError` before ``fit``),
    :meth:`_cutoff` (the threshold in use) and, when the scores are not already
    probabilities, :meth:`_probabilities`. The confidence of a text is its top score clipped
    to ``[0, 1]``; below the threshold the text gets ``other_label``.
    """

    classes_: npt.NDArray[Any]
    other_label: str

    def _scores(self, texts: Iterable[Any]) -> npt.NDArray[np.float64]:
        """Score of each text for each topic (see the class docstring)."""
        raise NotImplementedError

    def _cutoff(self) -> float:
        """Smallest confidence for which :meth:`predict` returns the top topic."""
        raise NotImplementedError

    def _probabilities(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Topic distribution per text from the scores (the scores themselves by default)."""
        return scores

    def predict_proba(self, texts: Iterable[Any]) -> npt.NDArray[np.float64]:
        """Probability of each topic per text.

        Parameters
        ----------
        texts : iterable of str
            Texts to classify; missing values count as empty.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_texts, n_topics)``, columns in :attr:`classes_` order, rows summing to 1.

        Raises
        ------
        NotFittedError
            ``fit`` was not called.
        """
        return self._probabilities(self._scores(texts))

    def confidence(self, texts: Iterable[Any]) -> npt.NDArray[np.float64]:
        """Top score per text, clipped to ``[0, 1]`` (what the threshold is compared with).

        Parameters
        ----------
        texts : iterable of str
            Texts to classify; missing values count as empty.

        Returns
        -------
        numpy.ndarray
            One value in ``[0, 1]`` per text.

        Raises
        ------
        NotFittedError
            ``fit`` was not called.
        """
        return top_confidence(self._scores(texts))

    def predict(self, texts: Iterable[Any]) -> npt.NDArray[np.object_]:
        """Top topic per text, or ``other_label`` when its confidence is below the threshold.

        Parameters
        ----------
        texts : iterable of str
            Texts to classify; missing values count as empty.

        Returns
        -------
        numpy.ndarray
            Object array of labels, one per text.

        Raises
        ------
        NotFittedError
            ``fit`` was not called.
        """
        ids = label_ids(self._scores(texts), self._cutoff())
        return label_names(ids, self.classes_, self.other_label)
