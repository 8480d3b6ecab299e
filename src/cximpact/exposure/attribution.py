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

__all__ = [
    "Attribution",
    "allocate_attributable_risk",
    "allocate_pairs",
    "odds",
    "over_horizon",
    "sigmoid",
    "staying",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


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
    contributions = np.asarray(contributions, dtype=float)
    rows, cols = np.nonzero(contributions > 0)
    p_full, p_base, pairs = allocate_pairs(
        np.asarray(logit, dtype=float), rows, contributions[rows, cols], horizon_factor
    )
    allocated = np.zeros_like(contributions)
    allocated[rows, cols] = pairs
    return Attribution(p_full=p_full, p_base=p_base, allocated=allocated)


def allocate_pairs(
    logit: FloatArray, row: IntArray, effect: FloatArray, horizon_factor: float = 1.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The allocation of :func:`allocate_attributable_risk` on (customer, issue) pairs.

    The long layout costs one entry per issue a customer has, not customers x issues, which is
    what the bootstrap and large batches need.

    Parameters
    ----------
    logit
        Churn log-odds with every issue, one per customer, shape ``(n,)``.
    row
        Customer (index into ``logit``) of each pair.
    effect
        The issue's contribution to that customer's log-odds, one per pair; negative effects
        get no share.
    horizon_factor
        As in :func:`allocate_attributable_risk`.

    Returns
    -------
    (p_full, p_base, allocated)
        Per customer, per customer, and per pair; ``allocated`` sums per customer to
        ``p_full - p_base``.

    Notes
    -----
    Computed on odds (see :func:`odds` and :func:`staying`): removing effect ``e`` multiplies
    the odds by ``exp(-e)``, so each pair costs a product and a power instead of a ``tanh``
    of its own. An issue without effect multiplies the odds by exactly one, so its marginal
    contribution is exactly zero.
    """
    n = len(logit)
    positive = np.clip(effect, 0.0, None)
    base = odds(logit)
    stay = staying(base, horizon_factor)  # 1 - p_full
    removed = np.bincount(row, positive, minlength=n)  # pair order, as a per-customer sum
    stay_base = staying(base * np.exp(-removed), horizon_factor)  # 1 - p_base
    marginal = staying(base[row] * np.exp(-positive), horizon_factor)
    marginal -= stay[row]  # p_full - P(churn without this issue)
    total = np.bincount(row, marginal, minlength=n)
    ratio = np.divide(stay_base - stay, total, out=np.zeros(n), where=total > 0)
    return 1.0 - stay, 1.0 - stay_base, marginal * ratio[row]


#: Log-odds beyond this size give probabilities of exactly 0 or 1 in doubles; clipping them
#: keeps ``exp`` finite.
LOGIT_LIMIT = 700.0


def odds(logit: FloatArray) -> FloatArray:
    """``exp(logit)``, the odds of churn, with the log-odds clipped to ``+-LOGIT_LIMIT``."""
    out: FloatArray = np.exp(np.clip(logit, -LOGIT_LIMIT, LOGIT_LIMIT))
    return out


def staying(odds: FloatArray, horizon_factor: float, out: FloatArray | None = None) -> FloatArray:
    """Probability of staying over the horizon at these odds of churn: ``(1 + odds) ** -f``.

    ``1 - over_horizon(sigmoid(x), f)`` for ``odds = exp(x)``, since ``1 - sigmoid(x) =
    1 / (1 + exp(x))``. Written into ``out`` when given (which may be ``odds`` itself).
    """
    z = np.add(odds, 1.0, out=out)
    if horizon_factor == 1.0:
        return np.reciprocal(z, out=z)
    np.log(z, out=z)  # exp(-f log z): a third cheaper than np.power, as accurate here
    z *= -horizon_factor
    return np.exp(z, out=z)
