"""Cross-validated evaluation of the calibrated churn model on any tabular churn file.

:func:`evaluate_churn` reads a churn table (CSV, Parquet, JSON Lines), infers the column types
(:func:`load_churn_table`), and scores :class:`~cximpact.risk.calibrated.CalibratedChurnClassifier`
with stratified K-fold cross-validation on out-of-fold predictions: ROC AUC, PR AUC (average
precision), Brier score and the expected calibration error (:func:`expected_calibration_error`).

Type inference (:func:`load_churn_table`):

* the target's churn value is ``positive`` when given, otherwise guessed from its spelling
  (``yes``, ``true``, ``1``, ``churn...``, ``left``, ``exited``..., case-insensitive); several or
  no candidates raise :class:`~cximpact.errors.ContractError` listing the values;
* a text column whose non-empty values parse as numbers for at least
  :data:`NUMERIC_SHARE` of them becomes numeric (the rest become missing), others stay
  categorical; empty or blank cells (IBM Telco's ``" "`` in ``TotalCharges``) are missing;
* the id column and id-like columns (every value distinct: text, or whole numbers) are dropped,
  as are empty and constant columns;
* a column that alone separates the classes perfectly (each of its values, missing included,
  belongs to one class only, e.g. a churn *reason* filled only for churners) is a target leak:
  it is dropped with a :class:`~cximpact.errors.CximpactWarning`.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from cximpact.errors import ConfigError, ContractError, CximpactWarning
from cximpact.ingest.readers import read_records

__all__ = [
    "MIN_ROWS",
    "NUMERIC_SHARE",
    "evaluate_churn",
    "expected_calibration_error",
    "guess_positive",
    "load_churn_table",
]

#: Fewest labelled rows a churn table must have to be evaluated.
MIN_ROWS: Final = 50

#: Share of non-empty values that must parse as numbers for a column to become numeric.
NUMERIC_SHARE: Final = 0.95

_POSITIVE_WORDS: Final = frozenset(
    {
        "yes",
        "y",
        "true",
        "t",
        "1",
        "1.0",
        "left",
        "exited",
        "lost",
        "cancelled",
        "canceled",
        "attrited",
        "attrition",
        "attrited customer",
        "gone",
        "terminated",
    }
)
_POSITIVE_PREFIX: Final = re.compile(r"^(churn|attrit)")
_MAX_SHOWN_VALUES: Final = 12
_LEAK_MIN_ROWS_PER_VALUE: Final = 5


def expected_calibration_error(
    y_true: npt.ArrayLike, proba: npt.ArrayLike, bins: int = 10
) -> float:
    """Expected calibration error with equal-width probability bins.

    .. math::

        \\mathrm{ECE} = \\sum_{b=1}^{B} \\frac{n_b}{n}\\,
        \\bigl|\\bar y_b - \\bar p_b\\bigr|

    where bin :math:`b` holds the predictions in :math:`[(b-1)/B, b/B)` (the last bin also holds
    1.0), :math:`n_b` is its size, :math:`\\bar y_b` the observed positive rate and
    :math:`\\bar p_b` the mean predicted probability in it; empty bins contribute nothing
    (Naeini, Cooper & Hauskrecht 2015, *Obtaining well calibrated probabilities using Bayesian
    binning*, AAAI; Guo et al. 2017, *On calibration of modern neural networks*, ICML).

    Parameters
    ----------
    y_true
        Outcomes, 1 = positive (churned), 0 = negative.
    proba
        Predicted probabilities of the positive class, in ``[0, 1]``.
    bins
        Number of equal-width bins on ``[0, 1]``.

    Returns
    -------
    float
        The ECE, in ``[0, 1]``; 0 means the predicted rates match the observed ones in every bin.

    Raises
    ------
    ContractError
        The inputs differ in length, are empty, or probabilities fall outside ``[0, 1]``.
    ValueError
        ``bins`` is below 1.
    """
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(proba, dtype=float).ravel()
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    if y.shape != p.shape or y.size == 0:
        raise ContractError(
            f"expected y_true and proba of the same non-zero length, got {y.size} and {p.size}"
        )
    if np.any(~np.isfinite(p)) or p.min() < 0.0 or p.max() > 1.0:
        raise ContractError("expected probabilities in [0, 1]; found values outside or NaN")
    index = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(index, minlength=bins).astype(float)
    sum_y = np.bincount(index, weights=y, minlength=bins)
    sum_p = np.bincount(index, weights=p, minlength=bins)
    gap = np.abs(sum_y - sum_p)  # n_b * |mean_y - mean_p|
    return float(gap[counts > 0].sum() / y.size)


def guess_positive(values: pd.Series, target: str) -> str:
    """Guess which value of the target column means *churned*.

    Parameters
    ----------
    values
        The target column as text (stripped, non-empty).
    target
        Its name, for messages.

    Returns
    -------
    str
        The one value spelled like a churn outcome: ``yes``, ``y``, ``true``, ``t``, ``1``,
        ``left``, ``exited``, ``lost``, ``cancelled``, ``terminated``..., or starting with
        ``churn`` / ``attrit`` (case-insensitive).

    Raises
    ------
    ContractError
        No value, or more than one, looks like the churn outcome.
    """
    distinct = sorted(values.unique().tolist())
    candidates = [v for v in distinct if _looks_positive(v)]
    if len(candidates) == 1:
        return str(candidates[0])
    shown = ", ".join(repr(v) for v in distinct[:_MAX_SHOWN_VALUES])
    if len(distinct) > _MAX_SHOWN_VALUES:
        shown += f", ... ({len(distinct)} values)"
    why = "none of them" if not candidates else f"several of them ({', '.join(candidates)})"
    raise ContractError(
        f"cannot tell which value of target column {target!r} means churned: it holds {shown} "
        f"and {why} looks like a churn outcome. Fix: pass --positive VALUE (positive=...) "
        "naming the churned value"
    )


def _looks_positive(value: str) -> bool:
    low = value.strip().lower()
    return low in _POSITIVE_WORDS or bool(_POSITIVE_PREFIX.match(low))


def load_churn_table(
    path: Path, target: str, positive: str | None, id_column: str | None
) -> tuple[pd.DataFrame, npt.NDArray[np.int_]]:
    """Read a churn file into model features and 0/1 outcomes.

    Parameters
    ----------
    path
        CSV, Parquet or JSON Lines file, one row per customer.
    target
        Column holding the churn outcome (any spelling: ``Yes``/``No``, ``1``/``0``,
        ``Churned``/``Stayed``...; more than two values are allowed, all but ``positive`` count
        as not churned). Rows with an empty target are left out.
    positive
        Value of ``target`` that means churned (matched after stripping, then
        case-insensitively); ``None`` guesses it (:func:`guess_positive`).
    id_column
        Identifier column to leave out, or ``None``.

    Returns
    -------
    features : pandas.DataFrame
        Numeric columns as ``float64`` (``NaN`` for missing), categorical ones as ``object``
        text (``NaN`` for missing); id-like, empty, constant and leaking columns removed.
    y : numpy.ndarray
        1 = churned, 0 = not, aligned with ``features``.

    Raises
    ------
    ContractError
        The target or id column is missing, ``positive`` is not among the target's values, the
        churn value cannot be guessed, one class only, fewer than :data:`MIN_ROWS` labelled
        rows, or no usable feature column.
    FileFormatError
        The file cannot be read (see :func:`~cximpact.ingest.readers.read_records`).
    """
    raw = read_records(Path(path))
    columns = [str(c) for c in raw.columns]
    _require_column(raw, target, "target", columns)
    if id_column is not None:
        _require_column(raw, id_column, "id", columns)
    labels = raw[target].astype(str).str.strip()
    labelled = labels != ""
    frame = raw.loc[labelled]
    labels = labels[labelled]
    chosen = _resolve_positive(labels, target, positive)
    y = np.asarray((labels == chosen).to_numpy(), dtype=np.int_)
    _check_classes(y, target, chosen, len(raw))
    features = frame.drop(columns=[c for c in (target, id_column) if c is not None])
    features = _infer_types(features)
    features = _drop_leaks(features, y)
    if features.shape[1] == 0:
        raise ContractError(
            f"{path}: no usable feature column left besides the target {target!r} (id-like, "
            "empty and constant columns are dropped). Fix: add customer attributes such as "
            "tenure, plan, charges"
        )
    return features.reset_index(drop=True), y


def _require_column(frame: pd.DataFrame, name: str, role: str, columns: list[str]) -> None:
    if name in frame.columns:
        return
    shown = ", ".join(repr(c) for c in columns[:30])
    if len(columns) > 30:
        shown += f", ... ({len(columns)} columns)"
    flag = "--target" if role == "target" else "--id-column"
    raise ContractError(
        f"{frame.attrs.get('source', 'the file')}: expected a {role} column {name!r}, but the "
        f"columns are {shown}. Fix: pass {flag} with one of these names (exact spelling)"
    )


def _resolve_positive(labels: pd.Series, target: str, positive: str | None) -> str:
    if positive is None:
        return guess_positive(labels, target)
    wanted = positive.strip()
    distinct = labels.unique().tolist()
    if wanted in distinct:
        return wanted
    folded = [v for v in distinct if str(v).lower() == wanted.lower()]
    if len(folded) == 1:
        return str(folded[0])
    shown = ", ".join(repr(v) for v in sorted(distinct)[:_MAX_SHOWN_VALUES])
    raise ContractError(
        f"--positive {positive!r} is not a value of target column {target!r}, which holds "
        f"{shown}. Fix: pass one of these values"
    )


def _check_classes(y: npt.NDArray[np.int_], target: str, positive: str, rows: int) -> None:
    n = int(y.size)
    churned = int(y.sum())
    if n < MIN_ROWS:
        raise ContractError(
            f"expected at least {MIN_ROWS} rows with a value in target column {target!r}, found "
            f"{n} (of {rows} rows). Fix: use a larger export; a churn model cannot be evaluated "
            "on so few customers"
        )
    if churned in (0, n):
        which = "no" if churned == 0 else "only"
        raise ContractError(
            f"target column {target!r} has {which} churned rows ({positive!r}): one class only. "
            "Fix: include both churned and retained customers, or pass --positive with the "
            "value that means churned"
        )


def _infer_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric-looking columns to float, others to text; drop id-like, empty, constant ones."""
    out: dict[str, pd.Series] = {}
    n = len(frame)
    for name in frame.columns:
        text = frame[name].astype(str).str.strip()
        text = text.where(text != "")
        present = text.dropna()
        if present.empty or (present.nunique() < 2 and not text.isna().any()):
            continue  # empty or constant: carries nothing
        numbers = pd.to_numeric(present, errors="coerce")
        if numbers.notna().mean() >= NUMERIC_SHARE:
            values = pd.to_numeric(text, errors="coerce").astype(float)
            whole = bool(np.all(np.mod(numbers.dropna(), 1) == 0))
            if whole and values.nunique() == n and n >= MIN_ROWS:
                continue  # a running number: an id
            out[str(name)] = values
        else:
            if present.nunique() == n:
                continue  # every value distinct: an id
            out[str(name)] = text.astype(object)
    return pd.DataFrame(out, index=frame.index)


