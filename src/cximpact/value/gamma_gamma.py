"""The Gamma-Gamma model of spend per transaction, and discounted customer lifetime value.

Fader & Hardie (2013), *The Gamma-Gamma Model of Monetary Value*
(http://www.brucehardie.com/notes/025/), after Colombo & Jiang (1999). A customer's
transaction values ``z_1 .. z_x`` are i.i.d. ``Gamma(p, ν)`` (shape ``p``, rate ``ν``), and
``ν ~ Gamma(q, γ)`` across customers (``γ`` is called ``v`` here). Spend is assumed
independent of the purchase process. With ``z̄`` the mean of a customer's ``x`` transaction
values, the marginal density is (Fader & Hardie 2013, eq. 3)

.. math::

    f(\\bar z \\mid p, q, γ; x) = \\frac{Γ(px + q)}{Γ(px) Γ(q)}
        \\frac{γ^q \\, \\bar z^{px - 1} x^{px}}{(γ + x \\bar z)^{px + q}},

and the expected spend per transaction given ``(z̄, x)`` is (eq. 5)

.. math::

    E[Z \\mid p, q, γ; \\bar z, x] = \\frac{p (γ + x \\bar z)}{px + q - 1}
      = \\frac{q - 1}{px + q - 1} \\frac{pγ}{q - 1} + \\frac{px}{px + q - 1} \\bar z,

a weighted average of the population mean ``pγ / (q - 1)`` and the customer's own mean.

cximpact follows Fader & Hardie (2013) for the CDNOW example: ``x`` is the number of *repeat*
purchase days and ``z̄`` the mean of their values (the first purchase is left out); see
:func:`cximpact.value.evaluate.rfm_summary`.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

from cximpact.errors import ConfigError, ContractError, NotFittedError
from cximpact.value.bgnbd import BetaGeoFitter, EstimatorParams

__all__ = [
    "GG_PARAM_NAMES",
    "WEEKS_PER_MONTH",
    "GammaGammaFitter",
    "customer_lifetime_value",
    "gamma_gamma_log_likelihood",
]

#: Parameter names, in the order used by the optimiser.
GG_PARAM_NAMES: Final[tuple[str, str, str]] = ("p", "q", "v")

#: Weeks per month used by :func:`customer_lifetime_value` (the ``lifetimes`` package's factor).
WEEKS_PER_MONTH: Final = 4.345

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def _validate(frequency: ArrayLike, monetary: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Float copies of ``frequency`` (> 0 integers) and ``monetary`` (> 0), same length."""
    x = np.asarray(frequency, dtype=np.float64).reshape(-1)
    z = np.asarray(monetary, dtype=np.float64).reshape(-1)
    if len(x) != len(z):
        raise ContractError(
            f"frequency and monetary must have the same length, got {len(x)} and {len(z)}"
        )
    if len(x) == 0:
        raise ContractError("no customers given; pass customers with at least one repeat purchase")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(z))):
        raise ContractError("frequency and monetary must be finite numbers, found NaN or infinity")
    if np.any(x <= 0) or np.any(x != np.round(x)):
        raise ContractError(
            "the Gamma-Gamma model is fitted on repeat buyers only: frequency must be a positive "
            "integer; select customers with frequency > 0"
        )
    if np.any(z <= 0):
        raise ContractError(
            "monetary (mean repeat transaction value) must be > 0; drop customers whose "
            "purchases net to zero or less (refunds) before fitting"
        )
    return x, z


def gamma_gamma_log_likelihood(
    params: ArrayLike, frequency: FloatArray, monetary: FloatArray
) -> FloatArray:
    """Per-customer Gamma-Gamma log-likelihood (Fader & Hardie 2013, eq. 3).

    .. math::

        \\ln f = \\ln Γ(px + q) - \\ln Γ(px) - \\ln Γ(q) + q \\ln γ + (px - 1) \\ln \\bar z
            + px \\ln x - (px + q) \\ln(γ + x \\bar z).

    Parameters
    ----------
    params
        ``(p, q, γ)``, all positive.
    frequency, monetary
        ``x > 0`` and ``z̄ > 0`` per customer.

    Returns
    -------
    numpy.ndarray
        Log-density of each customer's ``z̄``.
    """
    p, q, v = (float(value) for value in np.asarray(params, dtype=np.float64))
    x = np.asarray(frequency, dtype=np.float64)
    z = np.asarray(monetary, dtype=np.float64)
    px = p * x
    out: FloatArray = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * math.log(v)
        + (px - 1.0) * np.log(z)
        + px * np.log(x)
        - (px + q) * np.log(v + x * z)
    )
    return out


