"""Evaluation of the text signals on labelled files: topics and sentiment.

:func:`evaluate_topics` fits :class:`~cximpact.signals.supervised.SupervisedTopicClassifier`
on a labelled training file (or builds the few-shot classifier of a taxonomy file, calibrating
its threshold on that file) and scores it on a labelled test file: accuracy and macro F1 over
the in-scope test rows, and, when the data marks out-of-scope texts with a label
(``oos_label``), how well the classifier's "other" answer catches them.

:func:`evaluate_sentiment` scores the sentiment rules
(:class:`~cximpact.signals.sentiment.LexiconSentiment`), or a model learned from a labelled
training file, against a labelled sentiment file whose labels are positive / neutral /
negative in any common spelling (:func:`normalise_sentiment`).

Files are read with :func:`~cximpact.ingest.readers.read_records` (CSV, TSV, Parquet, JSON
Lines, JSON). Rows whose text is blank are kept (an empty text is still a prediction); rows
whose label is blank are dropped from the topic files and rejected in the sentiment file.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from cximpact.errors import ConfigError, ContractError
from cximpact.ingest.readers import read_records

if TYPE_CHECKING:
    from cximpact.signals.topics import TopicClassifier

__all__ = [
    "SENTIMENT_LABELS",
    "evaluate_sentiment",
    "evaluate_topics",
    "normalise_sentiment",
    "read_labelled",
]

#: The sentiment labels the lexicon predicts.
SENTIMENT_LABELS: Final[tuple[str, ...]] = ("negative", "neutral", "positive")

_SENTIMENT_SPELLINGS: Final[dict[str, str]] = {
    **dict.fromkeys(("negative", "neg", "-1", "-1.0", "-", "bad"), "negative"),
    **dict.fromkeys(("neutral", "neu", "neut", "0", "0.0", "none"), "neutral"),
    **dict.fromkeys(("positive", "pos", "1", "+1", "1.0", "+", "good"), "positive"),
}
_OTHER: Final = "other"
_MAX_SHOWN: Final = 12
_DIGITS: Final = 4


def read_labelled(path: Path, text_column: str, label_column: str, role: str) -> pd.DataFrame:
    """Read a file and keep its text and label columns, as stripped-label strings.

    Parameters
    ----------
    path : pathlib.Path
        File to read.
    text_column, label_column : str
        Columns holding the text and its label.
    role : str
        What the file is for (``"training"``, ``"test"``, ``"sentiment"``), for messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``text`` and ``label`` (label stripped), in file order.

    Raises
    ------
    ContractError
        A column is missing or the file has no rows (``FileFormatError`` when unreadable).
    """
    frame = read_records(path)
    missing = [c for c in (text_column, label_column) if c not in frame.columns]
    if missing:
        shown = ", ".join(repr(str(c)) for c in list(frame.columns)[:_MAX_SHOWN])
        raise ContractError(
            f"{path}: {role} file has no column(s) {', '.join(repr(c) for c in missing)}; "
            f"its columns are {shown}. Fix: pass text_column= / label_column= naming them"
        )
    if frame.empty:
        raise ContractError(
            f"{path}: {role} file has a header but no rows. Fix: export the labelled rows"
        )
    return pd.DataFrame(
        {
            "text": frame[text_column].astype(str).to_numpy(dtype=object),
            "label": frame[label_column].astype(str).str.strip().to_numpy(dtype=object),
        }
    )


def _shown(values: pd.Series | list[str]) -> str:
    """Comma-separated repr of the first distinct values (for messages).

    Parameters
    ----------
    values : pandas.Series or list of str
        Values to show.

    Returns
    -------
    str
        At most a dozen distinct values, then ``…`` when there are more.
    """
    distinct = list(dict.fromkeys(str(v) for v in values))
    text = ", ".join(repr(v) for v in distinct[:_MAX_SHOWN])
    return text + (", …" if len(distinct) > _MAX_SHOWN else "")


def _scores(
    truth: npt.NDArray[np.object_], predicted: npt.NDArray[np.object_]
) -> tuple[float, float]:
    """Accuracy and macro F1 (averaged over the true classes) of predictions.

    Parameters
    ----------
    truth, predicted : numpy.ndarray
        True and predicted labels, same length, at least one row.

    Returns
    -------
    tuple of float
        Accuracy and macro F1, rounded to four places. A predicted label that is no true
        class (such as "other") counts as an error but is not averaged as a class.
    """
    classes = sorted({str(v) for v in truth})
    accuracy = float(accuracy_score(truth, predicted))
    macro = float(f1_score(truth, predicted, labels=classes, average="macro", zero_division=0))
    return round(accuracy, _DIGITS), round(macro, _DIGITS)


def evaluate_topics(
    train: Path,
    test: Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    oos_label: str | None = None,
    mode: str = "supervised",
    taxonomy: Path | None = None,
) -> dict[str, float | int | None]:
    """Fit a topic classifier on one file and score it on another.

    ``mode="supervised"`` learns the topics from TRAIN
    (:class:`~cximpact.signals.supervised.SupervisedTopicClassifier`). ``mode="few-shot"``
    takes its topics from ``taxonomy`` (descriptions + example phrases,
    :class:`~cximpact.signals.fewshot.FewShotTopicClassifier`) and uses TRAIN for one thing
    only: choosing the similarity threshold below which it answers "other" (the one that
    maximises accuracy on TRAIN, ``oos_label`` rows counting as right when answered "other");
    its topics never see TRAIN's texts.

    Training rows labelled ``oos_label`` are left out (out of scope is not a topic to learn;
    the classifier answers "other" when no topic is probable enough). Test rows are all
    predicted; accuracy and macro F1 use the in-scope rows (label not ``oos_label``), where an
    "other" answer counts as an error.

    Parameters
    ----------
    train, test : pathlib.Path
        Labelled files (CSV, TSV, Parquet, JSON Lines, JSON).
    text_column : str, default "text"
        Column holding the text.
    label_column : str, default "label"
        Column holding the topic; rows with a blank topic are dropped.
    oos_label : str or None, optional
        Label marking out-of-scope texts (for example ``"oos"``), or ``None`` when there are none.
    mode : {"supervised", "few-shot"}, default "supervised"
        Which classifier to evaluate.
    taxonomy : pathlib.Path, optional
        Few-shot taxonomy file (YAML; required when ``mode="few-shot"``).

    Returns
    -------
    dict
        ``accuracy`` and ``macro_f1`` (in-scope test rows, rounded to 4 places);
        ``oos_precision`` and ``oos_recall`` of answering "other" for the ``oos_label`` test
        rows (``None`` unless ``oos_label`` is given and occurs in the test file);
        ``texts_per_second`` (test rows divided by the prediction time, rounded to 0.1);
        ``n_train`` (training rows used) and ``n_test`` (test rows predicted).

    Raises
    ------
    ContractError
        A column is missing, a file is empty, fewer than two topics remain for training, or
        the test file has no in-scope rows (``FileFormatError`` when a file is unreadable).
    ConfigError
        Unknown ``mode``, or few-shot without a valid ``taxonomy``.
    """
    if mode not in ("supervised", "few-shot"):
        raise ConfigError(f"unknown mode {mode!r}. Fix: use supervised or few-shot")
    train_rows = read_labelled(train, text_column, label_column, "training")
    test_rows = read_labelled(test, text_column, label_column, "test")
    train_rows = train_rows[train_rows["label"] != ""]
    test_rows = test_rows[test_rows["label"] != ""]
    all_train = train_rows
    if oos_label is not None:
        train_rows = train_rows[train_rows["label"] != oos_label]
    topics = sorted(set(train_rows["label"]))
    if len(topics) < 2:
        raise ContractError(
            f"{train}: need at least two topics in {label_column!r} to train"
            f"{' (besides ' + repr(oos_label) + ')' if oos_label is not None else ''}, "
            f"found {len(topics)} ({_shown(topics)}). Fix: add labelled texts of other topics "
            "or pass the right label_column"
        )
    in_scope = (
        test_rows["label"] != oos_label
        if oos_label is not None
        else pd.Series(True, index=test_rows.index)
    )
    if not bool(in_scope.any()):
        raise ContractError(
            f"{test}: no labelled in-scope rows to score (labels: {_shown(test_rows['label'])}). "
            "Fix: pass a test file with topic labels, or the right label_column / oos_label"
        )
    # Answer "other" with a label no real topic uses, so it can never count as correct.
    other = oos_label if oos_label is not None else _OTHER
    while other in topics:
        other = f"_{other}"
    model = _fit_topic_model(mode, taxonomy, other, train_rows, all_train, topics)
    started = time.perf_counter()
    predicted = model.predict(test_rows["text"])
    elapsed = time.perf_counter() - started

    truth = test_rows["label"].to_numpy(dtype=object)
    mask = in_scope.to_numpy(dtype=bool)
    accuracy, macro = _scores(truth[mask], predicted[mask])
    oos_precision: float | None = None
    oos_recall: float | None = None
    if oos_label is not None and not bool(mask.all()):
        actual = ~mask
        answered = predicted == model.other_label
        hits = int(np.sum(actual & answered))
        oos_precision = round(hits / int(answered.sum()), _DIGITS) if answered.any() else 0.0
        oos_recall = round(hits / int(actual.sum()), _DIGITS)
    return {
        "accuracy": accuracy,
        "macro_f1": macro,
        "oos_precision": oos_precision,
        "oos_recall": oos_recall,
        "texts_per_second": round(len(test_rows) / max(elapsed, 1e-9), 1),
        "n_train": len(train_rows),
        "n_test": len(test_rows),
    }


def _fit_topic_model(
    mode: str,
    taxonomy: Path | None,
    other: str,
    train_rows: pd.DataFrame,
    all_train: pd.DataFrame,
    topics: list[str],
) -> TopicClassifier:
    """The fitted classifier of :func:`evaluate_topics`.

    Supervised: fit on the in-scope training rows. Few-shot: topics from the taxonomy; every
    training row (out-of-scope ones too) only calibrates the threshold.
    """
    from cximpact.signals.topics import make_topic_classifier

    if mode == "supervised":
        return make_topic_classifier(mode, other_label=other).fit(
            train_rows["text"], train_rows["label"]
        )
    if taxonomy is None:
        raise ConfigError("few-shot mode needs a taxonomy file. Fix: pass --taxonomy FILE.yaml")
    from cximpact.signals.fewshot import load_fewshot_taxonomy

    names = set(load_fewshot_taxonomy(taxonomy))
    while other in names:
        other = f"_{other}"
    if not names & set(topics):
        raise ContractError(
            f"{taxonomy}: none of its topics ({_shown(sorted(names))}) is a label of the "
            f"training file ({_shown(topics)}). Fix: name the taxonomy topics like the labels"
        )
    return make_topic_classifier(mode, taxonomy=taxonomy, other_label=other).fit(
        all_train["text"], all_train["label"]
    )


def normalise_sentiment(labels: pd.Series) -> pd.Series:
    """Map sentiment labels in common spellings to ``negative`` / ``neutral`` / ``positive``.

    Case and surrounding spaces are ignored. Accepted: ``negative``, ``neg``, ``-1``, ``-``,
    ``bad``; ``neutral``, ``neu``, ``neut``, ``0``, ``none``; ``positive``, ``pos``, ``1``,
    ``+1``, ``+``, ``good`` (and ``-1.0`` / ``0.0`` / ``1.0``).

    Parameters
    ----------
    labels : pandas.Series
        Labels as text.

    Returns
    -------
    pandas.Series
        The canonical labels, indexed like ``labels``.

    Raises
    ------
    ContractError
        Some labels are blank or unknown; the message lists them.
    """
    key = labels.astype(str).str.strip().str.lower()
    mapped = key.map(_SENTIMENT_SPELLINGS)
    unknown = mapped.isna()
    if bool(unknown.any()):
        bad = labels[unknown].astype(str).str.strip().replace("", "(blank)")
        raise ContractError(
            f"{int(unknown.sum())} sentiment label(s) are not positive/neutral/negative: "
            f"{_shown(bad)}. Fix: relabel them, drop those rows, or pass the right label_column "
            f"(accepted spellings: {', '.join(sorted(_SENTIMENT_SPELLINGS))})"
        )
    return mapped.astype(str)


def evaluate_sentiment(
    data: Path, *, text_column: str, label_column: str, train: Path | None = None
) -> dict[str, float | int]:
    """Score the sentiment signal against labelled texts; optionally learn it first.

    Without ``train`` the shipped rules are scored
    (:class:`~cximpact.signals.sentiment.LexiconSentiment`: VADER's lexicon plus
    customer-service cues, nothing learned). With ``train``,
    :class:`~cximpact.signals.learned_sentiment.LearnedSentiment` (TF-IDF + logistic
    regression) is fitted on that file's labels and scored on ``data``.

    Parameters
    ----------
    data : pathlib.Path
        Labelled file to score (CSV, TSV, Parquet, JSON Lines, JSON).
    text_column : str
        Column holding the text (in both files).
    label_column : str
        Column holding the sentiment (see :func:`normalise_sentiment` for the spellings).
    train : pathlib.Path or None, optional
        Labelled file to fit the learned model on, with the same columns.

    Returns
    -------
    dict
        ``accuracy`` and ``macro_f1`` (over the classes present in the labels, rounded to 4
        places), ``texts_per_second`` (rows of ``data`` divided by the time of scoring them,
        rounded to 0.1), ``n`` (rows scored) and, with ``train``, ``n_train``.

    Raises
    ------
    ContractError
        A column is missing, a file is empty, some labels are unknown, or the training file
        has a single label (``FileFormatError`` when a file is unreadable).
    """
    from cximpact.signals.learned_sentiment import LearnedSentiment
    from cximpact.signals.sentiment import LexiconSentiment

    rows = read_labelled(data, text_column, label_column, "sentiment")
    truth = normalise_sentiment(rows["label"]).to_numpy(dtype=object)
    texts = pd.Series(rows["text"].to_numpy(dtype=object), dtype="str")
    extra: dict[str, int] = {}
    model: LexiconSentiment | LearnedSentiment
    if train is None:
        model = LexiconSentiment().fit()
    else:
        training = read_labelled(train, text_column, label_column, "training")
        labels = normalise_sentiment(training["label"]).to_numpy(dtype=object)
        model = LearnedSentiment().fit(training["text"], labels)
        extra["n_train"] = len(training)
    started = time.perf_counter()
    predicted = model.transform(texts)["sentiment_label"].to_numpy(dtype=object)
    elapsed = time.perf_counter() - started
    accuracy, macro = _scores(truth, predicted)
    return {
        "accuracy": accuracy,
        "macro_f1": macro,
        "texts_per_second": round(len(rows) / max(elapsed, 1e-9), 1),
        "n": len(rows),
        **extra,
    }
