"""Revenue at risk per issue and per customer, from signals, values and a fitted risk model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cximpact.exposure.attribution import allocate_attributable_risk, allocate_pairs
from cximpact.risk.model import ChurnRiskModel

__all__ = ["ExposureResult", "compute_exposure", "customer_signal_summary", "issue_flags"]

OTHER = "other"


def _mentions(signals: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row position, root cause and cost weight of every (interaction, root cause) mention.

    A contact raises its primary topic, and its secondary topic if it has one; ``other`` and
    empty topics raise nothing. A two-topic contact weighs 0.5 for each.
    """
    primary = signals["root_cause"].astype(object).to_numpy()
    secondary = signals["secondary_root_cause"].astype(object).fillna("").to_numpy()
    has_second = secondary != ""
    position = np.concatenate([np.arange(len(signals)), np.flatnonzero(has_second)])
    topic = np.concatenate([primary, secondary[has_second]])
    weight = np.concatenate([np.where(has_second, 0.5, 1.0), np.full(has_second.sum(), 0.5)])
    keep = pd.notna(topic) & (topic != OTHER) & (topic != "")
    return position[keep], topic[keep], weight[keep]


def topic_mentions(signals: pd.DataFrame) -> pd.DataFrame:
    """One row per interaction and root cause it raises (primary, and secondary if any).

    ``weight`` splits a two-topic contact's cost between its topics (0.5 each), so handling cost
    is never counted twice.
    """
    position, topic, weight = _mentions(signals)
    return signals.iloc[position].assign(topic=topic, weight=weight).reset_index(drop=True)


def issue_flags(signals: pd.DataFrame) -> pd.DataFrame:
    """0/1 per customer and root cause (primary or secondary topic of any contact).

    Built from integer codes and one scatter into a dense array (no crosstab): linear in the
    number of interactions.
    """
    position, topic, _ = _mentions(signals)
    customer_codes, customer_ids = pd.factorize(
        signals["customer_id"].to_numpy()[position], sort=True
    )
    topic_codes, topic_names = pd.factorize(topic, sort=True)
    flags = np.zeros((len(customer_ids), len(topic_names)), dtype=np.int8)
    flags[customer_codes, topic_codes] = 1
    return pd.DataFrame(
        flags, index=pd.Index(customer_ids, name="customer_id"), columns=list(topic_names)
    )


def _competitors_by_customer(mentions: pd.DataFrame) -> pd.Series:
    """Comma-joined competitor names each customer mentioned, without a per-customer loop.

    Competitor strings have few distinct values: each distinct string is split once and turned
    into a bit set over the distinct names, customers get the OR of their bit sets (one
    ``bitwise_or.at`` scatter), and each distinct set is joined once.
    """
    named = mentions.loc[mentions["competitors"].fillna("") != "", ["customer_id", "competitors"]]
    if named.empty:
        return pd.Series(dtype=object)
    string_codes, strings = pd.factorize(named["competitors"].astype(str))
    split = [[n.strip() for n in str(text).split(",") if n.strip()] for text in strings]
    names = np.array(sorted({n for parts in split for n in parts}), dtype=object)
    if len(names) == 0:
        return pd.Series(dtype=object)
    position = {name: k for k, name in enumerate(names)}
    member = np.zeros((len(strings), len(names)), dtype=bool)
    for row, parts in enumerate(split):  # distinct strings, not rows
        member[row, [position[n] for n in parts]] = True
    customer_codes, customers = pd.factorize(named["customer_id"])
    seen = np.zeros((len(customers), len(names)), dtype=bool)
    for k in range(len(names)):  # distinct names, not rows
        hit = member[string_codes, k]
        seen[customer_codes[hit], k] = True
    patterns, inverse = np.unique(seen, axis=0, return_inverse=True)
    joined = np.array([", ".join(names[row]) for row in patterns], dtype=object)  # few patterns
    keep = seen.any(axis=1)
    return pd.Series(joined[inverse.ravel()][keep], index=pd.Index(customers)[keep])


