"""Revenue at risk per issue and per customer, from signals, values and a fitted risk model."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd

from cximpact.exposure._codes import (
    customer_codes,
    gather,
    mention_codes,
    sorted_labels,
    topic_pairs,
)
from cximpact.exposure._draws import IssueTotals
from cximpact.exposure._join import SUMMED, SummaryMatches, issue_totals, match_summary
from cximpact.exposure._summary import signal_summary
from cximpact.exposure._table import CustomerTable, customer_issue_rows, why
from cximpact.exposure.attribution import allocate_attributable_risk, allocate_pairs
from cximpact.risk.model import ChurnRiskModel

__all__ = ["ExposureResult", "compute_exposure", "customer_signal_summary", "issue_flags"]

OTHER = "other"


def topic_mentions(signals: pd.DataFrame) -> pd.DataFrame:
    """One row per interaction and root cause it raises (primary, and secondary if any).

    ``weight`` splits a two-topic contact's cost between its topics (0.5 each), so handling cost
    is never counted twice.
    """
    mentions = mention_codes(signals)
    return (
        signals.iloc[mentions.position]
        .assign(topic=mentions.names[mentions.topic], weight=mentions.weight)
        .reset_index(drop=True)
    )


def issue_flags(signals: pd.DataFrame) -> pd.DataFrame:
    """0/1 per customer and root cause (primary or secondary topic of any contact).

    Built from integer codes (categorical codes where the topics are categorical, the ids
    themselves where they are compact integers) and two scatters into a dense customers x
    topics array (no crosstab, no per-row strings): linear in the number of interactions.
    Rows: customers with at least one mention, sorted; columns: the topics mentioned, sorted.
    """
    topics = topic_pairs(signals)
    customer, ids = customer_codes(signals["customer_id"])
    none = len(topics.names)  # the column that collects "no issue"
    width = -(-(none + 1) // 8) * 8  # rows of whole 8-byte words
    if (customer < 0).any():  # missing ids: a row of their own, dropped below
        customer = np.where(customer < 0, len(ids), customer)
    cells = np.zeros((len(ids) + 1) * width, dtype=np.int8)
    at = customer * width  # a new array: the codes may be the caller's ids
    at += topics.primary
    cells[at] = 1
    at -= topics.primary
    at += topics.secondary
    cells[at] = 1
    table = cells.reshape(-1, width)[: len(ids)]
    # which rows and columns have a flag: on 8-byte words, the "no issue" column masked out
    topic = np.zeros(width, dtype=np.uint8)
    topic[:none] = 0xFF
    mask = topic.view(np.uint64)
    words = table.view(np.uint64) & mask
    rows = np.flatnonzero(np.bitwise_or.reduce(words, axis=1) != 0)
    mentioned = np.flatnonzero(np.bitwise_or.reduce(words, axis=0).view(np.uint8))
    rank, names = sorted_labels(topics.names[mentioned])
    columns = mentioned[np.argsort(rank)]
    index = pd.Index(np.asarray(ids)[rows], name="customer_id")
    return pd.DataFrame(table[rows[:, None], columns], index=index, columns=list(names))


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
    if len(names) < 63:  # each row's set as the bits of one integer: a 1-d unique
        bits = seen.astype(np.int64) @ (np.int64(1) << np.arange(len(names), dtype=np.int64))
        sets, inverse = np.unique(bits, return_inverse=True)
        patterns = (sets[:, None] >> np.arange(len(names), dtype=np.int64)) & 1 == 1
    else:
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
    fast = signal_summary(signals, _competitors_by_customer)
    if fast is not None:
        return fast
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


class ExposureResult:
    """Issues ranked by revenue at risk; customer-issue rows; per-customer risk.

    ``customers`` may be given as a frame or as a function that builds it: then it is built
    on first read and kept (the table has a row per customer and issue, millions at scale,
    and many callers only need the ranking). Either way it reads as the same frame.
    """

    __slots__ = ("_build", "_customers", "issues", "risk")

    def __init__(
        self,
        issues: pd.DataFrame,
        customers: pd.DataFrame | Callable[[], pd.DataFrame],
        risk: pd.DataFrame,
    ) -> None:
        self.issues = issues
        self.risk = risk
        self._customers = customers if isinstance(customers, pd.DataFrame) else None
        self._build = None if isinstance(customers, pd.DataFrame) else customers

    @property
    def customers(self) -> pd.DataFrame:
        """One row per (customer, issue): issue name, then value high to low, with why."""
        table = self._customers
        if table is None:
            build = self._build  # None only once another thread has stored the table
            table = build() if build is not None else self._customers
            assert table is not None
            self._customers = table
            self._build = None  # let go of what it held
        return table

    def __repr__(self) -> str:
        built = "built" if self._customers is not None else "not built yet"
        return (
            f"ExposureResult(issues={len(self.issues)} rows, customers {built}, "
            f"risk={len(self.risk)} rows)"
        )


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

    Returns
    -------
    ExposureResult
        The issue ranking and the risk table are computed here; the customer-issue table
        (one row per customer and issue) is built on first read of ``.customers``.

    Notes
    -----
    Computed on integer codes (see ``docs/exposure_performance.md``): the pairs come from
    the flag matrix and are allocated on their own (:func:`allocate_pairs`), their summary
    rows are found from the summary's side (:func:`cximpact.exposure._join.match_summary`),
    the per-issue totals come from ``np.bincount``. A summary the join cannot take
    (duplicated keys, key types other than the table's) is joined with ``merge`` as before.
    """
    X = features.loc[active.reindex(features.index).fillna(False).to_numpy(dtype=bool)]
    contributions = model.issue_contributions(X)
    logit = model.decision_function(X)
    issues = [c.removeprefix("issue:") for c in model.issue_columns_]
    flags = X[model.issue_columns_].to_numpy()
    has = flags > 0
    rows, cols = _pairs(has)
    p_full, p_base, allocated = _allocate(logit, contributions, has, rows, cols, horizon_factor)
    vals = values.set_index("customer_id").reindex(X.index)
    value = vals["value"].to_numpy(dtype=float)
    pair_value = value[rows]
    dollars = allocated * pair_value
    point = None
    if np.count_nonzero(flags == 1) == len(rows):  # contributions are the effects themselves
        point = np.bincount(cols, dollars, len(issues))
    risk = pd.DataFrame(
        {
            "customer_id": X.index,
            "churn_probability": p_full,
            "baseline_probability": p_base,
            "value": value,
            "value_source": gather(vals["value_source"]),
            "revenue_at_risk": p_full * value,
            "attributable_revenue_at_risk": (p_full - p_base) * value,
            "risk_source": model.source_,
        }
    )
    intervals = _bootstrap_intervals(
        model,
        X,
        logit,
        value,
        issues,
        horizon_factor,
        draws=interval_draws,
        pairs=(rows, cols),
        point=point,
    )
    matches = _summary_matches(summary, X.index, has, issues)
    if matches is None:  # the summary is not a plain one-to-one table: join as pandas does
        long = customer_issue_rows(X.index, issues, vals, p_full, allocated, rows, cols)
        long = long.merge(
            summary.rename(columns={"root_cause": "issue"}),
            on=["customer_id", "issue"],
            how="left",
        )
        long["why"] = _why(long)
        ordered = long.sort_values(["issue", "value"], ascending=[True, False])
        return ExposureResult(_rank_issues(long, model, intervals), ordered, risk)
    position = partial(matches.positions, has)
    table = CustomerTable(X.index, issues, vals, p_full, allocated, has, summary, position)
    if all(c in summary and summary[c].dtype.kind in "iuf" for c in SUMMED):
        grouped = issue_totals(issues, cols, pair_value, dollars, summary, matches)
        return ExposureResult(_rank_issues(None, model, intervals, grouped), table, risk)
    long = table()
    return ExposureResult(_rank_issues(long, model, intervals), long, risk)


