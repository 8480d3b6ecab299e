"""A learned, calibrated churn classifier for any tabular customer table.

:class:`CalibratedChurnClassifier` follows the scikit-learn estimator contract. It preprocesses
numeric and categorical columns itself, fits a ranker, and calibrates its scores with
:class:`~sklearn.calibration.CalibratedClassifierCV` so that a predicted 0.3 means that about 30%
of such customers churn (what revenue-at-risk = probability x revenue needs).

Rankers (``model``):

* ``"logistic"`` — L2 logistic regression on one-hot categories and a natural cubic-like
  B-spline basis of each numeric column's quantile (Eilers & Marx 1996, *Flexible smoothing with
  B-splines and penalties*), so tenure and charges may act non-linearly;
* ``"boosting"`` — :class:`~sklearn.ensemble.HistGradientBoostingClassifier` (Ke et al. 2017,
  LightGBM-style histogram boosting) with shallow trees, a small learning rate and early stopping;
* ``"blend"`` (default) — the mean of the two models' log-odds, which ranked best on both IBM
  Telco and Maven Telecom in 5-fold cross-validation (see ``benchmarks/bench_churn.py``).

Calibration (``method``): ``"sigmoid"`` is Platt scaling, ``p = 1 / (1 + exp(a s + b))`` on the
score ``s`` (Platt 1999); ``"isotonic"`` is a monotone step function (Zadrozny & Elkan 2002).
Either is fitted on out-of-fold scores of ``cv`` internal folds, and the ``cv`` calibrated models
are averaged (``ensemble=True``; Niculescu-Mizil & Caruana 2005).
"""

from __future__ import annotations

from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    OneHotEncoder,
    OrdinalEncoder,
    QuantileTransformer,
    SplineTransformer,
    StandardScaler,
)

from cximpact.errors import ContractError, NotFittedError

__all__ = ["MISSING_CATEGORY", "CalibratedChurnClassifier"]

#: Category that stands for an empty categorical cell ("not applicable" is information).
MISSING_CATEGORY: Final = "(missing)"

_MIN_CATEGORY_ROWS: Final = 10
_MAX_ORDINAL_CATEGORIES: Final = 64
_EPS: Final = 1e-12

Model = Literal["logistic", "boosting", "blend"]
Method = Literal["sigmoid", "isotonic"]


def _numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]


def _categorical_columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]


def _category_pipeline(encoder: Any) -> Pipeline:
    return make_pipeline(
        SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY, missing_values=np.nan),
        encoder,
    )


def _logistic(numeric: list[str], categorical: list[str], C: float, n_knots: int) -> Pipeline:
    """One-hot categories + B-splines of numeric quantiles -> L2 logistic regression."""
    steps: list[tuple[str, Any, list[str]]] = []
    if numeric:
        spline = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            QuantileTransformer(n_quantiles=200, output_distribution="uniform"),
            SplineTransformer(n_knots=n_knots, degree=3, knots="uniform"),
            StandardScaler(),
        )
        steps.append(("num", spline, numeric))
    if categorical:
        onehot = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=_MIN_CATEGORY_ROWS,
            sparse_output=False,
        )
        steps.append(("cat", _category_pipeline(onehot), categorical))
    return make_pipeline(
        ColumnTransformer(steps),
        LogisticRegression(C=C, max_iter=5000),
    )


def _boosting(numeric: list[str], categorical: list[str], random_state: int | None) -> Pipeline:
    """Ordinal-coded categories (native categorical splits) + numbers -> histogram boosting."""
    steps: list[tuple[str, Any, list[str]]] = []
    if numeric:
        steps.append(("num", "passthrough", numeric))  # boosting routes NaN itself
    if categorical:
        ordinal = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            min_frequency=_MIN_CATEGORY_ROWS,
            max_categories=_MAX_ORDINAL_CATEGORIES,
        )
        steps.append(("cat", _category_pipeline(ordinal), categorical))
    is_category = [False] * len(numeric) + [True] * len(categorical)
    booster = HistGradientBoostingClassifier(
        learning_rate=0.03,
        max_iter=400,
        max_depth=3,
        min_samples_leaf=50,
        l2_regularization=1.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=30,
        categorical_features=is_category if any(is_category) else None,
        random_state=random_state,
    )
    return make_pipeline(ColumnTransformer(steps), booster)


