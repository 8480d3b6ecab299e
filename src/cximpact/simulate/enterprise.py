"""A synthetic enterprise with planted root causes whose true effect on churn is known.

The generating model, per customer *i* with root-cause set *S_i*::

    logit P(churn within the window) = b0 + b_tenure * tenure_years + b_products * (products - 1)
                                       + b_segment[segment] + sum_{k in S_i} beta_k

Harmless topics have ``beta_k = 0``. ``truth.json`` holds, per planted issue, the revenue at risk
it truly causes among customers still active at ``as_of``: true lifetime value times the issue's
share of the customer's issue-driven risk, allocated with
:func:`cximpact.exposure.attribution.allocate_attributable_risk` (the engine's own definition of
attributable exposure, evaluated with the true parameters).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cximpact.errors import ConfigError
from cximpact.exposure.attribution import allocate_attributable_risk, sigmoid
from cximpact.simulate.text import HARMFUL_CANDIDATES, HARMLESS_CANDIDATES, OTHER, render_texts

__all__ = ["Enterprise", "SimulationConfig", "simulate", "write_enterprise"]

SEGMENTS = np.array(["consumer", "smb", "premium"])
_SEGMENT_SHARE = np.array([0.62, 0.23, 0.15])
_SEGMENT_REVENUE = np.array([55.0, 180.0, 140.0])  # median monthly revenue
_SEGMENT_LOGIT = np.array([0.0, -0.2, -0.4])
_CHANNELS = np.array(["phone", "chat", "email", "social", "web"])
_CHANNEL_SHARE = np.array([0.34, 0.30, 0.24, 0.06, 0.06])
_CHANNEL_COST = np.array([9.5, 4.0, 5.5, 3.0, 2.5])
# Planted effects (log-odds) of the harmful topics, strongest first; shuffled per seed.
_EFFECTS = np.array([1.6, 1.25, 1.0, 0.8, 0.65, 0.5])


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate.

    Parameters
    ----------
    customers
        Number of customers.
    days
        Length of the observed window in days; churn outcomes are observed inside it.
    seed
        Seed of every random draw; the same config gives the same enterprise.
    start
        First day of the window.
    finance_coverage
        Share of customers the finance feed covers with a lifetime value.
    routine_contacts_per_year
        Contacts per customer and year about nothing in the taxonomy (store hours, thanks...),
        on top of the contacts the planted issues cause; raise it to simulate volume.
    """

    customers: int = 2000
    days: int = 180
    seed: int = 0
    start: date = date(2026, 1, 1)
    finance_coverage: float = 0.6
    routine_contacts_per_year: float = 0.5

    def __post_init__(self) -> None:
        if self.customers < 50:
            raise ConfigError(f"customers must be at least 50, got {self.customers}")
        if not 7 <= self.days <= 3650:
            raise ConfigError(f"days must be between 7 and 3650, got {self.days}")
        if not 0.0 <= self.finance_coverage <= 1.0:
            raise ConfigError(f"finance_coverage must be in [0, 1], got {self.finance_coverage}")
        if not 0.0 <= self.routine_contacts_per_year <= 365:
            raise ConfigError(
                "routine_contacts_per_year must be in [0, 365], "
                f"got {self.routine_contacts_per_year}"
            )


@dataclass
class Enterprise:
    """The simulated exports plus the truth the engine should recover."""

    customers: pd.DataFrame
    interactions: pd.DataFrame
    transactions: pd.DataFrame
    outcomes: pd.DataFrame
    finance: pd.DataFrame
    truth: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Plan:
    topics: list[str]
    beta: np.ndarray
    prevalence: np.ndarray  # per topic, share of customers over 180 days
    segment_lift: np.ndarray  # (topics, segments) multiplier on prevalence
    harmless: np.ndarray


