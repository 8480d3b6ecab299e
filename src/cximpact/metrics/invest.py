"""The CX investment calculator: what an initiative saves and protects, in a CFO's terms.

Every number is an :class:`Input` with a value, a range, a unit, a source (a citation or
``assumption``) and a basis (``measured`` from the company's data, ``assumed`` from the
catalogue, or ``set`` by the user). Steady-state effects per year:

* contacts prevented  ``= contacts_per_year x targeted_contact_share x deflection_rate``
* cost saved          ``= contacts prevented x handling_cost_per_contact``
* problems prevented  ``= problem_customers_per_year x problem_prevention_rate``
* customers retained  ``= problems prevented x retained_per_prevented_problem``
* revenue protected   ``= customers retained x customer_value``
* word-of-mouth value ``= customers retained x referrals_per_retained_customer x customer_value
  x (1 + word_of_mouth_value_premium)``

Cash flows: ``CF_0 = -one_off_cost``; ``CF_t = rho_t B - running_cost_per_year`` for
``t = 1..N`` with ``B`` the yearly benefit (cost saved + revenue protected + word-of-mouth value)
and ``rho_1 = first_year_realisation``, ``rho_t = 1`` after (end-of-year convention).

* NPV ``= sum_{t=0..N} CF_t / (1 + r)^t``
* ROI ``= NPV / PV(costs)``, ``PV(costs) = one_off_cost + sum_t running / (1 + r)^t``
* payback: months until the undiscounted cumulative cash flow reaches zero, cash spread evenly
  within each year (linear interpolation); ``None`` when it does not within N years.

Pure computation: the catalogue is parsed in :mod:`cximpact.metrics._initiatives`, the data
is read by the command module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from cximpact.cases.business_case import measurement_plan
from cximpact.errors import ConfigError
from cximpact.metrics._initiatives import (
    BENEFIT_INPUTS,
    COST_INPUTS,
    REQUIRED,
    SHARES,
    Assumption,
    Initiative,
    Input,
    get_initiative,
    load_initiatives,
)

__all__ = [
    "BENEFIT_INPUTS",
    "COST_INPUTS",
    "REQUIRED",
    "Assumption",
    "Initiative",
    "Input",
    "Measured",
    "attribution_plan",
    "build_inputs",
    "cash_flows",
    "evaluate_investment",
    "expected_churn_reduction",
    "get_initiative",
    "load_initiatives",
    "measure_baseline",
    "net_present_value",
    "parse_overrides",
    "payback_months",
    "return_on_investment",
    "sensitivity",
    "yearly_effects",
]

# --------------------------------------------------------------------------- measurement


@dataclass(frozen=True)
class Measured:
    """A baseline number measured from the data, with a 95% interval and how."""

    value: float
    low: float
    high: float
    how: str


def _count(n: float, per_year: float, how: str) -> Measured:
    """A count scaled to a year, with a Poisson interval ``n +- 1.96 sqrt(n)``."""
    half = 1.96 * math.sqrt(max(n, 0.0))
    return Measured(n * per_year, max(n - half, 0.0) * per_year, (n + half) * per_year, how)


def _mean(values: np.ndarray, how: str) -> Measured | None:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return None
    mean = float(values.mean())
    half = 1.96 * float(values.std(ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return Measured(mean, max(mean - half, 0.0), mean + half, how)


def _share(k: float, n: float, how: str) -> Measured:
    p = k / n if n > 0 else 0.0
    half = 1.96 * math.sqrt(p * (1 - p) / n) if n > 0 else 0.0
    return Measured(p, max(p - half, 0.0), min(p + half, 1.0), how)


def measure_baseline(
    initiative: Initiative,
    signals: pd.DataFrame,
    customer_exposure: pd.DataFrame,
    issue_exposure: pd.DataFrame,
    *,
    window_days: int,
    horizon_days: int = 365,
    new_customers: pd.Index | None = None,
) -> dict[str, Measured]:
    """Baseline inputs measured from the company's stored tables.

    Parameters
    ----------
    initiative : Initiative
        Its ``addresses`` select the targeted root causes.
    signals : DataFrame
        Table ``signals`` (``customer_id, root_cause, handling_cost``) over the window.
    customer_exposure, issue_exposure : DataFrame
        Tables of the same names (active customers with each issue; issues with ``risk_source``).
    window_days : int
        Days the data covers; counts are scaled to a year by ``365 / window_days``.
    horizon_days : int
        Horizon of the stored churn probabilities; converted to a year with a constant hazard.
    new_customers : Index, optional
        Ids of customers in their first year; an initiative with ``new_customers_only`` is
        measured on them alone.

    Returns
    -------
    dict
        ``contacts_per_year, targeted_contact_share, handling_cost_per_contact,
        problem_customers_per_year, customer_value`` and, when the risk was learned from
        outcomes (``risk_source == "model"``), ``retained_per_prevented_problem``: the mean
        attributable churn probability of the targeted customers, the data's own "one in five".
    """
    per_year = 365.0 / max(window_days, 1)
    causes = set(initiative.addresses)
    targeted = signals["root_cause"].astype(str).isin(causes).to_numpy()
    rows = customer_exposure[customer_exposure["issue"].astype(str).isin(causes)]
    scope = "targeted root causes"
    if initiative.new_customers_only and new_customers is not None:
        targeted = targeted & signals["customer_id"].astype(str).isin(new_customers).to_numpy()
        rows = rows[rows["customer_id"].astype(str).isin(new_customers)]
        scope = "targeted root causes, customers in their first year"
    measured = {
        "contacts_per_year": _count(len(signals), per_year, "all contacts in the window, per year"),
        "targeted_contact_share": _share(
            float(targeted.sum()), float(len(signals)), f"share of contacts on the {scope}"
        ),
    }
    cost = _mean(
        signals.loc[targeted, "handling_cost"].to_numpy(dtype=float),
        f"mean handling cost of contacts on the {scope}",
    )
    if cost is not None:
        measured["handling_cost_per_contact"] = cost
    per_customer = rows.groupby(rows["customer_id"].astype(str)).agg(
        value=("value", "first"), p=("attributable_probability", "sum")
    )
    measured["problem_customers_per_year"] = _count(
        float(len(per_customer)), per_year, f"active customers with a contact on the {scope}"
    )
    value = _mean(per_customer["value"].to_numpy(dtype=float), f"mean lifetime value, {scope}")
    if value is not None:
        measured["customer_value"] = value
    sources = issue_exposure.loc[issue_exposure["issue"].astype(str).isin(causes), "risk_source"]
    if len(per_customer) and (sources.astype(str) == "model").all() and len(sources):
        measured["retained_per_prevented_problem"] = _retained(per_customer["p"], horizon_days)
    return measured


def _retained(attributable: pd.Series, horizon_days: int) -> Measured:
    """Mean attributable churn probability per year (constant hazard from the horizon)."""
    p = attributable.clip(0.0, 0.999).to_numpy(dtype=float)
    yearly = 1.0 - (1.0 - p) ** (365.0 / max(horizon_days, 1))
    found = _mean(
        yearly,
        "mean churn probability the targeted issues add (learned from outcomes), per year",
    )
    assert found is not None  # callers pass at least one customer
    return replace(found, high=min(found.high, 1.0))


def build_inputs(
    initiative: Initiative,
    measured: Mapping[str, Measured] | None = None,
    overrides: Mapping[str, float] | None = None,
) -> dict[str, Input]:
    """The inputs of the calculation: catalogue, replaced by measurements, replaced by ``--set``.

    A value set outside its range widens the range to include it.

    Raises
    ------
    ConfigError
        An override names an unknown input, or sets a share outside [0, 1] or a negative value.
    """
    inputs = {
        name: Input(name, a.value, a.low, a.high, a.unit, a.source, "assumed", a.description)
        for name, a in initiative.assumptions.items()
    }
    for name, m in (measured or {}).items():
        inputs[name] = replace(
            inputs[name], value=m.value, low=m.low, high=m.high, source=m.how, basis="measured"
        )
    for name, value in (overrides or {}).items():
        if name not in inputs:
            raise ConfigError(f"--set {name}: unknown input; expected one of {sorted(inputs)}")
        top = 1.0 if name in SHARES else math.inf
        if not 0 <= value <= top:
            raise ConfigError(
                f"--set {name}={value}: expected a number in [0, {top}]; fix the value"
            )
        old = inputs[name]
        inputs[name] = replace(
            old,
            value=value,
            low=min(old.low, value),
            high=max(old.high, value),
            source="set on the command line (--set)",
            basis="set",
        )
    return inputs


def parse_overrides(pairs: list[str]) -> dict[str, float]:
    """``["deflection_rate=0.2", ...]`` -> ``{"deflection_rate": 0.2}``.

    Raises
    ------
    ConfigError
        A pair is not ``name=number``.
    """
    out = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError(pair)
            out[name.strip()] = float(text)
        except ValueError:
            raise ConfigError(
                f"--set {pair!r}: expected name=number, for example --set deflection_rate=0.2"
            ) from None
    return out


# --------------------------------------------------------------------------- arithmetic


def yearly_effects(values: Mapping[str, float]) -> dict[str, float]:
    """Steady-state effects per year (formulas in the module docstring)."""
    contacts = (
        values["contacts_per_year"] * values["targeted_contact_share"] * values["deflection_rate"]
    )
    problems = values["problem_customers_per_year"] * values["problem_prevention_rate"]
    retained = problems * values["retained_per_prevented_problem"]
    revenue = retained * values["customer_value"]
    word_of_mouth = (
        retained
        * values["referrals_per_retained_customer"]
        * values["customer_value"]
        * (1.0 + values["word_of_mouth_value_premium"])
    )
    cost_saved = contacts * values["handling_cost_per_contact"]
    return {
        "contacts_prevented": contacts,
        "cost_saved": cost_saved,
        "problems_prevented": problems,
        "customers_retained": retained,
        "revenue_protected": revenue,
        "word_of_mouth_value": word_of_mouth,
        "benefit": cost_saved + revenue + word_of_mouth,
    }


def cash_flows(values: Mapping[str, float], years: int) -> np.ndarray:
    """``CF_0 .. CF_years``: one-off cost now, then realised benefit less running cost."""
    benefit = yearly_effects(values)["benefit"]
    realisation = np.ones(years)
    realisation[:1] = values["first_year_realisation"]
    flows = np.empty(years + 1)
    flows[0] = -values["one_off_cost"]
    flows[1:] = realisation * benefit - values["running_cost_per_year"]
    return flows


def net_present_value(flows: np.ndarray, rate: float) -> float:
    """``sum_t CF_t / (1 + rate)^t``, ``t = 0`` undiscounted (end-of-year convention)."""
    return float(np.sum(flows / (1.0 + rate) ** np.arange(len(flows))))


def return_on_investment(values: Mapping[str, float], years: int, rate: float) -> float | None:
    """``NPV / PV(costs)``; None when nothing is spent."""
    discount = (1.0 + rate) ** -np.arange(1, years + 1)
    costs = values["one_off_cost"] + float(np.sum(values["running_cost_per_year"] * discount))
    if costs <= 0:
        return None
    return net_present_value(cash_flows(values, years), rate) / costs


def payback_months(flows: np.ndarray) -> float | None:
    """Months until the undiscounted cumulative cash flow is non-negative for good.

    Linear within the year it turns. 0 when it never goes below zero; None when it is still
    negative at the end of the years given (including an initiative with nothing spent up front
    that loses money every year).
    """
    cumulative = np.cumsum(flows)
    negative = np.flatnonzero(cumulative < 0)
    if len(negative) == 0:
        return 0.0
    last = int(negative[-1])
    if last == len(cumulative) - 1:
        return None
    year = last + 1  # the year (0-based) in which the cumulative flow turns for good
    return float(12.0 * last + 12.0 * (-cumulative[last]) / flows[year])


def sensitivity(inputs: Mapping[str, Input], years: int, rate: float) -> list[dict[str, Any]]:
    """NPV with each input at its low and at its high end, the others at their values.

    Sorted by swing ``|NPV_high - NPV_low|``, largest first (a tornado chart's order).
    """
    base = {name: i.value for name, i in inputs.items()}
    rows = []
    for name, item in inputs.items():
        if item.low == item.high:
            continue
        at_low = net_present_value(cash_flows(base | {name: item.low}, years), rate)
        at_high = net_present_value(cash_flows(base | {name: item.high}, years), rate)
        rows.append(
            {
                "input": name,
                "basis": item.basis,
                "low": item.low,
                "high": item.high,
                "npv_at_low": round(at_low, 2),
                "npv_at_high": round(at_high, 2),
                "swing": round(abs(at_high - at_low), 2),
            }
        )
    return sorted(rows, key=lambda r: -float(r["swing"]))


# --------------------------------------------------------------------------- attribution


def expected_churn_reduction(values: Mapping[str, float], churn_rate: float) -> float:
    """Relative churn reduction expected among the targeted customers.

    ``problem_prevention_rate x retained_per_prevented_problem / churn_rate``: of the targeted
    customers, that share stays who would have left, out of the ``churn_rate`` who leave.
    """
    retained = values["problem_prevention_rate"] * values["retained_per_prevented_problem"]
    return float(retained / max(churn_rate, 1e-6))


def attribution_plan(
    initiative: Initiative,
    *,
    customers: int,
    churn_rate: float,
    expected_effect: float,
    horizon_days: int = 365,
    segments: list[str] | None = None,
    history_days: int = 0,
    power: float = 0.8,
    holdout_share: float = 0.1,
) -> dict[str, Any]:
    """How the effect will be proven, chosen before launch, sized by the existing planner.

    A per-customer initiative (``randomisable``) gets an A/B holdout; otherwise a phased
    rollout by segment when there are two or more segments, an interrupted time series with 28
    days of history or more, else pre/post (:func:`cximpact.measure.design.plan_measurement`).
    The plan is sized for the initiative's expected relative churn reduction among the targeted
    customers, so ``adequately_powered`` says whether that effect is detectable.
    """
    # The planner picks a randomised holdout for customer-level actions and a rollout or a
    # time series for a fix to everyone; name the response that carries that meaning.
    response = "proactive_message" if initiative.randomisable else "fix_root_cause"
    target = min(max(expected_effect, 0.01), 0.95)
    plan = measurement_plan(
        response,
        max(customers, 2),
        min(max(churn_rate, 1e-4), 0.99),
        horizon_days,
        segments=segments or [],
        history_days=history_days,
        target_effect=round(target, 4),
        power=power,
        holdout_share=holdout_share,
    )
    plan["why"] = (
        "the initiative reaches customers one by one, so a random share is held out (A/B)"
        if initiative.randomisable
        else "the initiative changes the service for everyone, so it cannot be randomised per "
        "customer; the method follows the segments and the history available"
    )
    return plan


# --------------------------------------------------------------------------- the result


def evaluate_investment(
    initiative: Initiative,
    inputs: Mapping[str, Input],
    *,
    years: int = 5,
    discount_rate: float = 0.10,
    plan: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything ``cximpact invest`` reports for one initiative (plain JSON-able values).

    Raises
    ------
    ConfigError
        ``years`` outside 1..30 or ``discount_rate`` outside [0, 1).
    """
    if not 1 <= years <= 30:
        raise ConfigError(f"--years must be between 1 and 30; got {years}")
    if not 0 <= discount_rate < 1:
        raise ConfigError(f"--discount-rate must be in [0, 1); got {discount_rate}")
    values = {name: i.value for name, i in inputs.items()}
    flows = cash_flows(values, years)
    effects = yearly_effects(values)
    npv = net_present_value(flows, discount_rate)
    roi = return_on_investment(values, years, discount_rate)
    payback = payback_months(flows)
    return {
        "initiative": initiative.name,
        "description": initiative.description,
        "addresses": list(initiative.addresses),
        "years": years,
        "discount_rate": discount_rate,
        "per_year": {k: round(v, 2) for k, v in effects.items()},
        "npv": round(npv, 2),
        "roi": None if roi is None else round(roi, 4),
        "payback_months": None if payback is None else round(payback, 1),
        "cash_flows": [{"year": t, "cash_flow": round(float(cf), 2)} for t, cf in enumerate(flows)],
        "inputs": [asdict(i) for i in inputs.values()],
        "measured": sorted(n for n, i in inputs.items() if i.basis == "measured"),
        "assumed": sorted(n for n, i in inputs.items() if i.basis == "assumed"),
        "set": sorted(n for n, i in inputs.items() if i.basis == "set"),
        "sensitivity": sensitivity(inputs, years, discount_rate),
        "attribution_plan": plan,
        "formulas": {
            "npv": "sum_{t=0..N} CF_t / (1 + r)^t; CF_0 = -one_off_cost, "
            "CF_t = rho_t * benefit - running_cost_per_year",
            "roi": "NPV / (one_off_cost + sum_t running_cost_per_year / (1 + r)^t)",
            "payback_months": "months until cumulative undiscounted cash flow >= 0",
        },
    }
