"""Attributable exposure: how much of a customer's churn risk each open issue explains.

For a customer with issue contributions ``e_k`` to the churn log-odds (``e_k = beta_k * x_k``),

* ``p_full = sigmoid(eta)`` is the risk with every issue,
* ``p_base = sigmoid(eta - sum_k e_k+)`` is the risk had none of the issues happened,
* ``m_k = p_full - sigmoid(eta - e_k+)`` is issue *k*'s marginal contribution,
* ``a_k = (p_full - p_base) * m_k / sum_j m_j`` is the share allocated to issue *k*.

Issues never lower risk in this accounting (``e_k+ = max(e_k, 0)``). The allocation satisfies
``sum_k a_k = p_full - p_base <= p_full``: per-issue exposures add up to the customer's
attributable risk and never double count it. With a single issue ``a_k = m_k`` exactly; with
several, it is the proportional rule (efficiency and symmetry of the Shapley value, without its
cost).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Attribution", "allocate_attributable_risk", "over_horizon", "sigmoid"]

FloatArray = NDArray[np.float64]


def sigmoid(x: FloatArray) -> FloatArray:
    """Logistic function, numerically safe for large ``|x|``."""
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


@dataclass(frozen=True)
class Attribution:
    """Risk with and without issues, and the per-issue allocation (rows = customers)."""

    p_full: FloatArray
    p_base: FloatArray
    allocated: FloatArray  # shape (customers, issues), probabilities


def over_horizon(p: FloatArray, factor: float) -> FloatArray:
    """Probability over ``factor`` times the period of ``p``: ``1 - (1 - p) ** factor``.

    A constant hazard within the period is assumed (the usual conversion of a churn rate).
    """
    out: FloatArray = 1.0 - np.power(1.0 - p, factor)
    return out


def allocate_attributable_risk(
    logit: FloatArray, contributions: FloatArray, horizon_factor: float = 1.0
) -> Attribution:
    """Split each customer's issue-driven risk across their issues.

    Parameters
    ----------
    logit
        Churn log-odds with every issue, shape ``(n,)``.
    contributions
        Each issue's additive contribution to the log-odds, shape ``(n, k)``; zero where the
        customer does not have the issue.
    horizon_factor
        Length of the horizon over the period the log-odds refer to; probabilities are
        converted with :func:`over_horizon` before they are compared.

    Returns
    -------
    Attribution
        ``allocated[i].sum() == p_full[i] - p_base[i]`` for every customer ``i``.
    """
    positive = np.clip(np.asarray(contributions, dtype=float), 0.0, None)
    p_full = over_horizon(sigmoid(logit), horizon_factor)
    p_base = over_horizon(sigmoid(logit - positive.sum(axis=1)), horizon_factor)
    marginal = p_full[:, None] - over_horizon(sigmoid(logit[:, None] - positive), horizon_factor)
    total = marginal.sum(axis=1)
    share = np.divide(
        marginal, total[:, None], out=np.zeros_like(marginal), where=total[:, None] > 0
    )
    allocated = share * (p_full - p_base)[:, None]
    return Attribution(p_full=p_full, p_base=p_base, allocated=allocated)
