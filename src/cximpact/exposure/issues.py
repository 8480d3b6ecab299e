"""Revenue at risk per issue and per customer, from signals, values and a fitted risk model."""

from __future__ import annotations

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

    Competitor strings have few distinct values: each distinct name gets a bit, customers get
    the OR of their bits (a grouped max per name), and each distinct set of bits is joined once.
    """
    named = mentions.loc[mentions["competitors"].fillna("") != "", ["customer_id", "competitors"]]
    if named.empty:
        return pd.Series(dtype=object)
    exploded = named.assign(name=named["competitors"].str.split(",")).explode("name")
    exploded["name"] = exploded["name"].str.strip()
    exploded = exploded[exploded["name"] != ""]
    table = pd.crosstab(exploded["customer_id"], exploded["name"]) > 0
    names = np.array(sorted(table.columns))
    table = table[names]
    patterns, inverse = np.unique(table.to_numpy(), axis=0, return_inverse=True)
    joined = np.array([", ".join(names[row]) for row in patterns], dtype=object)  # few patterns
    return pd.Series(joined[inverse.ravel()], index=table.index)


def customer_signal_summary(signals: pd.DataFrame) -> pd.DataFrame:
    """Per customer and root cause: contacts, repeats, handling cost, sentiment and flags."""
    mentions = topic_mentions(signals)
    grouped = mentions.assign(
        negative=mentions["sentiment_label"] == "negative",
        has_competitor=mentions["competitors"].fillna("") != "",
        cost=mentions["handling_cost"] * mentions["weight"],
    ).groupby(["customer_id", "topic"], observed=True)
    summary = grouped.agg(
        contacts=("interaction_id", "size"),
        repeat_contacts=("repeat_contact", "sum"),
        handling_cost=("cost", "sum"),
        mean_sentiment=("sentiment", "mean"),
        negative_contacts=("negative", "sum"),
        escalations=("escalation", "sum"),
        churn_language=("churn_language", "sum"),
        competitor_mentions=("has_competitor", "sum"),
        last_contact=("timestamp", "max"),
    ).rename_axis(["customer_id", "root_cause"])
    competitors = _competitors_by_customer(mentions)
    summary = summary.reset_index()
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
) -> pd.DataFrame:
    """Interval of each issue's revenue at risk from the sampling distribution of its effect.

    Each draw of the issue effects (:meth:`ChurnRiskModel.sample_issue_effects`) is pushed
    through the same allocation (:func:`allocate_pairs`), holding every customer's log-odds
    fixed; the interval is the central ``level`` share of the per-issue sums. Only the
    (customer, issue) pairs present are computed.
    """
    rows, cols = np.nonzero(X[model.issue_columns_].to_numpy() > 0)
    customers, row = np.unique(rows, return_inverse=True)
    pair_value = value[customers][row]
    totals = np.empty((draws, len(issues)))
    for d, effects in enumerate(model.sample_issue_effects(draws)):  # draws, not rows
        _, _, allocated = allocate_pairs(logit[customers], row, effects[cols], horizon_factor)
        totals[d] = np.bincount(cols, allocated * pair_value, minlength=len(issues))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(totals, [tail, 100.0 - tail], axis=0)
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
    issues["log_odds_effect"] = model.issue_effects_.reindex(issues.index)
    issues["log_odds_standard_error"] = model.issue_standard_errors_.reindex(issues.index)
    issues["risk_source"] = model.source_
    total = issues["revenue_at_risk"].sum()
    issues["share_of_exposure"] = issues["revenue_at_risk"] / total if total > 0 else 0.0
    issues = issues.sort_values("revenue_at_risk", ascending=False).reset_index()
    issues.insert(0, "rank", np.arange(1, len(issues) + 1))
    return issues


def _why(long: pd.DataFrame) -> pd.Series:
    """A short, human reason per customer-issue row, built column-wise (no row loop)."""
    contacts = long["contacts"].fillna(0).astype(int)
    parts = [
        contacts.astype(str)
        + np.where(contacts == 1, " contact", " contacts")
        + " on "
        + long["issue"],
        np.where(long["repeat_contacts"].fillna(0) > 0, "repeat contact", ""),
        np.where(long["escalations"].fillna(0) > 0, "asked to escalate", ""),
        np.where(long["churn_language"].fillna(0) > 0, "talked about leaving", ""),
        np.where(
            long["competitors"].fillna("") != "", "mentioned " + long["competitors"].fillna(""), ""
        ),
        np.where(long["mean_sentiment"].fillna(0) < -0.3, "negative sentiment", ""),
    ]
    why = pd.Series(parts[0], index=long.index, dtype=object)
    for part in parts[1:]:
        why = why + np.where(part != "", "; " + pd.Series(part, index=long.index, dtype=object), "")
    return why