class _LogitBlend(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Average of the members' log-odds: ``s = mean_k logit(p_k)``; probability ``sigmoid(s)``.

    Parameters
    ----------
    members
        Unfitted binary classifiers with ``predict_proba``.
    """

    def __init__(self, members: list[Any]) -> None:
        self.members = members

    def fit(self, X: pd.DataFrame, y: npt.NDArray[np.int_]) -> _LogitBlend:
        self.fitted_ = [clone(m).fit(X, y) for m in self.members]
        self.classes_ = np.unique(y)
        return self

    def decision_function(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:
        logits = []
        for member in self.fitted_:
            p = np.clip(member.predict_proba(X)[:, 1], _EPS, 1 - _EPS)
            logits.append(np.log(p / (1 - p)))
        return np.asarray(np.mean(logits, axis=0), dtype=np.float64)

    def predict_proba(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])


class CalibratedChurnClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Churn probability from a customer table with numeric and categorical columns.

    Numeric columns: median imputation (plus missing indicators) for the logistic model, native
    NaN handling for boosting. Categorical columns (any non-numeric dtype): empty cells become the
    category :data:`MISSING_CATEGORY` (an empty "internet type" means *no internet*, which is
    information, so it is kept rather than replaced by the most frequent value), rare categories
    (fewer than 10 rows) are pooled; one-hot for the logistic model, ordinal codes with native
    categorical splits for boosting.

    Parameters
    ----------
    model
        ``"blend"`` (default), ``"logistic"`` or ``"boosting"``; see the module docstring.
    method
        Calibration map: ``"sigmoid"`` (Platt scaling, default) or ``"isotonic"``.
    cv
        Internal folds for the calibration (out-of-fold scores).
    C
        Inverse L2 strength of the logistic regression (on standardised spline features).
    n_knots
        Knots of each numeric column's B-spline basis (on its quantile, so in ``[0, 1]``).
    random_state
        Seed of the boosting model's early-stopping split and the calibration folds.

    Attributes
    ----------
    classes_ : numpy.ndarray
        The two outcome labels; ``classes_[1]`` is the churn (positive) class.
    feature_names_in_ : numpy.ndarray
        Column names seen in ``fit``.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    calibrated_ : sklearn.calibration.CalibratedClassifierCV
        The fitted calibrated model.
    """

    def __init__(
        self,
        model: Model = "blend",
        method: Method = "sigmoid",
        cv: int = 5,
        C: float = 0.1,
        n_knots: int = 5,
        random_state: int | None = None,
    ) -> None:
        self.model = model
        self.method = method
        self.cv = cv
        self.C = C
        self.n_knots = n_knots
        self.random_state = random_state

    def fit(self, X: pd.DataFrame | npt.ArrayLike, y: npt.ArrayLike) -> CalibratedChurnClassifier:
        """Fit the ranker and its calibration.

        Parameters
        ----------
        X
            One row per customer; a DataFrame (numeric dtypes are numeric features, all others
            categorical) or a 2-D array (all numeric).
        y
            Two distinct outcome labels; the larger in sort order (``1``, ``True``, ``"Yes"``
            over ``"No"``) is the positive class ``classes_[1]``.

        Returns
        -------
        CalibratedChurnClassifier
            ``self``.

        Raises
        ------
        ContractError
            ``y`` does not have exactly two classes, lengths differ, or a class has fewer rows
            than ``cv``.
        """
        if self.model not in ("logistic", "boosting", "blend"):
            raise ValueError(f"model must be 'logistic', 'boosting' or 'blend', got {self.model!r}")
        if self.method not in ("sigmoid", "isotonic"):
            raise ValueError(f"method must be 'sigmoid' or 'isotonic', got {self.method!r}")
        frame = _as_frame(X)
        labels = np.asarray(y).ravel()
        if labels.shape[0] != len(frame):
            raise ContractError(f"X has {len(frame)} rows but y has {labels.shape[0]} labels")
        classes = np.unique(labels)
        if classes.size != 2:
            raise ContractError(
                f"expected two outcome classes in y (churned and not), found {classes.size}: "
                f"{classes.tolist()[:10]}"
            )
        target = (labels == classes[1]).astype(np.int_)
        smaller = int(min(target.sum(), target.size - target.sum()))
        if smaller < self.cv:
            raise ContractError(
                f"the smaller class has {smaller} rows, fewer than cv={self.cv} calibration "
                "folds; use more data or a smaller cv"
            )
        numeric = _numeric_columns(frame)
        categorical = _categorical_columns(frame)
        prepared = _prepare(frame, categorical)
        ranker = self._ranker(numeric, categorical)
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        calibrated = CalibratedClassifierCV(ranker, method=self.method, cv=folds)
        calibrated.fit(prepared, target)
        self.calibrated_ = calibrated
        self.classes_ = classes
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.categorical_columns_ = categorical
        return self

    def _ranker(self, numeric: list[str], categorical: list[str]) -> Any:
        logistic = _logistic(numeric, categorical, self.C, self.n_knots)
        boosting = _boosting(numeric, categorical, self.random_state)
        if self.model == "logistic":
            return logistic
        if self.model == "boosting":
            return boosting
        return _LogitBlend([logistic, boosting])

    def predict_proba(self, X: pd.DataFrame | npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Calibrated class probabilities.

        Parameters
        ----------
        X
            Rows with the columns seen in ``fit`` (extra columns are ignored).

        Returns
        -------
        numpy.ndarray
            Shape ``(n, 2)``: ``[P(classes_[0]), P(classes_[1])]`` per row.

        Raises
        ------
        NotFittedError
            ``fit`` was not called.
        ContractError
            A column seen in ``fit`` is missing.
        """
        if not hasattr(self, "calibrated_"):
            raise NotFittedError(
                "CalibratedChurnClassifier is not fitted; call fit(X, y) before predicting"
            )
        frame = _as_frame(X)
        names = [str(c) for c in self.feature_names_in_]
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise ContractError(
                f"expected the columns seen in fit; missing {', '.join(map(repr, missing[:10]))}"
            )
        prepared = _prepare(frame[names], self.categorical_columns_)
        return np.asarray(self.calibrated_.predict_proba(prepared), dtype=np.float64)

    def predict(self, X: pd.DataFrame | npt.ArrayLike) -> npt.NDArray[Any]:
        """Most probable class label per row (threshold 0.5 on the calibrated probability)."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[(proba[:, 1] > 0.5).astype(int)])


def _as_frame(X: pd.DataFrame | npt.ArrayLike) -> pd.DataFrame:
    """A DataFrame view of ``X``; arrays get columns ``x0, x1, ...``."""
    if isinstance(X, pd.DataFrame):
        return X
    values = np.asarray(X)
    if values.ndim != 2:
        raise ContractError(f"expected a 2-D table of features, got {values.ndim} dimension(s)")
    return pd.DataFrame(values, columns=[f"x{i}" for i in range(values.shape[1])])


def _as_text(value: Any) -> Any:
    """Text as is, missing as NaN, anything else (numbers, booleans) as its text."""
    if isinstance(value, str):
        return value
    return np.nan if pd.isna(value) else str(value)


def _prepare(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """A copy with categorical columns as ``object`` text (NaN for missing) and numbers as float."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    for name in out.columns:
        column = out[name]
        if name in categorical:
            text = column.astype(object)
            blank = text.isna() | text.map(lambda v: isinstance(v, str) and not v.strip())
            out[name] = text.where(~blank, np.nan).map(_as_text)
        else:
            out[name] = pd.to_numeric(column, errors="coerce").astype(float)
    return out
