"""The uplift estimator follows the scikit-learn contract and refuses too little data."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from cximpact.actions.uplift import TwoModelUplift, can_learn_uplift
from cximpact.errors import NotFittedError


def _data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    t = rng.random(n) < 0.5
    y = (rng.random(n) < np.where(t, 0.2, 0.4)).astype(int)
    return X, y, t


def test_contract_fit_returns_self_predict_needs_fit_pickles() -> None:
    X, y, t = _data()
    model = TwoModelUplift()
    with pytest.raises(NotFittedError):
        model.predict(X)
    X_before = X.copy()
    assert model.fit(X, y, treatment=t) is model
    assert np.array_equal(X, X_before)  # input not mutated
    restored = pickle.loads(pickle.dumps(model))
    assert np.array_equal(restored.predict(X), model.predict(X))
    assert np.array_equal(TwoModelUplift().fit(X, y, treatment=t).predict(X), model.predict(X))
    assert model.predict(X).mean() == pytest.approx(0.2, abs=0.08)  # 0.4 - 0.2
    assert model.get_params() == {"estimator": None, "min_per_arm": 30}


def test_too_few_outcomes_or_one_class_per_arm_is_refused() -> None:
    X, y, t = _data(40)
    with pytest.raises(ValueError, match="each arm needs 30"):
        TwoModelUplift().fit(X, y, treatment=t)
    assert not can_learn_uplift(np.array([1, 0] * 50), np.zeros(100))
    assert can_learn_uplift(np.array([1, 1, 0, 0] * 20), np.array([1, 0] * 40))