def _gradient(params: FloatArray, x: FloatArray, z: FloatArray) -> FloatArray:
    """Gradient of the summed log-likelihood w.r.t. ``(p, q, γ)``, per customer (rows x 3)."""
    p, q, v = (float(value) for value in params)
    px = p * x
    psi = special.digamma(px + q)
    log_vxz = np.log(v + x * z)
    d_p = x * (psi - special.digamma(px) + np.log(z) + np.log(x) - log_vxz)
    d_q = psi - special.digamma(q) + math.log(v) - log_vxz
    d_v = q / v - (px + q) / (v + x * z)
    out: FloatArray = np.column_stack([d_p, d_q, d_v])
    return out


class GammaGammaFitter(EstimatorParams):
    """Gamma-Gamma spend model (Fader & Hardie 2013), fitted by maximum likelihood.

    Follows the scikit-learn estimator contract: ``__init__`` only stores its arguments,
    :meth:`fit` returns ``self`` and sets attributes ending in ``_``.

    Parameters
    ----------
    penalizer
        L2 penalty ``penalizer * (p² + q² + γ²)`` added to the mean negative log-likelihood.
    tol
        Convergence tolerance (projected gradient over log-parameters).
    max_iter
        Maximum optimiser iterations.

    Attributes
    ----------
    params_ : dict of str to float
        ``{"p", "q", "v"}`` (``v`` is the scale ``γ`` of the paper, in currency).
    log_likelihood_ : float
        Total log-likelihood at the estimate.
    n_customers_ : int
        Repeat buyers the model was fitted on.
    converged_ : bool
        Whether the optimiser reported success.
    """

    def __init__(self, penalizer: float = 0.0, tol: float = 1e-10, max_iter: int = 1000) -> None:
        self.penalizer = penalizer
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, frequency: ArrayLike, monetary: ArrayLike) -> GammaGammaFitter:
        """Estimate ``(p, q, γ)`` from repeat buyers.

        Parameters
        ----------
        frequency
            Number of repeat transactions ``x > 0`` behind each mean.
        monetary
            Mean value ``z̄ > 0`` of those transactions.

        Returns
        -------
        GammaGammaFitter
            ``self``, fitted.

        Raises
        ------
        ContractError
            Non-positive or non-finite inputs, or lengths that differ.
        ConfigError
            ``penalizer`` is negative.
        """
        if not self.penalizer >= 0:
            raise ConfigError(f"penalizer must be >= 0, got {self.penalizer!r}")
        x, z = _validate(frequency, monetary)
        n = float(len(x))
        penalizer = float(self.penalizer)

        def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(log_params)
            value = gamma_gamma_log_likelihood(params, x, z)
            loss = -float(value.sum()) / n + penalizer * float(params @ params)
            d_params = -_gradient(params, x, z).sum(axis=0) / n + 2.0 * penalizer * params
            return loss, d_params * params

        result = optimize.minimize(
            objective,
            self._start(x, z),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-20.0, 20.0)] * 3,
            options={"maxiter": self.max_iter, "ftol": 1e-15, "gtol": self.tol},
        )
        params = np.exp(result.x)
        self.params_ = {name: float(v) for name, v in zip(GG_PARAM_NAMES, params, strict=True)}
        self.log_likelihood_ = float(gamma_gamma_log_likelihood(params, x, z).sum())
        self.n_customers_ = len(x)
        self.converged_ = bool(result.success) or float(np.max(np.abs(result.jac))) < 1e-6
        return self

    @staticmethod
    def _start(x: FloatArray, z: FloatArray) -> FloatArray:
        """Moment-based start: ``q = 4``, ``p = 4`` and ``γ`` so that ``pγ/(q-1) = mean z̄``."""
        mean = float(np.mean(z))
        p0, q0 = 4.0, 4.0
        out: FloatArray = np.log(np.array([p0, q0, mean * (q0 - 1.0) / p0]))
        return out

    def _require_fitted(self) -> tuple[float, float, float]:
        params = getattr(self, "params_", None)
        if params is None:
            raise NotFittedError(
                "GammaGammaFitter is not fitted yet; call fit(frequency, monetary) first"
            )
        return params["p"], params["q"], params["v"]

    def population_mean_spend(self) -> float:
        """Mean spend per transaction across customers, ``pγ / (q - 1)`` (infinite if ``q <= 1``).

        Returns
        -------
        float
            Currency per transaction.
        """
        p, q, v = self._require_fitted()
        return p * v / (q - 1.0) if q > 1.0 else math.inf

    def conditional_expected_average_profit(
        self, frequency: ArrayLike, monetary: ArrayLike
    ) -> FloatArray:
        """Expected spend per transaction given ``(x, z̄)`` (Fader & Hardie 2013, eq. 5).

        .. math::

            E[Z \\mid \\bar z, x] = \\frac{p (γ + x \\bar z)}{px + q - 1}.

        Customers with ``x = 0`` get the population mean ``pγ / (q - 1)`` whatever their
        ``monetary`` value.

        Parameters
        ----------
        frequency
            Repeat transactions ``x >= 0``.
        monetary
            Mean repeat transaction value ``z̄`` (ignored where ``x = 0``).

        Returns
        -------
        numpy.ndarray
            Expected spend per future transaction.
        """
        p, q, v = self._require_fitted()
        x = np.asarray(frequency, dtype=np.float64).reshape(-1)
        z = np.asarray(monetary, dtype=np.float64).reshape(-1)
        if len(x) != len(z):
            raise ContractError(
                f"frequency and monetary must have the same length, got {len(x)} and {len(z)}"
            )
        if np.any(x < 0):
            raise ContractError("frequency must be >= 0")
        z = np.where(x > 0, z, 0.0)
        out: FloatArray = p * (v + x * z) / (p * x + q - 1.0)
        return out

    def __repr__(self) -> str:
        return (
            f"GammaGammaFitter(penalizer={self.penalizer!r}, tol={self.tol!r}, "
            f"max_iter={self.max_iter!r})"
        )