def customer_signal_summary(signals: pd.DataFrame) -> pd.DataFrame:
    """Per customer and root cause: contacts, repeats, handling cost, sentiment and flags.

    Grouped on one integer key built from the sorted codes of customer and topic (hashing
    strings once, in ``factorize``, instead of in every aggregation); the detector phrases are
    aggregated over the few rows that have one.
    """
    mentions = topic_mentions(signals)
    for column in ("escalation_phrase", "churn_phrase"):  # what the detectors matched
        if column not in mentions:
            mentions[column] = ""
        mentions[column] = mentions[column].fillna("").astype(str)
    customer_codes, customer_ids = pd.factorize(mentions["customer_id"], sort=True)
    topic_codes, topic_names = pd.factorize(mentions["topic"], sort=True)
    width = max(len(topic_names), 1)
    key = customer_codes.astype(np.int64) * width + topic_codes
    frame = pd.DataFrame(
        {
            "key": key,
            "repeat_contact": mentions["repeat_contact"].to_numpy(dtype=float),
            "cost": (mentions["handling_cost"] * mentions["weight"]).to_numpy(dtype=float),
            "sentiment": mentions["sentiment"].to_numpy(dtype=float),
            "negative": (mentions["sentiment_label"] == "negative").to_numpy(dtype=float),
            "escalation": mentions["escalation"].to_numpy(dtype=float),
            "churn_language": mentions["churn_language"].to_numpy(dtype=float),
            "has_competitor": (mentions["competitors"].fillna("") != "").to_numpy(dtype=float),
            "timestamp": mentions["timestamp"].array,
        }
    )
    grouped = frame.groupby("key", sort=True)
    summary = grouped.agg(
        contacts=("repeat_contact", "size"),
        repeat_contacts=("repeat_contact", "sum"),
        handling_cost=("cost", "sum"),
        mean_sentiment=("sentiment", "mean"),
        negative_contacts=("negative", "sum"),
        escalations=("escalation", "sum"),
        churn_language=("churn_language", "sum"),
        competitor_mentions=("has_competitor", "sum"),
        last_contact=("timestamp", "max"),
    )
    for column in ("escalation_phrase", "churn_phrase"):
        said = (mentions[column] != "").to_numpy()
        phrases = pd.Series(mentions[column].to_numpy()[said], index=key[said], dtype=object)
        summary[column] = phrases.groupby(level=0).max().reindex(summary.index).fillna("")
    codes = summary.index.to_numpy()
    summary.insert(0, "root_cause", np.asarray(topic_names, dtype=object)[codes % width])
    summary.insert(0, "customer_id", np.asarray(customer_ids)[codes // width])
    summary = summary.reset_index(drop=True)
    competitors = _competitors_by_customer(mentions)
    counts = [
        "repeat_contacts",
        "negative_contacts",
        "escalations",
        "churn_language",
        "competitor_mentions",
    ]
    summary[counts] = summary[counts].astype("int64")
    summary["competitors"] = summary["customer_id"].map(competitors).fillna("")
    return summary


@dataclass(frozen=True)
class ExposureResult:
    """Issues ranked by revenue at risk; customer-issue rows; per-customer risk."""

    issues: pd.DataFrame
    customers: pd.DataFrame
    risk: pd.DataFrame


def compute_exposure(
    features: pd.DataFrame,
    model: ChurnRiskModel,
    values: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    active: pd.Series,
    horizon_factor: float = 1.0,
    interval_draws: int = 200,
) -> ExposureResult:
    """Revenue at risk = P(churn) x value; attributable exposure per issue without double counting.

    Parameters
    ----------
    features
        Output of :func:`cximpact.risk.model.customer_features` (index ``customer_id``).
    model
        Fitted churn model.
    values
        Output of :func:`cximpact.value.ladder.estimate_values`.
    summary
        Output of :func:`customer_signal_summary`.
    active
        Boolean Series over ``features.index``: customers who had not churned at ``as_of``.
        Only they carry revenue at risk.
    horizon_factor
        Horizon over the period the model's probabilities refer to (the observation window
        for a learned model, a year for priors).
    interval_draws
        Draws of the parametric bootstrap behind ``revenue_at_risk_low`` / ``_high`` (95%).
    """
    X = features.loc[active.reindex(features.index).fillna(False).to_numpy(dtype=bool)]
    contributions = model.issue_contributions(X)
    logit = model.decision_function(X)
    attribution = allocate_attributable_risk(logit, contributions, horizon_factor)
    vals = values.set_index("customer_id").reindex(X.index)
    value = vals["value"].to_numpy(dtype=float)
    issues = [c.removeprefix("issue:") for c in model.issue_columns_]
    risk = pd.DataFrame(
        {
            "customer_id": X.index,
            "churn_probability": attribution.p_full,
            "baseline_probability": attribution.p_base,
            "value": value,
            "value_source": vals["value_source"].to_numpy(),
            "revenue_at_risk": attribution.p_full * value,
            "attributable_revenue_at_risk": (attribution.p_full - attribution.p_base) * value,
            "risk_source": model.source_,
        }
    )
    rows, cols = np.nonzero(X[model.issue_columns_].to_numpy() > 0)
    long = pd.DataFrame(
        {
            "customer_id": X.index.to_numpy()[rows],
            "issue": np.asarray(issues, dtype=object)[cols],
            "segment": vals["segment"].to_numpy()[rows],
            "value": value[rows],
            "value_low": vals["value_low"].to_numpy()[rows],
            "value_high": vals["value_high"].to_numpy()[rows],
            "value_source": vals["value_source"].to_numpy()[rows],
            "churn_probability": attribution.p_full[rows],
            "attributable_probability": attribution.allocated[rows, cols],
        }
    )
    long["revenue_at_risk"] = long["attributable_probability"] * long["value"]
    long = long.merge(
        summary.rename(columns={"root_cause": "issue"}), on=["customer_id", "issue"], how="left"
    )
    long["why"] = _why(long)
    intervals = _bootstrap_intervals(
        model, X, logit, value, issues, horizon_factor, draws=interval_draws
    )
    return ExposureResult(
        _rank_issues(long, model, intervals),
        long.sort_values(["issue", "value"], ascending=[True, False]),
        risk,
    )


#: Customers (with at least one issue) above which the bootstrap runs on a sample.
BOOTSTRAP_SAMPLE = 20_000
#: Issues with at most this many customers keep all of them in the bootstrap sample.
SMALL_ISSUE = 2_000


def _bootstrap_intervals(
    model: ChurnRiskModel,
    X: pd.DataFrame,
    logit: np.ndarray,
    value: np.ndarray,
    issues: list[str],
    horizon_factor: float,
    *,
    draws: int,
    level: float = 0.95,
    sample: int = BOOTSTRAP_SAMPLE,
    small_issue: int = SMALL_ISSUE,
    seed: int = 0,
) -> pd.DataFrame:
    """Interval of each issue's revenue at risk from the sampling distribution of its effect.

    Each draw of the issue effects (:meth:`ChurnRiskModel.sample_issue_effects`) is pushed
    through the same allocation (:func:`allocate_pairs`), holding every customer's log-odds
    fixed; the interval is the central ``level`` share of the per-issue sums. Only the
    (customer, issue) pairs present are computed.

    Above ``sample`` customers with an issue, the draws run on a sample of them: every customer
    of an issue with at most ``small_issue`` customers, and a uniform sample of the others.
    Each draw's *deviation* from the point estimate is a sum over customers, estimated without
    bias by weighting each sampled customer by one over their inclusion probability
    (Horvitz–Thompson), and added to the exact point estimate. Small issues are thus computed
    exactly; a large issue's bounds carry a Monte Carlo error of about
    ``sqrt((n_j / s_j - 1) / n_j)`` relative to their deviation (n_j of its customers, s_j
    sampled), instead of costing draws x pairs.
    """
    all_rows, all_cols = np.nonzero(X[model.issue_columns_].to_numpy() > 0)

    def totals(
        rows: np.ndarray, cols: np.ndarray, weight: np.ndarray
    ) -> Callable[[np.ndarray], np.ndarray]:
        """Per-issue sums of the pairs ``(rows, cols)`` as a function of the issue effects."""
        customers, row = np.unique(rows, return_inverse=True)  # once, not once per draw
        pair_logit, pair_value = logit[customers], value[rows] * weight

        def of(effects: np.ndarray) -> np.ndarray:
            _, _, allocated = allocate_pairs(pair_logit, row, effects[cols], horizon_factor)
            return np.bincount(cols, allocated * pair_value, minlength=len(issues))

        return of

    rows, cols, weight = all_rows, all_cols, np.ones(len(all_rows))
    everyone = np.unique(all_rows)
    if len(everyone) > sample:
        # Customers of small issues are always kept (probability 1), the others sampled
        # uniformly; each pair weighs 1 / its customer's inclusion probability.
        per_issue = np.bincount(all_cols, minlength=len(issues))
        small = np.isin(all_cols, np.flatnonzero(per_issue <= small_issue))
        certain = np.unique(all_rows[small])
        rest = np.setdiff1d(everyone, certain)
        take = min(len(rest), max(sample - len(certain), sample // 4))
        chosen = np.random.default_rng(seed).choice(rest, take, replace=False)
        keep = np.isin(all_rows, certain) | np.isin(all_rows, chosen)
        rows, cols = all_rows[keep], all_cols[keep]
        weight = np.where(np.isin(rows, certain), 1.0, len(rest) / max(take, 1))
    sampled = totals(rows, cols, weight)
    drawn = np.stack([sampled(effects) for effects in model.sample_issue_effects(draws)])
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(drawn, [tail, 100.0 - tail], axis=0)
    if len(rows) < len(all_rows):  # exact point estimate plus the sample's weighted deviations
        effects = model.issue_effects_.to_numpy(dtype=float)
        shift = totals(all_rows, all_cols, np.ones(len(all_rows)))(effects) - sampled(effects)
        low, high = low + shift, high + shift
    return pd.DataFrame({"revenue_at_risk_low": low, "revenue_at_risk_high": high}, index=issues)


def _rank_issues(
    long: pd.DataFrame, model: ChurnRiskModel, intervals: pd.DataFrame
) -> pd.DataFrame:
    grouped = long.groupby("issue")
    issues = grouped.agg(
        revenue_at_risk=("revenue_at_risk", "sum"),
        customers=("customer_id", "nunique"),
        aggregate_ltv=("value", "sum"),
        contacts=("contacts", "sum"),
        repeat_contacts=("repeat_contacts", "sum"),
        handling_cost=("handling_cost", "sum"),
        escalations=("escalations", "sum"),
        competitor_mentions=("competitor_mentions", "sum"),
        churn_language=("churn_language", "sum"),
        mean_sentiment=("mean_sentiment", "mean"),
    )
    issues = issues.join(intervals)
    point = issues["revenue_at_risk"]
    issues["revenue_at_risk_low"] = np.clip(issues["revenue_at_risk_low"], 0.0, point)
    issues["revenue_at_risk_high"] = np.maximum(issues["revenue_at_risk_high"], point)
    issues["log_odds_effect"] = model.issue_effects_.reindex(issues.index)
    issues["log_odds_standard_error"] = model.issue_standard_errors_.reindex(issues.index)
    issues["risk_source"] = model.source_
    total = issues["revenue_at_risk"].sum()
    issues["share_of_exposure"] = issues["revenue_at_risk"] / total if total > 0 else 0.0
    issues = issues.sort_values("revenue_at_risk", ascending=False).reset_index()
    issues.insert(0, "rank", np.arange(1, len(issues) + 1))
    return issues


def _why(long: pd.DataFrame) -> pd.Series:
    """A short, human reason per customer-issue row.

    The reason depends on a handful of small-valued fields, so it is built once per distinct
    combination of them and mapped back (no per-row string work).
    """
    keys = pd.DataFrame(
        {
            "contacts": long["contacts"].fillna(0).astype(int).to_numpy(),
            "issue": long["issue"].astype(str).to_numpy(),
            "repeat": long["repeat_contacts"].fillna(0).to_numpy() > 0,
            "escalation": long["escalations"].fillna(0).to_numpy() > 0,
            "escalation_phrase": long["escalation_phrase"].fillna("").astype(str).to_numpy(),
            "leaving": long["churn_language"].fillna(0).to_numpy() > 0,
            "churn_phrase": long["churn_phrase"].fillna("").astype(str).to_numpy(),
            "competitors": long["competitors"].fillna("").astype(str).to_numpy(),
            "negative": long["mean_sentiment"].fillna(0).to_numpy() < -0.3,
        }
    )
    codes, distinct = pd.MultiIndex.from_frame(keys).factorize()
    reasons = []
    for row in distinct:
        contacts, issue, repeat, escalation, said_escalation, leaving, said_leaving = row[:7]
        competitors, negative = row[7:]
        parts = [f"{contacts} contact{'' if contacts == 1 else 's'} on {issue}"]
        parts += ["repeat contact"] if repeat else []
        parts += [_quoted("asked to escalate", said_escalation)] if escalation else []
        parts += [_quoted("talked about leaving", said_leaving)] if leaving else []
        parts += [f"mentioned {competitors}"] if competitors else []
        parts += ["negative sentiment"] if negative else []
        reasons.append("; ".join(parts))
    return pd.Series(np.asarray(reasons, dtype=object)[codes], index=long.index, dtype=object)


def _quoted(reason: str, phrase: str) -> str:
    """``reason ("phrase")`` when the detector recorded what it matched."""
    return f'{reason} ("{phrase}")' if phrase else reason