def _expected_exposure(
    customers: pd.DataFrame,
    base_logit: np.ndarray,
    beta: np.ndarray,
    prevalence: np.ndarray,
    lift: np.ndarray,
) -> np.ndarray:
    """Expected revenue at risk per topic: reach x value x risk lift, summed over segments."""
    seg = customers["_seg"].to_numpy()
    score = np.zeros(len(beta))
    for s in range(len(SEGMENTS)):
        members = seg == s
        if not members.any():
            continue
        value = customers["_true_ltv"].to_numpy()[members].mean()
        base = base_logit[members].mean()
        lift_risk = sigmoid(base + beta) - sigmoid(np.full_like(beta, base))
        score += members.sum() * prevalence * lift[:, s] * value * lift_risk
    return score


def _plan_issues(
    rng: np.random.Generator, days: int, customers: pd.DataFrame, base_logit: np.ndarray
) -> _Plan:
    harmful = [str(t) for t in rng.choice(HARMFUL_CANDIDATES, size=len(_EFFECTS), replace=False)]
    harmless = list(HARMLESS_CANDIDATES)
    topics = harmful + harmless
    beta = np.concatenate(
        [_EFFECTS * rng.uniform(0.9, 1.1, len(_EFFECTS)), np.zeros(len(harmless))]
    )
    lift = np.ones((len(topics), len(SEGMENTS)))
    lift[rng.integers(0, len(topics), 3), 2] = 2.5  # some topics hit premium customers harder
    # The planted money ranking is set first, then each topic's prevalence is solved from it:
    # expected exposure is linear in prevalence, so a random order of harmful topics with a
    # ratio of 1.6-2.2 between the top four is recoverable, not a coin toss. Strong effects are
    # not always on top: reach and the value of the customers hit matter as much.
    unit = _expected_exposure(customers, base_logit, beta, np.ones(len(topics)), lift)
    n_harmful = len(harmful)
    # Clear steps between the top four; the smaller issues closer together, still material.
    ratios = np.concatenate([rng.uniform(1.6, 2.2, 3), rng.uniform(1.1, 1.3, n_harmful - 4)])
    target = np.concatenate([[1.0], 1.0 / np.cumprod(ratios)])
    order = rng.permutation(n_harmful)
    harmful_prev = np.empty(n_harmful)
    harmful_prev[order] = target / unit[:n_harmful][order]
    harmful_prev *= rng.uniform(0.08, 0.12) / harmful_prev.max()
    prevalence = np.concatenate(
        [np.maximum(harmful_prev, 0.004), rng.uniform(0.08, 0.14, len(harmless))]
    )
    scale = min(days / 180.0, 2.0)
    return _Plan(topics, beta, np.clip(prevalence * scale, 0, 0.5), lift, np.array(beta == 0))


def _customers(cfg: SimulationConfig, rng: np.random.Generator) -> pd.DataFrame:
    n = cfg.customers
    seg = rng.choice(len(SEGMENTS), size=n, p=_SEGMENT_SHARE)
    tenure = np.minimum(rng.exponential(4.0, n), 25.0)
    products = 1 + rng.poisson(np.where(seg == 0, 0.6, 1.2))
    revenue = _SEGMENT_REVENUE[seg] * rng.lognormal(0.0, 0.35, n) * (1 + 0.3 * (products - 1))
    margin = revenue * rng.uniform(0.3, 0.55, n)
    as_of = cfg.start + timedelta(days=cfg.days)
    start_dates = pd.Timestamp(as_of) - pd.to_timedelta(np.round(tenure * 365.25), unit="D")
    frame = pd.DataFrame(
        {
            "id": [f"C{i:07d}" for i in range(1, n + 1)],
            "start_date": start_dates.strftime("%Y-%m-%d"),
            "segment": SEGMENTS[seg],
            "products": products,
            "monthly_revenue": revenue.round(2),
            "monthly_margin": margin.round(2),
            "_tenure": tenure,
            "_seg": seg,
        }
    )
    frame["_true_ltv"] = margin * 12 * _expected_years(frame, cfg.days) * rng.lognormal(0, 0.1, n)
    return frame