def _pairs(has: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every true cell, in row-major order (``np.nonzero``, a third faster)."""
    width = max(has.shape[1], 1)
    flat = np.flatnonzero(has)
    rows = flat // width
    return rows, flat - rows * width


def _allocate(
    logit: np.ndarray,
    contributions: np.ndarray,
    has: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    horizon_factor: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p_full``, ``p_base`` per customer and the allocation of each pair (``rows``, ``cols``).

    :func:`allocate_attributable_risk` on the pairs alone (no customers x issues matrix) when
    every positive contribution is on a pair, as it is for issue flags of 0 and 1; pairs whose
    contribution is not positive get exactly nothing either way.
    """
    effect = contributions[rows, cols]
    if np.count_nonzero(contributions > 0) == np.count_nonzero(effect > 0):
        return allocate_pairs(logit, rows, effect, horizon_factor)
    attribution = allocate_attributable_risk(logit, contributions, horizon_factor)
    return attribution.p_full, attribution.p_base, attribution.allocated[rows, cols]


#: Columns of the customer-issue table before the summary is joined.
_LONG = (
    "customer_id",
    "issue",
    "segment",
    "value",
    "value_low",
    "value_high",
    "value_source",
    "churn_probability",
    "attributable_probability",
    "revenue_at_risk",
)


def _summary_matches(
    summary: pd.DataFrame, index: pd.Index, has: np.ndarray, issues: list[str]
) -> SummaryMatches | None:
    """Summary rows of the pairs, or ``None`` when only a pandas merge will do.

    The join reproduces ``merge(how="left")`` when the summary is a plain table: its key
    columns have the dtypes of the customer-issue table's, its other columns do not collide
    with the table's, each (customer, root cause) of a pair appears at most once, and each
    customer once in ``index``.
    """
    extra = [c for c in summary.columns if c not in ("customer_id", "root_cause")]
    issue_dtype = pd.Series(np.asarray(issues, dtype=object)).dtype
    customer_dtype = pd.Series(gather(index, np.zeros(0, dtype=np.intp))).dtype
    if (
        "customer_id" not in summary
        or "root_cause" not in summary
        or set(extra) & {*_LONG, "why"}
        or summary["customer_id"].dtype != customer_dtype
        or summary["root_cause"].dtype != issue_dtype
        or not summary.columns.is_unique
        or not index.is_unique
    ):
        return None
    return match_summary(summary, index, has, issues)


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
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
    point: np.ndarray | None = None,
) -> pd.DataFrame:
    """Interval of each issue's revenue at risk from the sampling distribution of its effect.

    Each draw of the issue effects (:meth:`ChurnRiskModel.sample_issue_effects`) is pushed
    through the same allocation (:func:`allocate_pairs`, here for a block of draws at once:
    :func:`cximpact.exposure._draws.issue_totals`), holding every customer's log-odds fixed;
    the interval is the central ``level`` share of the per-issue sums. Only the (customer,
    issue) pairs present are computed.

    Above ``sample`` customers with an issue, the draws run on a sample of them: every customer
    of an issue with at most ``small_issue`` customers, and a uniform sample of the others.
    Each draw's *deviation* from the point estimate is a sum over customers, estimated without
    bias by weighting each sampled customer by one over their inclusion probability
    (Horvitz–Thompson), and added to the exact point estimate. Small issues are thus computed
    exactly; a large issue's bounds carry a Monte Carlo error of about
    ``sqrt((n_j / s_j - 1) / n_j)`` relative to their deviation (n_j of its customers, s_j
    sampled), instead of costing draws x pairs.

    ``pairs`` (the row-major ``np.nonzero`` of the issue flags) and ``point`` (the exact
    per-issue totals at the fitted effects) save recomputing them when the caller has them.
    """
    all_rows, all_cols = (
        np.nonzero(X[model.issue_columns_].to_numpy() > 0) if pairs is None else pairs
    )

    def totals(rows: np.ndarray, cols: np.ndarray, weight: np.ndarray) -> IssueTotals:
        return IssueTotals(logit, value, rows, cols, weight, len(issues), horizon_factor)

    rows, cols, weight = all_rows, all_cols, np.ones(len(all_rows))
    # sets of customers as boolean masks over rows of X (sorted, like np.unique would give)
    has_issue = np.zeros(len(logit), dtype=bool)
    has_issue[all_rows] = True
    everyone = np.flatnonzero(has_issue)
    if len(everyone) > sample:
        # Customers of small issues are always kept (probability 1), the others sampled
        # uniformly; each pair weighs 1 / its customer's inclusion probability.
        per_issue = np.bincount(all_cols, minlength=len(issues))
        is_certain = np.zeros(len(logit), dtype=bool)
        is_certain[all_rows[(per_issue <= small_issue)[all_cols]]] = True
        rest = np.flatnonzero(has_issue & ~is_certain)
        take = min(len(rest), max(sample - int(is_certain.sum()), sample // 4))
        chosen = np.random.default_rng(seed).choice(rest, take, replace=False)
        is_kept = is_certain.copy()
        is_kept[chosen] = True
        keep = is_kept[all_rows]
        rows, cols = all_rows[keep], all_cols[keep]
        weight = np.where(is_certain[rows], 1.0, len(rest) / max(take, 1))
    sampled = totals(rows, cols, weight)
    drawn = sampled(model.sample_issue_effects(draws))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(drawn, [tail, 100.0 - tail], axis=0)
    if len(rows) < len(all_rows):  # exact point estimate plus the sample's weighted deviations
        effects = model.issue_effects_.to_numpy(dtype=float)[None, :]
        if point is None:
            point = totals(all_rows, all_cols, np.ones(len(all_rows)))(effects)[0]
        shift = point - sampled(effects)[0]
        low, high = low + shift, high + shift
    return pd.DataFrame({"revenue_at_risk_low": low, "revenue_at_risk_high": high}, index=issues)


def _rank_issues(
    long: pd.DataFrame | None,
    model: ChurnRiskModel,
    intervals: pd.DataFrame,
    grouped: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Issues ranked by revenue at risk, with their totals, intervals and effects.

    ``grouped``: the per-issue aggregates when the caller has them (:func:`issue_sums`).
    """
    if grouped is None:
        assert long is not None
        grouped = long.groupby("issue").agg(
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
    issues = grouped
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
    """A short, human reason per customer-issue row (see :func:`cximpact.exposure._table.why`)."""
    return pd.Series(why(long), index=long.index, dtype=object)