def _drop_leaks(features: pd.DataFrame, y: npt.NDArray[np.int_]) -> pd.DataFrame:
    """Drop columns whose values (missing included) each belong to one class only."""
    leaks: list[str] = []
    outcome = pd.Series(y, index=features.index)
    for name in features.columns:
        column = features[name]
        keys = column.astype(object).where(column.notna(), "\x00missing")
        groups = keys.nunique()
        if groups < 2 or len(keys) / groups < _LEAK_MIN_ROWS_PER_VALUE:
            continue
        purity = outcome.groupby(keys.astype(str)).nunique()
        if bool((purity == 1).all()):
            leaks.append(str(name))
    if leaks:
        warnings.warn(
            f"left out column(s) {', '.join(repr(c) for c in leaks)}: each of their values "
            "(empty included) occurs with one outcome only, so they record the outcome itself "
            "(a target leak, e.g. a churn reason filled only for churners)",
            CximpactWarning,
            stacklevel=3,
        )
    return features.drop(columns=leaks)


def evaluate_churn(
    path: Path,
    *,
    target: str,
    positive: str | None,
    id_column: str | None,
    folds: int = 5,
    seed: int = 0,
) -> dict[str, float | int]:
    """Cross-validate the calibrated churn model on a tabular churn file.

    Stratified K-fold (shuffled with ``seed``): each row is predicted once by a model fitted on
    the other folds, and the metrics are computed on these out-of-fold probabilities.

    Parameters
    ----------
    path
        Churn table (CSV, Parquet, JSON Lines), one row per customer.
    target
        Column holding the churn outcome.
    positive
        Value of ``target`` meaning churned; ``None`` guesses it.
    id_column
        Identifier column to leave out.
    folds
        Number of folds, at least 2.
    seed
        Random seed for the fold split and the model.

    Returns
    -------
    dict
        ``roc_auc`` (area under the ROC curve), ``pr_auc`` (average precision), ``brier``
        (mean squared error of the probability, Brier 1950), ``ece``
        (:func:`expected_calibration_error`, 10 equal-width bins), each rounded to 4 places,
        and ``n`` (rows evaluated).

    Raises
    ------
    ContractError
        See :func:`load_churn_table`; also fewer churned or retained rows than ``folds``.
    ConfigError
        ``folds`` below 2.
    """
    from cximpact.risk.calibrated import CalibratedChurnClassifier

    if folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {folds}")
    X, y = load_churn_table(path, target, positive, id_column)
    minority = int(min(y.sum(), y.size - y.sum()))
    if minority < folds:
        raise ContractError(
            f"stratified {folds}-fold cross-validation needs at least {folds} rows of each "
            f"class; the smaller class has {minority}. Fix: pass --folds {max(2, minority)} "
            "or use more data"
        )
    proba = np.zeros(y.size, dtype=float)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(X, y):
        model = CalibratedChurnClassifier(random_state=seed)
        model.fit(X.iloc[train], y[train])
        proba[test] = model.predict_proba(X.iloc[test])[:, 1]
    return {
        "roc_auc": round(float(roc_auc_score(y, proba)), 4),
        "pr_auc": round(float(average_precision_score(y, proba)), 4),
        "brier": round(float(brier_score_loss(y, proba)), 4),
        "ece": round(expected_calibration_error(y, proba), 4),
        "n": int(y.size),
    }
