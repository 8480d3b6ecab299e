"""The BG/NBD model of repeat purchasing ("buy till you die") for non-contractual customers.

Fader, Hardie & Lee (2005), *"Counting Your Customers" the Easy Way: An Alternative to the
Pareto/NBD Model*, Marketing Science 24(2), 275-284 (FHL 2005 below). Each customer

* buys, while alive, as a Poisson process with rate ``λ``; ``λ ~ Gamma(r, α)`` (shape ``r``,
  rate ``α``) across customers;
* after each purchase becomes inactive ("dies") with probability ``p``;
  ``p ~ Beta(a, b)`` across customers.

A customer is summarised by ``(x, t_x, T)``: ``x`` repeat purchases (frequency), the time
``t_x`` of the last one (recency, measured from the first purchase) and the time ``T`` since
the first purchase. cximpact measures time in **weeks**; ``α`` is in the same unit.

The likelihood of one customer (FHL 2005 eq. 6) is

.. math::

    L(r, α, a, b \\mid x, t_x, T) = \\frac{B(a, b + x)}{B(a, b)}
        \\frac{Γ(r + x) α^r}{Γ(r) (α + T)^{r + x}}
      + δ_{x > 0} \\frac{B(a + 1, b + x - 1)}{B(a, b)}
        \\frac{Γ(r + x) α^r}{Γ(r) (α + t_x)^{r + x}},

computed here on the log scale with ``gammaln``/``betaln`` and ``logaddexp``. The parameters
are estimated by maximum likelihood over their logarithms (L-BFGS-B with the analytic
gradient), after collapsing identical ``(x, t_x, T)`` rows into weighted groups.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special

from cximpact.errors import ConfigError, ContractError, NotFittedError

__all__ = [
    "PARAM_NAMES",
    "BetaGeoFitter",
    "EstimatorParams",
    "bgnbd_log_likelihood",
    "group_rows",
    "validate_rfm",
]

#: Parameter names, in the order used by the optimiser.
PARAM_NAMES: Final[tuple[str, str, str, str]] = ("r", "alpha", "a", "b")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ArrayLike = npt.ArrayLike

#: Relative step used to step around the removable singularity of E[X(t)] at ``a = 1``.
_A_ONE_EPS: Final = 1e-7


def _as_float_array(values: ArrayLike, name: str) -> FloatArray:
    """One-dimensional float copy of ``values``; raise ContractError on bad shape or NaN."""
    array = np.asarray(values, dtype=np.float64).reshape(-1) if np.ndim(values) else None
    if array is None:
        raise ContractError(f"{name}: expected a one-dimensional array, got a scalar")
    if not np.all(np.isfinite(array)):
        raise ContractError(f"{name}: expected finite numbers, found NaN or infinity")
    return array


def validate_rfm(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check and convert a customer summary ``(x, t_x, T)``.

    Parameters
    ----------
    frequency
        Repeat purchases ``x`` (non-negative integers).
    recency
        Time of the last purchase since the first, ``t_x`` (weeks), ``0 <= t_x <= T``;
        ``0`` when ``x = 0``.
    T
        Time since the first purchase (weeks), ``T >= 0`` (a customer with ``T = 0`` adds
        nothing to the likelihood).

    Returns
    -------
    tuple of numpy.ndarray
        Float copies of ``frequency``, ``recency`` and ``T``; the inputs are never modified.

    Raises
    ------
    ContractError
        Lengths differ, values are not finite, or the constraints above are broken.
    """
    x = _as_float_array(frequency, "frequency")
    t_x = _as_float_array(recency, "recency")
    big_t = _as_float_array(T, "T")
    if not len(x) == len(t_x) == len(big_t):
        raise ContractError(
            f"frequency, recency and T must have the same length, got {len(x)}, {len(t_x)} and "
            f"{len(big_t)}; pass one value per customer"
        )
    if len(x) == 0:
        raise ContractError("frequency, recency and T are empty; pass at least one customer")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ContractError(
            "frequency must hold non-negative integers (repeat purchases); found "
            f"{x[(x < 0) | (x != np.round(x))][0]!r}"
        )
    if np.any(big_t < 0):
        raise ContractError(
            "T (weeks since the first purchase) must be >= 0 for every customer; drop customers "
            "whose first purchase is after the end of the calibration period"
        )
    if np.any(t_x < 0) or np.any(t_x > big_t * (1 + 1e-12)):
        raise ContractError("recency must satisfy 0 <= recency <= T for every customer")
    if np.any((x == 0) & (t_x != 0)):
        raise ContractError("recency must be 0 for customers with frequency 0 (no repeat purchase)")
    return x, t_x, big_t


