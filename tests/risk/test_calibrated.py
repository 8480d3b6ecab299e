"""CalibratedChurnClassifier: learns a planted signal, calibrates, keeps the estimator contract."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from cximpact.errors import ContractError, NotFittedError
from cximpact.risk.calibrated import CalibratedChurnClassifier
from cximpact.risk.evaluate import expected_calibration_error


def churn_table(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric + categorical columns with missing cells; churn log-odds known."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, n).astype(float)
    charges = rng.uniform(20, 120, n)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.5, 0.3, 0.2])
    internet = rng.choice(["DSL", "Fiber optic", ""], n)
    logit = (
        -0.5
        - 0.04 * tenure
        + 0.015 * (charges - 70)
        + np.select([contract == "One year", contract == "Two year"], [-1.2, -2.5], 0.0)
        + np.where(internet == "Fiber optic", 0.8, 0.0)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(
        {
            "tenure": tenure,
            "charges": charges,
            "contract": contract,
            "internet": pd.Series(internet, dtype=object).replace("", np.nan),
            "noise": rng.normal(size=n),
        }
    )
    frame.loc[rng.random(n) < 0.05, "charges"] = np.nan
    return frame, y


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    return churn_table()


@pytest.mark.parametrize("model", ["logistic", "boosting", "blend"])
def test_ranks_and_calibrates_planted_signal(
    data: tuple[pd.DataFrame, np.ndarray], model: str
) -> None:
    X, y = data
    train, test = slice(0, 2000), slice(2000, None)
    clf = CalibratedChurnClassifier(model=model, random_state=0)  # type: ignore[arg-type]
    proba = clf.fit(X.iloc[train], y[train]).predict_proba(X.iloc[test])
    assert proba.shape == (1000, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(y[test], proba[:, 1]) > 0.75
    assert expected_calibration_error(y[test], proba[:, 1]) < 0.06


def test_fit_returns_self_and_sets_learned_attributes(
    data: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = data
    clf = CalibratedChurnClassifier(model="logistic", random_state=0)
    assert clf.fit(X, y) is clf
    assert clf.n_features_in_ == 5
    assert list(clf.feature_names_in_) == list(X.columns)
    assert list(clf.classes_) == [0, 1]
    assert set(clf.predict(X.head(20))) <= {0, 1}


def test_params_stored_as_given_and_clonable() -> None:
    clf = CalibratedChurnClassifier(model="boosting", method="isotonic", cv=3, C=0.5, n_knots=4)
    params = clf.get_params()
    assert params == {
        "model": "boosting",
        "method": "isotonic",
        "cv": 3,
        "C": 0.5,
        "n_knots": 4,
        "random_state": None,
    }
    assert clone(clf).get_params() == params


def test_not_fitted_raises() -> None:
    X, _ = churn_table(100)
    with pytest.raises(NotFittedError, match="fit"):
        CalibratedChurnClassifier().predict_proba(X)
    with pytest.raises(NotFittedError):
        CalibratedChurnClassifier().predict(X)


def test_pickle_round_trip(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    clf = CalibratedChurnClassifier(model="logistic", random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_deterministic_with_a_seed(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    first = CalibratedChurnClassifier(random_state=3).fit(X, y).predict_proba(X)
    second = CalibratedChurnClassifier(random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_does_not_mutate_input(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    before, labels = X.copy(), y.copy()
    clf = CalibratedChurnClassifier(model="logistic", random_state=0).fit(X, y)
    clf.predict_proba(X)
    pd.testing.assert_frame_equal(X, before)
    np.testing.assert_array_equal(y, labels)


def test_text_labels_and_extra_columns(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    labels = np.where(y == 1, "Yes", "No")
    clf = CalibratedChurnClassifier(model="logistic", random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["No", "Yes"]
    wider = X.assign(extra=1.0)
    np.testing.assert_array_equal(clf.predict_proba(wider), clf.predict_proba(X))
    assert set(clf.predict(X)) <= {"No", "Yes"}


def test_unseen_category_and_all_missing_rows(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    clf = CalibratedChurnClassifier(random_state=0).fit(X, y)
    odd = X.head(3).copy()
    odd["contract"] = ["Lifetime", np.nan, "  "]
    odd["tenure"] = np.nan
    proba = clf.predict_proba(odd)
    assert np.all(np.isfinite(proba))


def test_numpy_input() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 3))
    y = (rng.random(600) < 1 / (1 + np.exp(-2 * X[:, 0]))).astype(int)
    proba = CalibratedChurnClassifier(random_state=0).fit(X, y).predict_proba(X)[:, 1]
    assert roc_auc_score(y, proba) > 0.75


def test_contract_errors(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    with pytest.raises(ContractError, match="two outcome classes"):
        CalibratedChurnClassifier().fit(X, np.zeros(len(X)))
    with pytest.raises(ContractError, match="rows"):
        CalibratedChurnClassifier().fit(X, y[:-1])
    clf = CalibratedChurnClassifier(model="logistic", random_state=0).fit(X, y)
    with pytest.raises(ContractError, match="'contract'"):
        clf.predict_proba(X.drop(columns=["contract"]))
    with pytest.raises(ValueError, match="model"):
        CalibratedChurnClassifier(model="forest").fit(X, y)  # type: ignore[arg-type]