def customer_lifetime_value(
    bgnbd: BetaGeoFitter,
    gg: GammaGammaFitter,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    horizon_months: int = 12,
    discount_rate_monthly: float = 0.01,
    *,
    weeks_per_month: float = WEEKS_PER_MONTH,
) -> FloatArray:
    """Discounted expected spend over the next ``horizon_months`` months.

    In monthly steps, as the ``lifetimes`` package does:

    .. math::

        \\text{CLV} = \\sum_{m=1}^{M} E[Z \\mid \\bar z, x] \\,
            \\frac{E[Y(m w) \\mid x, t_x, T] - E[Y((m - 1) w) \\mid x, t_x, T]}{(1 + d)^m},

    with ``w`` weeks per month, ``E[Y]`` from :meth:`BetaGeoFitter.predict_purchases`
    (FHL 2005 eq. 10) and ``E[Z]`` from
    :meth:`GammaGammaFitter.conditional_expected_average_profit`.

    Parameters
    ----------
    bgnbd
        Fitted purchase model (time in weeks).
    gg
        Fitted spend model.
    frequency, recency, T
        Customer summaries ``x``, ``t_x``, ``T`` (weeks).
    monetary
        Mean repeat transaction value ``z̄`` (any value where ``x = 0``).
    horizon_months
        Number of months ``M`` (>= 1).
    discount_rate_monthly
        Monthly discount rate ``d`` (>= 0).
    weeks_per_month
        ``w``; default 4.345 as in ``lifetimes``.

    Returns
    -------
    numpy.ndarray
        Lifetime value per customer, in the currency of ``monetary``.

    Raises
    ------
    ConfigError
        ``horizon_months < 1`` or a negative discount rate.
    NotFittedError
        One of the models is not fitted.
    """
    if horizon_months < 1:
        raise ConfigError(f"horizon_months must be >= 1, got {horizon_months!r}")
    if not discount_rate_monthly >= 0:
        raise ConfigError(f"discount_rate_monthly must be >= 0, got {discount_rate_monthly!r}")
    spend = gg.conditional_expected_average_profit(frequency, monetary)
    value = np.zeros_like(spend)
    previous = np.zeros_like(spend)
    for month in range(1, int(horizon_months) + 1):
        cumulative = bgnbd.predict_purchases(month * weeks_per_month, frequency, recency, T)
        value += spend * (cumulative - previous) / (1.0 + discount_rate_monthly) ** month
        previous = cumulative
    return value