def _expected_years(customers: pd.DataFrame, days: int, years: int = 10) -> np.ndarray:
    """Discounted years still to stay (10% a year, 10 years) under the true issue-free hazard.

    The simulated churn process defines the customers' lifetimes: each period of ``days`` a
    customer leaves with probability ``sigmoid(base logit)`` at their tenure then, so the true
    lifetime value follows from the same model the engine has to learn.
    """
    period = days / 365.25
    staying = np.ones(len(customers))
    total = np.zeros(len(customers))
    for k in range(int(np.ceil(years / period))):
        aged = customers.assign(_tenure=customers["_tenure"] + k * period)
        leave = sigmoid(_base_logit(aged))
        mid = staying * (1.0 - 0.5 * leave)
        total += period * mid * 1.10 ** (-(k + 0.5) * period)
        staying = staying * (1.0 - leave)
    return total


def _issue_matrix(customers: pd.DataFrame, plan: _Plan, rng: np.random.Generator) -> np.ndarray:
    prob = plan.prevalence[None, :] * plan.segment_lift[:, customers["_seg"].to_numpy()].T
    has: np.ndarray = rng.random(prob.shape) < prob
    return has


def _interactions(
    cfg: SimulationConfig,
    customers: pd.DataFrame,
    has: np.ndarray,
    plan: _Plan,
    churn_day: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    cust_idx, topic_idx = np.nonzero(has)
    # Out-of-scope contacts ("other": store hours, thanks ...) ride along for everybody.
    n_other = rng.poisson(cfg.routine_contacts_per_year * cfg.days / 365, len(customers))
    cust_idx = np.concatenate([cust_idx, np.repeat(np.arange(len(customers)), n_other)])
    topic_idx = np.concatenate([topic_idx, np.full(int(n_other.sum()), len(plan.topics))])
    is_harmless = np.append(plan.harmless, True)
    harmful = ~is_harmless[topic_idx]
    contacts = 1 + rng.poisson(np.where(harmful, 0.9, 0.3))
    cust = np.repeat(cust_idx, contacts)
    topic = np.repeat(topic_idx, contacts)
    # The first contact happens before any churn; repeats follow within a few weeks.
    last_day = np.where(churn_day[cust] >= 0, churn_day[cust] - 1, cfg.days - 1)
    first = rng.integers(0, np.maximum(last_day, 1) + 1)
    nth = np.arange(len(cust)) - np.repeat(np.cumsum(contacts) - contacts, contacts)
    offsets = nth * rng.integers(1, 12, len(cust))
    day = np.minimum(first + offsets, last_day)
    second = _second_topics(cust, topic, rng)
    will_churn = churn_day[cust] >= 0
    n = len(cust)
    channel = rng.choice(len(_CHANNELS), size=n, p=_CHANNEL_SHARE)
    flags = {
        "competitor": rng.random(n) < np.where(will_churn, 0.22, 0.03),
        "escalation": rng.random(n) < np.where(~is_harmless[topic], 0.12, 0.02),
        "churn_language": rng.random(n) < np.where(will_churn, 0.28, 0.02),
        "pii": rng.random(n) < 0.08,
    }
    topics = np.array([*plan.topics, OTHER], dtype=object)
    texts = render_texts(
        topics[topic],
        np.where(second >= 0, topics[np.maximum(second, 0)], ""),
        flags["competitor"],
        flags["escalation"],
        flags["churn_language"],
        flags["pii"],
        _CHANNELS[channel],
        rng,
    )
    seconds = rng.integers(0, 86400, n)
    ts = (
        pd.Timestamp(cfg.start)
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(seconds, unit="s")
    )
    order = np.argsort(ts.to_numpy(), kind="stable")
    frame = pd.DataFrame(
        {
            "id": [f"I{i:08d}" for i in range(1, n + 1)],
            "customer_id": customers["id"].to_numpy()[cust[order]],
            "timestamp": ts[order].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "channel": _CHANNELS[channel[order]],
            "text": np.asarray(texts, dtype=object)[order],
            "agent": [f"A{a:03d}" for a in rng.integers(1, 120, n)],
            "queue": np.where(channel[order] == 0, "voice", "digital"),
            "duration_seconds": rng.gamma(2.0, 180.0, n).round(0),
            "handling_cost": (_CHANNEL_COST[channel[order]] * rng.uniform(0.8, 1.2, n)).round(2),
            "resolved": np.where(rng.random(n) < 0.7, "true", "false"),
            "_topic": topics[topic[order]],
        }
    )
    return frame


#: Share of contacts abandoned in the queue, per channel (phone and chat queues only).
_ABANDONMENT = {"phone": 0.07, "chat": 0.05}


def _abandoned(channel: np.ndarray, seed: int) -> np.ndarray:
    """``"true"``/``"false"`` per contact: left the queue before reaching an agent.

    Drawn from a generator of its own (seeded by ``seed``) so that adding the column changed
    none of the other columns' values for a seed.
    """
    rng = np.random.default_rng([seed, 0xAB])
    share = pd.Series(channel).map(_ABANDONMENT).fillna(0.0).to_numpy(dtype=float)
    return np.where(rng.random(len(channel)) < share, "true", "false")


def _second_topics(cust: np.ndarray, topic: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For some contacts, another root cause the same customer has (mixed-topic messages)."""
    if len(cust) < 2:
        return np.full(len(cust), -1)
    order = np.lexsort((topic, cust))
    c, t = cust[order], topic[order]
    nxt = np.full(len(c), -1)
    same_next = np.r_[c[1:] == c[:-1], False] & np.r_[t[1:] != t[:-1], False]
    nxt[same_next] = np.r_[t[1:], -1][same_next]
    same_prev = np.r_[False, c[1:] == c[:-1]] & np.r_[False, t[1:] != t[:-1]]
    use_prev = (nxt < 0) & same_prev
    nxt[use_prev] = np.r_[-1, t[:-1]][use_prev]
    nxt[rng.random(len(c)) > 0.3] = -1
    out = np.full(len(c), -1)
    out[order] = nxt
    return out


def _base_logit(customers: pd.DataFrame) -> np.ndarray:
    """Churn log-odds without any issue: tenure, products and segment."""
    base: np.ndarray = (
        -1.8
        - 0.08 * customers["_tenure"].to_numpy()
        - 0.2 * (customers["products"].to_numpy() - 1)
        + _SEGMENT_LOGIT[customers["_seg"].to_numpy()]
    )
    return base


def _churn(
    cfg: SimulationConfig,
    customers: pd.DataFrame,
    has: np.ndarray,
    plan: _Plan,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    base = _base_logit(customers)
    contributions = has * plan.beta[None, :]
    logit = base + contributions.sum(axis=1)
    churned = rng.random(len(base)) < sigmoid(logit)
    churn_day = np.where(churned, rng.integers(cfg.days // 4, cfg.days, len(base)), -1)
    return logit, contributions, churn_day


def _truth(
    customers: pd.DataFrame,
    logit: np.ndarray,
    contributions: np.ndarray,
    churned: np.ndarray,
    plan: _Plan,
    has: np.ndarray,
) -> list[dict[str, Any]]:
    active = ~churned
    attribution = allocate_attributable_risk(logit[active], contributions[active])
    value = customers["_true_ltv"].to_numpy()[active]
    rar = (attribution.allocated * value[:, None]).sum(axis=0)
    rows = [
        {
            "issue": topic,
            "revenue_at_risk": round(float(rar[k]), 2),
            "harmless": bool(plan.harmless[k]),
            "log_odds_effect": round(float(plan.beta[k]), 4),
            "customers_affected": int(has[active, k].sum()),
        }
        for k, topic in enumerate(plan.topics)
    ]
    return sorted(rows, key=lambda r: -float(r["revenue_at_risk"]))


def simulate(config: SimulationConfig) -> Enterprise:
    """Simulate an enterprise; deterministic for a given ``config``."""
    rng = np.random.default_rng(config.seed)
    customers = _customers(config, rng)
    plan = _plan_issues(rng, config.days, customers, _base_logit(customers))
    has = _issue_matrix(customers, plan, rng)
    logit, contributions, churn_day = _churn(config, customers, has, plan, rng)
    interactions = _interactions(config, customers, has, plan, churn_day, rng)
    interactions.insert(
        list(interactions.columns).index("resolved") + 1,
        "abandoned",
        _abandoned(interactions["channel"].to_numpy(), config.seed),
    )
    churned = churn_day >= 0
    ids = customers["id"].to_numpy()
    outcomes = pd.DataFrame(
        {
            "customer_id": ids[churned],
            "churn_date": (
                pd.Timestamp(config.start) + pd.to_timedelta(churn_day[churned], unit="D")
            ).strftime("%Y-%m-%d"),
        }
    )
    covered = rng.random(len(ids)) < config.finance_coverage
    finance = pd.DataFrame(
        {
            "customer_id": ids[covered],
            "ltv": (
                customers["_true_ltv"].to_numpy()[covered] * rng.lognormal(0, 0.05, covered.sum())
            ).round(2),
        }
    )
    transactions = _transactions(config, customers, churn_day, rng)
    truth = {
        "seed": config.seed,
        "config": {k: str(v) for k, v in asdict(config).items()},
        "as_of": str(config.start + timedelta(days=config.days)),
        "issues": _truth(customers, logit, contributions, churned, plan, has),
        "note": (
            "revenue_at_risk: true LTV x attributable churn probability, "
            "customers still active at as_of"
        ),
    }
    public = customers.drop(columns=[c for c in customers.columns if c.startswith("_")])
    return Enterprise(public, interactions, transactions, outcomes, finance, truth)


def _transactions(
    cfg: SimulationConfig, customers: pd.DataFrame, churn_day: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    months = max(1, cfg.days // 30)
    n = len(customers)
    cust = np.repeat(np.arange(n), months)
    day = np.tile(np.arange(months) * 30, n) + rng.integers(0, 5, n * months)
    keep = (churn_day[cust] < 0) | (day < churn_day[cust])
    cust, day = cust[keep], day[keep]
    amount = customers["monthly_revenue"].to_numpy()[cust] * rng.uniform(0.95, 1.05, len(cust))
    return pd.DataFrame(
        {
            "id": [f"T{i:08d}" for i in range(1, len(cust) + 1)],
            "customer_id": customers["id"].to_numpy()[cust],
            "timestamp": (pd.Timestamp(cfg.start) + pd.to_timedelta(day, unit="D")).strftime(
                "%Y-%m-%dT00:00:00Z"
            ),
            "amount": amount.round(2),
        }
    )


def write_enterprise(enterprise: Enterprise, out: Path) -> dict[str, Path]:
    """Write the exports as CSV files plus ``truth.json`` into ``out``; return the paths."""
    paths: dict[str, Path] = {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for kind in ("customers", "interactions", "transactions", "outcomes", "finance"):
            frame: pd.DataFrame = getattr(enterprise, kind)
            frame = frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
            paths[kind] = out / f"{kind}.csv"
            frame.to_csv(paths[kind], index=False)
        paths["truth"] = out / "truth.json"
        paths["truth"].write_text(json.dumps(enterprise.truth, indent=2), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot write the simulated exports to {out}: {exc.strerror or exc}; "
            "pass --out with a writable directory"
        ) from exc
    return paths
