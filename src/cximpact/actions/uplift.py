"""Uplift of an action on churn, learned from past actions and their held-out twins.

A two-model (T-learner) estimator: one churn classifier on treated customers, one on held-out
customers; the uplift of treating a customer is the churn probability it removes,
``tau(x) = P(churn | x, held out) - P(churn | x, treated)`` (Kunzel et al. 2019, "Metalearners
for estimating heterogeneous treatment effects", PNAS 116(10)). Until each arm has enough
outcomes of both kinds, planning uses the playbook's assumed effectiveness instead, and marks
its numbers ``assumption``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression

from cximpact.errors import NotFittedError

__all__ = ["TwoModelUplift", "can_learn_uplift", "uplift_features"]


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-4, 1 - 1e-4)
    return np.asarray(np.log(q / (1 - q)), dtype=float)


def uplift_features(frame: pd.DataFrame) -> np.ndarray:
    """Features of the uplift model: log-odds of the churn probability and log lifetime value.

    Log-odds, so that a logistic model of churn that equals the risk model is linear in them.

    Parameters
    ----------
    frame : DataFrame
        With ``churn_probability`` (0-1) and ``value`` (currency).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 2)``.
    """
    return np.column_stack(
        [
            _logit(frame["churn_probability"].to_numpy(dtype=float)),
            np.log1p(frame["value"].clip(lower=0).to_numpy(dtype=float)),
        ]
    )


def can_learn_uplift(treated: np.ndarray, churned: np.ndarray, min_per_arm: int = 30) -> bool:
    """Whether each arm has ``min_per_arm`` outcomes and both churned and retained customers."""
    treated, churned = np.asarray(treated, bool), np.asarray(churned, bool)
    for arm in (treated, ~treated):
        y = churned[arm]
        if len(y) < min_per_arm or y.all() or not y.any():
            return False
    return True


class TwoModelUplift(BaseEstimator):  # type: ignore[misc]
    """Two-model uplift estimator of the churn reduction an action buys.

    Parameters
    ----------
    estimator : classifier, optional
        A scikit-learn classifier with ``predict_proba``, cloned for each arm;
        ``LogisticRegression()`` when None.
    min_per_arm : int, optional
        Fewest outcomes per arm needed to fit.

    Attributes
    ----------
    treated_model_, control_model_ : classifier
        The fitted churn models of each arm.
    """

    def __init__(self, estimator: Any = None, min_per_arm: int = 30) -> None:
        self.estimator = estimator
        self.min_per_arm = min_per_arm

    def fit(self, X: np.ndarray, y: np.ndarray, *, treatment: np.ndarray) -> TwoModelUplift:
        """Fit one churn model per arm.

        Parameters
        ----------
        X : array of shape (n, k)
            Features (see :func:`uplift_features`).
        y : array of shape (n,)
            1 when the customer churned.
        treatment : array of shape (n,)
            1 when the customer was treated, 0 when held out.

        Returns
        -------
        TwoModelUplift
            ``self``.

        Raises
        ------
        ValueError
            If an arm lacks outcomes or one of the two classes.
        """
        X, y, t = np.asarray(X, float), np.asarray(y, int), np.asarray(treatment, bool)
        if not can_learn_uplift(t, y.astype(bool), self.min_per_arm):
            raise ValueError(
                f"each arm needs {self.min_per_arm} outcomes with churned and retained customers"
            )
        base = self.estimator if self.estimator is not None else LogisticRegression()
        self.treated_model_ = clone(base).fit(X[t], y[t])
        self.control_model_ = clone(base).fit(X[~t], y[~t])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Churn probability removed by treating each customer (may be negative).

        Raises
        ------
        NotFittedError
            If called before :meth:`fit`.
        """
        if not hasattr(self, "treated_model_"):
            raise NotFittedError("TwoModelUplift is not fitted; call fit(X, y, treatment=...)")
        X = np.asarray(X, float)
        control = self.control_model_.predict_proba(X)[:, 1]
        treated = self.treated_model_.predict_proba(X)[:, 1]
        return np.asarray(control - treated, dtype=float)