@dataclass(frozen=True)
class _Column:
    """One column's distinct values and, per group, the index of its value among them."""

    values: FloatArray
    index: IntArray


@dataclass(frozen=True)
class _Groups:
    """Distinct ``(x, t_x, T)`` rows of a customer summary.

    ``weights`` counts the customers behind each group and ``row_group`` maps every input row
    to its group. Because ``x``, ``t_x`` and ``T`` each take few distinct values in daily data,
    the special functions are evaluated once per distinct column value and gathered.
    """

    x: _Column
    t_x: _Column
    T: _Column
    weights: FloatArray
    row_group: IntArray

    def column(self, which: _Column) -> FloatArray:
        """The per-group values of a column."""
        out: FloatArray = which.values[which.index]
        return out


def _factorize(values: FloatArray) -> tuple[IntArray, FloatArray]:
    """Hash-based codes and distinct values, in order of first appearance."""
    codes, uniques = pd.factorize(values, sort=False)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=np.float64)


def _group(x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> _Groups:
    """Collapse identical ``(x, t_x, T)`` rows (hashing, O(n)); groups in order of appearance."""
    (cx, ux), (ctx, utx), (ct, ut) = _factorize(x), _factorize(t_x), _factorize(big_t)
    if len(ux) * len(utx) * len(ut) < 2**62:
        key = (cx * len(utx) + ctx) * len(ut) + ct
    else:  # pragma: no cover - needs about 2**21 distinct values in every column
        key = np.unique(np.column_stack([cx, ctx, ct]), axis=0, return_inverse=True)[1]
    row_group, _ = pd.factorize(key, sort=False)
    row_group = np.asarray(row_group, dtype=np.int64)
    n_groups = int(row_group.max()) + 1
    first = np.empty(n_groups, dtype=np.int64)
    first[row_group[::-1]] = np.arange(len(row_group) - 1, -1, -1)  # first row of each group
    weights = np.bincount(row_group, minlength=n_groups).astype(np.float64)
    return _Groups(
        _Column(ux, cx[first]), _Column(utx, ctx[first]), _Column(ut, ct[first]), weights, row_group
    )


def group_rows(*columns: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Collapse identical rows of equally long columns into distinct rows and counts.

    Parameters
    ----------
    *columns
        One-dimensional arrays of the same length (at least one row).

    Returns
    -------
    unique : list of numpy.ndarray
        The distinct rows, column by column, in order of first appearance.
    counts : numpy.ndarray
        How many input rows each distinct row stands for (float, to be used as weights).
    """
    arrays = [np.asarray(c, dtype=np.float64) for c in columns]
    key = np.zeros(len(arrays[0]), dtype=np.int64)
    for array in arrays:  # mixed-radix code of the row, re-factorized to stay small
        codes, uniques = _factorize(array)
        key, _ = _factorize_int(key * len(uniques) + codes)
    n_groups = int(key.max()) + 1
    first = np.empty(n_groups, dtype=np.int64)
    first[key[::-1]] = np.arange(len(key) - 1, -1, -1)
    counts = np.bincount(key, minlength=n_groups).astype(np.float64)
    return [array[first] for array in arrays], counts


def _factorize_int(values: IntArray) -> tuple[IntArray, IntArray]:
    """Hash-based codes of integers, in order of first appearance."""
    codes, uniques = pd.factorize(values, sort=False)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=np.int64)


def bgnbd_log_likelihood(
    params: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer BG/NBD log-likelihood (FHL 2005 eq. 6).

    .. math::

        \\ln L = A_1 + \\ln\\left(e^{A_2} + δ_{x>0} e^{A_3}\\right), \\quad
        A_1 = \\ln Γ(r + x) - \\ln Γ(r) + r \\ln α,

        A_2 = \\ln B(a, b + x) - \\ln B(a, b) - (r + x) \\ln(α + T),

        A_3 = \\ln B(a + 1, b + x - 1) - \\ln B(a, b) - (r + x) \\ln(α + t_x).

    Parameters
    ----------
    params
        ``(r, α, a, b)``, all positive.
    frequency, recency, T
        Customer summaries ``x``, ``t_x`` (weeks) and ``T`` (weeks).

    Returns
    -------
    numpy.ndarray
        ``ln L`` for each customer.
    """
    value, _ = _log_likelihood_and_grad(np.asarray(params, dtype=np.float64), frequency, recency, T)
    return value


def _log_likelihood_and_grad(
    params: FloatArray, x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike, *, grad: bool = False
) -> tuple[FloatArray, FloatArray | None]:
    """Per-row log-likelihood and, optionally, its gradient w.r.t. ``(r, α, a, b)`` (rows x 4)."""
    groups = _group(*validate_rfm(x, t_x, big_t))
    value, gradient = _grouped_log_likelihood(params, groups, grad=grad)
    rows = groups.row_group
    return value[rows], None if gradient is None else gradient[rows]


def _grouped_log_likelihood(
    params: FloatArray, g: _Groups, *, grad: bool = False
) -> tuple[FloatArray, FloatArray | None]:
    """Log-likelihood (and gradient, groups x 4) of each group, FHL 2005 eq. 6.

    Every special function is evaluated on the distinct values of one column only.
    """
    r, alpha, a, b = (float(v) for v in params)
    ux = g.x.values
    ux_safe = np.where(ux > 0, ux, 1.0)  # keeps b + x - 1 > 0 where A3 is unused
    betaln_ab = special.betaln(a, b)
    ix = g.x.index
    x = ux[ix]
    repeat = x > 0
    a1 = (special.gammaln(r + ux) - special.gammaln(r) + r * math.log(alpha))[ix]
    log_alpha_t = np.log(alpha + g.T.values)[g.T.index]
    log_alpha_tx = np.log(alpha + g.t_x.values)[g.t_x.index]
    a2 = (special.betaln(a, b + ux) - betaln_ab)[ix] - (r + x) * log_alpha_t
    a3 = (special.betaln(a + 1.0, b + ux_safe - 1.0) - betaln_ab)[ix] - (r + x) * log_alpha_tx
    a3 = np.where(repeat, a3, -np.inf)
    mix = np.logaddexp(a2, a3)
    value: FloatArray = a1 + mix
    if not grad:
        return value, None
    w2 = np.exp(a2 - mix)
    w3 = np.exp(a3 - mix)
    psi_ab = special.digamma(a + b)
    psi_abx = special.digamma(a + b + ux)
    d_r = (special.digamma(r + ux) - special.digamma(r) + math.log(alpha))[ix]
    d_r = d_r - w2 * log_alpha_t - w3 * log_alpha_tx
    inv_t = (1.0 / (alpha + g.T.values))[g.T.index]
    inv_tx = (1.0 / (alpha + g.t_x.values))[g.t_x.index]
    d_alpha = r / alpha - (r + x) * (w2 * inv_t + w3 * inv_tx)
    d_a2 = (psi_ab - psi_abx)[ix]
    d_b2 = (special.digamma(b + ux) - special.digamma(b) + psi_ab - psi_abx)[ix]
    d_a3 = special.digamma(a + 1.0) - special.digamma(a) + d_a2
    d_b3 = (special.digamma(b + ux_safe - 1.0) - special.digamma(b) + psi_ab - psi_abx)[ix]
    d_a = w2 * d_a2 + w3 * d_a3
    d_b = w2 * d_b2 + w3 * d_b3
    gradient: FloatArray = np.column_stack([d_r, d_alpha, d_a, d_b])
    return value, gradient


def _hyp2f1(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike) -> FloatArray:
    """Gaussian hypergeometric function ``2F1(a, b; c; z)`` (scipy), as a float array."""
    out: FloatArray = np.asarray(special.hyp2f1(a, b, c, z), dtype=np.float64)
    return out


class EstimatorParams:
    """``get_params`` / ``set_params`` of the scikit-learn estimator contract, without sklearn.

    The parameters are the keyword arguments of ``__init__``, stored under the same names.
    """

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters and their current values.

        Parameters
        ----------
        deep
            Ignored (no nested estimators); kept for scikit-learn compatibility.

        Returns
        -------
        dict
            Parameter name to value.
        """
        names = [
            name for name in inspect.signature(type(self).__init__).parameters if name != "self"
        ]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> Self:
        """Set constructor parameters; ConfigError for an unknown name.

        Returns
        -------
        Self
            The estimator.
        """
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ConfigError(
                    f"{type(self).__name__} has no parameter {name!r}; valid: {', '.join(valid)}"
                )
            setattr(self, name, value)
        return self


class BetaGeoFitter(EstimatorParams):
    """BG/NBD model (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

    Follows the scikit-learn estimator contract: ``__init__`` only stores its arguments,
    :meth:`fit` returns ``self`` and sets attributes ending in ``_``.

    Parameters
    ----------
    penalizer
        L2 penalty on the parameters, added to the mean negative log-likelihood as
        ``penalizer * (r² + α² + a² + b²)`` (as in the ``lifetimes`` package). ``0`` is plain
        maximum likelihood.
    tol
        Convergence tolerance of the optimiser (projected gradient of the mean
        log-likelihood over log-parameters).
    max_iter
        Maximum optimiser iterations.

    Attributes
    ----------
    params_ : dict of str to float
        ``{"r", "alpha", "a", "b"}`` (``alpha`` in weeks).
    log_likelihood_ : float
        Total log-likelihood at the estimate (without the penalty).
    n_customers_ : int
        Customers the model was fitted on.
    n_groups_ : int
        Distinct ``(x, t_x, T)`` rows the likelihood was evaluated on.
    converged_ : bool
        Whether the optimiser reported success.

    Examples
    --------
    >>> model = BetaGeoFitter().fit([0, 2, 5], [0.0, 10.0, 30.0], [39.0, 38.0, 35.0])
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    """

    def __init__(self, penalizer: float = 0.0, tol: float = 1e-10, max_iter: int = 1000) -> None:
        self.penalizer = penalizer
        self.tol = tol
        self.max_iter = max_iter

    # --- fitting ---------------------------------------------------------------------------

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BetaGeoFitter:
        """Estimate ``(r, α, a, b)`` by maximum likelihood.

        Parameters
        ----------
        frequency
            Repeat purchases ``x`` per customer (distinct purchase days minus one).
        recency
            Weeks from the first to the last purchase, ``t_x``.
        T
            Weeks from the first purchase to the end of the calibration period.

        Returns
        -------
        BetaGeoFitter
            ``self``, fitted.

        Raises
        ------
        ContractError
            Invalid inputs (see :func:`validate_rfm`).
        ConfigError
            ``penalizer`` is negative.
        """
        if not self.penalizer >= 0:
            raise ConfigError(f"penalizer must be >= 0, got {self.penalizer!r}")
        x, t_x, big_t = validate_rfm(frequency, recency, T)
        groups = _group(x, t_x, big_t)
        weights = groups.weights
        total = float(weights.sum())
        penalizer = float(self.penalizer)

        def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(log_params)
            value, gradient = _grouped_log_likelihood(params, groups, grad=True)
            assert gradient is not None
            loss = -float(weights @ value) / total + penalizer * float(params @ params)
            d_params = -(weights @ gradient) / total + 2.0 * penalizer * params
            return loss, d_params * params  # chain rule: d/d log θ = θ d/dθ

        start = self._start(groups, objective)
        result = optimize.minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-20.0, 20.0)] * 4,
            options={"maxiter": self.max_iter, "ftol": 1e-15, "gtol": self.tol},
        )
        params = np.exp(result.x)
        value, _ = _grouped_log_likelihood(params, groups)
        self.params_ = {name: float(v) for name, v in zip(PARAM_NAMES, params, strict=True)}
        self.log_likelihood_ = float(weights @ value)
        self.n_customers_ = len(x)
        self.n_groups_ = len(weights)
        self.converged_ = bool(result.success) or float(np.max(np.abs(result.jac))) < 1e-6
        return self

    @staticmethod
    def _start(groups: _Groups, objective: Any) -> FloatArray:
        """Best of a few moment-based starting points (log scale).

        The purchase rate while alive is about ``x / T``; its mean is ``r / α``. Starting with
        ``r = 1`` and ``α = 1 / mean(x / T)`` puts the Gamma mean in the right place; ``a`` and
        ``b`` start at a few shapes of the dropout Beta.
        """
        weights = groups.weights
        x, big_t = groups.column(groups.x), groups.column(groups.T)
        ratio = np.divide(x, big_t, out=np.zeros_like(x), where=big_t > 0)
        rate = float(weights @ ratio) / float(weights.sum())
        alpha0 = 1.0 / max(rate, 1e-3)
        candidates = [
            (r0, r0 * alpha0, a0, b0)
            for r0 in (0.5, 1.0)
            for a0, b0 in ((1.0, 1.0), (0.5, 2.0), (1.0, 5.0))
        ]
        logs = np.log(np.array(candidates, dtype=np.float64))
        losses = [objective(candidate)[0] for candidate in logs]
        best: FloatArray = logs[int(np.nanargmin(losses))]
        return best

    def _require_fitted(self) -> tuple[float, float, float, float]:
        """The fitted ``(r, α, a, b)``; NotFittedError before :meth:`fit`."""
        params = getattr(self, "params_", None)
        if params is None:
            raise NotFittedError(
                "BetaGeoFitter is not fitted yet; call fit(frequency, recency, T) first"
            )
        return params["r"], params["alpha"], params["a"], params["b"]

    # --- predictions -----------------------------------------------------------------------

    def expected_purchases(self, t: ArrayLike) -> FloatArray:
        """Unconditional expected purchases in ``(0, t]`` of a new customer, E[X(t)].

        FHL 2005 eq. 7:

        .. math::

            E[X(t)] = \\frac{a + b - 1}{a - 1}\\left[1 - \\left(\\frac{α}{α + t}\\right)^r
                {}_2F_1\\left(r, b; a + b - 1; \\frac{t}{α + t}\\right)\\right].

        At ``a = 1`` (a removable singularity) the mean of ``a ± 1e-7 a`` is used.

        Parameters
        ----------
        t
            Weeks since the first purchase (scalar or array, ``>= 0``).

        Returns
        -------
        numpy.ndarray
            E[X(t)], same shape as ``t``. Counts exclude the first purchase at time 0.
        """
        r, alpha, a, b = self._require_fitted()
        time = np.asarray(t, dtype=np.float64)
        if abs(a - 1.0) < _A_ONE_EPS:
            low = self._expected(r, alpha, a * (1 - 10 * _A_ONE_EPS), b, time)
            high = self._expected(r, alpha, a * (1 + 10 * _A_ONE_EPS), b, time)
            return np.asarray(0.5 * (low + high), dtype=np.float64)
        return self._expected(r, alpha, a, b, time)

    @staticmethod
    def _expected(r: float, alpha: float, a: float, b: float, t: FloatArray) -> FloatArray:
        """FHL 2005 eq. 7 at given parameters."""
        z = t / (alpha + t)
        bracket = 1.0 - (alpha / (alpha + t)) ** r * _hyp2f1(r, b, a + b - 1.0, z)
        out: FloatArray = (a + b - 1.0) / (a - 1.0) * bracket
        return out

    def predict_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Conditional expected purchases in ``(T, T + t]``, E[Y(t) | x, t_x, T].

        FHL 2005 eq. 10:

        .. math::

            E[Y(t) \\mid x, t_x, T] = \\frac{\\frac{a + b + x - 1}{a - 1}
                \\left[1 - \\left(\\frac{α + T}{α + T + t}\\right)^{r + x}
                {}_2F_1\\left(r + x, b + x; a + b + x - 1; \\frac{t}{α + T + t}\\right)\\right]}
                {1 + δ_{x > 0} \\frac{a}{b + x - 1}\\left(\\frac{α + T}{α + t_x}\\right)^{r + x}}.

        Parameters
        ----------
        t
            Length of the future period (weeks); scalar or array broadcastable to the customers.
        frequency, recency, T
            Customer summaries ``x``, ``t_x``, ``T`` (weeks).

        Returns
        -------
        numpy.ndarray
            Expected repeat purchases per customer.
        """
        r, alpha, a, b = self._require_fitted()
        x, t_x, big_t = validate_rfm(frequency, recency, T)
        time = np.asarray(t, dtype=np.float64)
        if time.ndim == 0 and len(x) > 1:  # evaluate once per distinct (x, t_x, T)
            g = _group(x, t_x, big_t)
            if len(g.weights) < len(x):
                columns = g.column(g.x), g.column(g.t_x), g.column(g.T)
                grouped = self._conditional_at(r, alpha, a, b, time, *columns)
                out: FloatArray = grouped[g.row_group]
                return out
        return self._conditional_at(r, alpha, a, b, time, x, t_x, big_t)

    @staticmethod
    def _conditional_at(
        r: float,
        alpha: float,
        a: float,
        b: float,
        t: FloatArray,
        x: FloatArray,
        t_x: FloatArray,
        big_t: FloatArray,
    ) -> FloatArray:
        """FHL 2005 eq. 10, stepping around the removable singularity at ``a = 1``."""
        if abs(a - 1.0) < _A_ONE_EPS:
            low = BetaGeoFitter._conditional(
                r, alpha, a * (1 - 10 * _A_ONE_EPS), b, t, x, t_x, big_t
            )
            high = BetaGeoFitter._conditional(
                r, alpha, a * (1 + 10 * _A_ONE_EPS), b, t, x, t_x, big_t
            )
            return np.asarray(0.5 * (low + high), dtype=np.float64)
        return BetaGeoFitter._conditional(r, alpha, a, b, t, x, t_x, big_t)

    @staticmethod
    def _conditional(
        r: float,
        alpha: float,
        a: float,
        b: float,
        t: FloatArray,
        x: FloatArray,
        t_x: FloatArray,
        big_t: FloatArray,
    ) -> FloatArray:
        """FHL 2005 eq. 10 at given parameters."""
        z = t / (alpha + big_t + t)
        hyp = _hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        ratio = np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t)))
        numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - ratio * hyp)
        out: FloatArray = numerator * BetaGeoFitter._alive(r, alpha, a, b, x, t_x, big_t)
        return out

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Probability that a customer is still active at ``T``, P(alive | x, t_x, T).

        FHL 2005 eq. 11 (and Fader, Hardie & Lee 2008 note):

        .. math::

            P(\\text{alive} \\mid x, t_x, T) = \\left[1 + δ_{x > 0} \\frac{a}{b + x - 1}
                \\left(\\frac{α + T}{α + t_x}\\right)^{r + x}\\right]^{-1}.

        Parameters
        ----------
        frequency, recency, T
            Customer summaries ``x``, ``t_x``, ``T`` (weeks).

        Returns
        -------
        numpy.ndarray
            Probabilities in ``(0, 1]``; exactly ``1`` for customers with ``x = 0``.
        """
        r, alpha, a, b = self._require_fitted()
        x, t_x, big_t = validate_rfm(frequency, recency, T)
        return self._alive(r, alpha, a, b, x, t_x, big_t)

    @staticmethod
    def _alive(
        r: float,
        alpha: float,
        a: float,
        b: float,
        x: FloatArray,
        t_x: FloatArray,
        big_t: FloatArray,
    ) -> FloatArray:
        """P(alive) computed on the log scale to avoid overflow for large ``x``."""
        repeat = x > 0
        x_safe = np.where(repeat, x, 1.0)
        log_term = (
            np.log(a)
            - np.log(b + x_safe - 1.0)
            + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        )
        log_term = np.where(repeat, log_term, -np.inf)
        out: FloatArray = np.exp(-np.logaddexp(0.0, log_term))
        return out

    def __repr__(self) -> str:
        return (
            f"BetaGeoFitter(penalizer={self.penalizer!r}, tol={self.tol!r}, "
            f"max_iter={self.max_iter!r})"
        )
