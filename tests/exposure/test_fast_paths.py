"""The code-based exposure paths give exactly what the pandas operations they replace gave."""

import numpy as np
import pandas as pd
import pytest

from cximpact.exposure._draws import IssueTotals
from cximpact.exposure._join import SUMMED
from cximpact.exposure._table import customer_issue_rows, why
from cximpact.exposure.attribution import allocate_attributable_risk, allocate_pairs
from cximpact.exposure.issues import (
    ExposureResult,
    compute_exposure,
    customer_signal_summary,
    issue_flags,
)
from cximpact.risk.model import ChurnRiskModel

TOPICS = ["billing_error", "long_wait", "outage", "app_crash", "other", ""]


def _signals(
    seed: int,
    n: int = 3000,
    customers: int = 400,
    *,
    categorical: bool = False,
    int_ids: bool = False,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cust = rng.integers(0, customers, n)
    primary = rng.choice(TOPICS[:5], n, p=[0.3, 0.2, 0.15, 0.05, 0.3])
    secondary = np.where(rng.random(n) < 0.3, rng.choice(TOPICS, n), "")
    frame = pd.DataFrame(
        {
            "interaction_id": [f"I{i}" for i in range(n)],
            "customer_id": cust * 7 + 3 if int_ids else [f"C{c:05d}" for c in cust],
            "timestamp": pd.Timestamp("2026-01-01")
            + pd.to_timedelta(rng.integers(0, 10**7, n), "s"),
            "root_cause": primary,
            "secondary_root_cause": secondary,
            "sentiment": np.round(rng.uniform(-1, 1, n), 1),
            "sentiment_label": rng.choice(["negative", "neutral", "positive"], n),
            "competitors": rng.choice(["", "", "", "Acme", "Acme, Globex"], n),
            "handling_cost": rng.gamma(2.0, 3.0, n),
            "repeat_contact": rng.random(n) < 0.2,
            "escalation": rng.random(n) < 0.1,
            "churn_language": rng.random(n) < 0.05,
            "escalation_phrase": np.where(rng.random(n) < 0.05, "speak to a manager", ""),
            "churn_phrase": np.where(rng.random(n) < 0.03, "cancel", ""),
        }
    )
    if categorical:
        for column in ("root_cause", "secondary_root_cause", "competitors"):
            frame[column] = frame[column].astype("category")
    return frame


def _crosstab_flags(signals: pd.DataFrame) -> pd.DataFrame:
    """The definition: a customer has a topic if any contact raised it (not other / empty)."""
    long = pd.concat(
        [
            signals[["customer_id", "root_cause"]].set_axis(["customer_id", "topic"], axis=1),
            signals[["customer_id", "secondary_root_cause"]].set_axis(
                ["customer_id", "topic"], axis=1
            ),
        ]
    ).astype({"topic": object})
    long = long[long["topic"].notna() & ~long["topic"].isin(["other", ""])]
    table = pd.crosstab(long["customer_id"], long["topic"]).clip(upper=1).astype(np.int8)
    return table.rename_axis(index="customer_id", columns=None)


@pytest.mark.parametrize("categorical", [False, True])
@pytest.mark.parametrize("int_ids", [False, True])
def test_issue_flags_match_a_crosstab(categorical: bool, int_ids: bool) -> None:
    signals = _signals(1, categorical=categorical, int_ids=int_ids)
    flags = issue_flags(signals)
    expected = _crosstab_flags(signals)
    assert list(flags.columns) == sorted(expected.columns)
    assert flags.index.is_monotonic_increasing
    np.testing.assert_array_equal(flags.index.to_numpy(), expected.index.to_numpy())
    np.testing.assert_array_equal(flags.to_numpy(), expected[flags.columns].to_numpy())


def test_issue_flags_with_many_topics_match_a_crosstab() -> None:
    """More topics than fit in one 8-byte word of the flag rows."""
    rng = np.random.default_rng(2)
    n = 2000
    topics = [f"t{k:02d}" for k in range(11)] + ["other", ""]
    signals = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 300, n),
            "root_cause": rng.choice(topics[:-1], n),
            "secondary_root_cause": rng.choice(topics, n),
        }
    )
    flags = issue_flags(signals)
    expected = _crosstab_flags(signals)
    assert list(flags.columns) == sorted(expected.columns) and len(flags.columns) == 11
    np.testing.assert_array_equal(flags.index.to_numpy(), expected.index.to_numpy())
    np.testing.assert_array_equal(flags.to_numpy(), expected[flags.columns].to_numpy())


def test_pairs_and_allocation_on_pairs_equal_the_dense_ones() -> None:
    from cximpact.exposure.issues import _allocate, _pairs

    rng = np.random.default_rng(9)
    n, k = 400, 5
    has = rng.random((n, k)) < 0.3
    rows, cols = _pairs(has)
    expected_rows, expected_cols = np.nonzero(has)
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_array_equal(cols, expected_cols)
    logit = rng.normal(-1.5, 1.0, n)
    contributions = has * rng.uniform(-0.5, 2.0, (n, k))
    dense = allocate_attributable_risk(logit, contributions, 0.7)
    for extra in (False, True):  # True: a positive contribution off the pairs (dense path)
        if extra:
            contributions[np.flatnonzero(~has[:, 0])[0], 0] = 0.9
            dense = allocate_attributable_risk(logit, contributions, 0.7)
        p_full, p_base, allocated = _allocate(logit, contributions, has, rows, cols, 0.7)
        np.testing.assert_array_equal(p_full, dense.p_full)
        np.testing.assert_array_equal(p_base, dense.p_base)
        np.testing.assert_array_equal(allocated, dense.allocated[rows, cols])


def _inputs(
    seed: int, *, int_ids: bool = False
) -> tuple[pd.DataFrame, ChurnRiskModel, pd.DataFrame, pd.DataFrame]:
    signals = _signals(seed, int_ids=int_ids)
    flags = issue_flags(signals)
    rng = np.random.default_rng(seed)
    extra = 10**6 if int_ids else "C99999"  # a customer without contacts
    ids = pd.Index(sorted(set(signals["customer_id"]) | {extra}), name="customer_id")
    features = pd.DataFrame({"tenure_years": rng.uniform(0, 8, len(ids))}, index=ids)
    features = features.join(flags.add_prefix("issue:")).fillna(0.0)
    logit = -1.5 + features.filter(like="issue:").to_numpy() @ np.linspace(0.9, 0.0, 4)
    y = pd.Series((rng.random(len(ids)) < 1 / (1 + np.exp(-logit))).astype(int), index=ids)
    model = ChurnRiskModel().fit(features, y)
    values = pd.DataFrame(
        {
            "customer_id": ids,
            "segment": rng.choice(["smb", "consumer"], len(ids)),
            "value": np.round(rng.gamma(2.0, 400.0, len(ids)), 0),  # ties in value
            "value_low": 10.0,
            "value_high": 5000.0,
            "value_source": "model",
        }
    )
    return features, model, values, customer_signal_summary(signals)


def _merged_table(
    features: pd.DataFrame,
    model: ChurnRiskModel,
    values: pd.DataFrame,
    summary: pd.DataFrame,
    active: pd.Series,
) -> pd.DataFrame:
    """The table as the pandas merge and sort built it."""
    X = features.loc[active.to_numpy()]
    attribution = allocate_attributable_risk(
        model.decision_function(X), model.issue_contributions(X), 0.7
    )
    vals = values.set_index("customer_id").reindex(X.index)
    rows, cols = np.nonzero(X[model.issue_columns_].to_numpy() > 0)
    issues = [c.removeprefix("issue:") for c in model.issue_columns_]
    long = customer_issue_rows(
        X.index, issues, vals, attribution.p_full, attribution.allocated[rows, cols], rows, cols
    )
    long = long.merge(
        summary.rename(columns={"root_cause": "issue"}), on=["customer_id", "issue"], how="left"
    )
    from cximpact.exposure.issues import _why

    long["why"] = _why(long)
    return long.sort_values(["issue", "value"], ascending=[True, False])


@pytest.mark.parametrize(
    "case", ["full", "partial", "missing_values", "int_ids", "shuffled", "duplicated"]
)
def test_customer_table_equals_the_merge_it_replaces(case: str) -> None:
    features, model, values, summary = _inputs(3, int_ids=case == "int_ids")
    if case == "partial":  # pairs without a summary row get NaN, integer columns turn float
        summary = summary.sample(frac=0.6, random_state=0)
    if case == "missing_values":  # customers without a value sort last
        values = values.iloc[::2]
    if case == "shuffled":  # the summary's rows in no particular order
        summary = summary.sample(frac=1.0, random_state=1)
    if case == "duplicated":  # a (customer, root cause) twice: only a merge does what it does
        summary = pd.concat([summary, summary.iloc[[5]]], ignore_index=True)
    active = pd.Series(np.arange(len(features)) % 5 != 0, index=features.index)
    result = compute_exposure(
        features, model, values, summary, active=active, horizon_factor=0.7, interval_draws=20
    )
    expected = _merged_table(features, model, values, summary, active)
    pd.testing.assert_frame_equal(result.customers, expected, check_exact=False, rtol=1e-12)
    totals = expected.groupby("issue")["revenue_at_risk"].sum()
    issues = result.issues.set_index("issue")
    np.testing.assert_allclose(issues["revenue_at_risk"], totals.reindex(issues.index), rtol=1e-9)
    by_issue = expected.groupby("issue")
    assert (issues["customers"] == by_issue["customer_id"].nunique().reindex(issues.index)).all()
    for column in SUMMED:  # the ranking's totals of the summary columns
        want = by_issue[column].mean() if column == "mean_sentiment" else by_issue[column].sum()
        np.testing.assert_allclose(issues[column], want.reindex(issues.index), rtol=1e-12)


def test_customer_table_is_built_once_on_first_read() -> None:
    calls = []

    def build() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"issue": ["a"]})

    result = ExposureResult(pd.DataFrame(), build, pd.DataFrame())
    assert not calls
    assert result.customers is result.customers and len(calls) == 1
    given = pd.DataFrame({"issue": ["b"]})
    assert ExposureResult(pd.DataFrame(), given, pd.DataFrame()).customers is given


def _reason_per_row(row: pd.Series) -> str:
    """The reason written out for one row, the way it reads."""
    contacts = int(0 if pd.isna(row["contacts"]) else row["contacts"])
    parts = [f"{contacts} contact{'' if contacts == 1 else 's'} on {row['issue']}"]
    if row["repeat_contacts"] > 0:
        parts.append("repeat contact")
    if row["escalations"] > 0:
        said = row["escalation_phrase"]
        parts.append(f'asked to escalate ("{said}")' if said else "asked to escalate")
    if row["churn_language"] > 0:
        said = row["churn_phrase"]
        parts.append(f'talked about leaving ("{said}")' if said else "talked about leaving")
    if isinstance(row["competitors"], str) and row["competitors"]:
        parts.append(f"mentioned {row['competitors']}")
    if row["mean_sentiment"] < -0.3:
        parts.append("negative sentiment")
    return "; ".join(parts)


@pytest.mark.parametrize("few_rows", [0, 10**9], ids=["coded", "row-by-row"])
def test_why_matches_the_reason_written_row_by_row(
    few_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cximpact.exposure import _table

    monkeypatch.setattr(_table, "_FEW_ROWS", few_rows)  # both paths of why()
    summary = customer_signal_summary(_signals(5)).rename(columns={"root_cause": "issue"})
    summary.loc[summary.index[:3], ["contacts", "mean_sentiment"]] = np.nan  # unmatched rows
    summary.loc[summary.index[:3], "competitors"] = np.nan
    reasons = why(summary)
    expected = [_reason_per_row(r) for _, r in summary.iterrows()]
    assert list(reasons) == expected
    assert len(set(expected)) > 20  # many distinct combinations were exercised


@pytest.mark.parametrize("horizon", [1.0, 1.3])
def test_bootstrap_blocks_equal_the_per_draw_allocation(horizon: float) -> None:
    rng = np.random.default_rng(7)
    n, k = 3000, 6
    has = rng.random((n, k)) < np.linspace(0.6, 0.05, k)
    rows, cols = np.nonzero(has)
    logit, value = rng.normal(-2, 1, n), rng.gamma(2.0, 300.0, n)
    weight = rng.uniform(1, 3, len(rows))
    effects = np.clip(rng.normal(0.2, 0.3, (50, k)), 0, None)
    effects[:, -1] = 0.0  # a harmless issue: exactly zero in every draw
    customers, row = np.unique(rows, return_inverse=True)
    expected = np.stack(
        [
            np.bincount(
                cols,
                allocate_pairs(logit[customers], row, e[cols], horizon)[2] * value[rows] * weight,
                minlength=k,
            )
            for e in effects
        ]
    )
    got = IssueTotals(logit, value, rows, cols, weight, k, horizon)(effects)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert (got[:, -1] == 0.0).all()


@pytest.mark.parametrize("categorical", [False, True])
def test_signal_summary_matches_a_groupby_of_the_mentions(categorical: bool) -> None:
    from cximpact.exposure.issues import topic_mentions

    signals = _signals(11, categorical=categorical)
    signals.loc[signals.index[:5], "sentiment"] = np.nan  # skipped by the mean
    summary = customer_signal_summary(signals)
    mentions = topic_mentions(signals).assign(
        cost=lambda m: m["handling_cost"] * m["weight"],
        escalation_phrase=lambda m: m["escalation_phrase"].where(m["escalation_phrase"] != ""),
    )
    expected = mentions.groupby(["customer_id", "topic"], sort=True).agg(
        contacts=("weight", "size"),
        repeat_contacts=("repeat_contact", "sum"),
        handling_cost=("cost", "sum"),
        mean_sentiment=("sentiment", "mean"),
        escalations=("escalation", "sum"),
        last_contact=("timestamp", "max"),
        escalation_phrase=("escalation_phrase", "max"),
    )
    got = summary.set_index(["customer_id", "root_cause"])
    assert list(got.index) == list(expected.index)  # same groups, same (sorted) order
    for column in ("contacts", "repeat_contacts", "escalations", "last_contact", "handling_cost"):
        np.testing.assert_array_equal(got[column].to_numpy(), expected[column].to_numpy())
    for column in ("mean_sentiment",):
        np.testing.assert_array_equal(got[column].to_numpy(), expected[column].to_numpy())
    assert list(got["escalation_phrase"]) == list(expected["escalation_phrase"].fillna(""))


def test_customer_table_is_built_from_the_inputs_as_they_were() -> None:
    features, model, values, summary = _inputs(4)
    active = pd.Series(True, index=features.index)
    result = compute_exposure(
        features, model, values, summary, active=active, horizon_factor=0.7, interval_draws=5
    )
    expected = _merged_table(features, model, values, summary.copy(), active)
    summary["contacts"] = -1  # the caller reuses its frame before the table is read
    pd.testing.assert_frame_equal(result.customers, expected, check_exact=False, rtol=1e-12)


def test_gather_of_a_few_distinct_strings_equals_a_take() -> None:
    """Long string columns of few values go through a dictionary: same values, dtype, NaN."""
    from cximpact.exposure._codes import gather

    rng = np.random.default_rng(12)
    n = 150_000
    words = np.array(["smb", "consumer", "premium", None], dtype=object)
    column = pd.Series(words[rng.integers(0, 4, n)]).astype("str")
    positions = rng.integers(-1, n, 2 * n)  # -1: a missing row
    got = gather(column, positions)
    expected = column.array.take(positions, allow_fill=True)
    assert got.dtype == column.dtype
    pd.testing.assert_extension_array_equal(got, expected)
    many = pd.Series([f"id{i}" for i in range(n)]).astype("str")  # many values: a plain take
    pd.testing.assert_extension_array_equal(
        gather(many, positions), many.array.take(positions, allow_fill=True)
    )


def test_text_mask_equals_the_pandas_one() -> None:
    from cximpact.exposure._table import _said

    plain = pd.Series(["", "x", None, np.nan, "y", ""], dtype=object)
    with_na = pd.Series(["", "x", None, pd.NA, "y"], dtype=object)  # pd.NA is no bool
    for column in (plain, with_na, plain.astype("str")):
        expected = (column.notna() & (column != "")).to_numpy(dtype=bool)
        np.testing.assert_array_equal(_said(column), expected)


@pytest.mark.parametrize("case", ["plain", "missing", "no_text", "same_topic", "few", "one"])
def test_few_signal_summary_equals_the_frame_summary(case: str) -> None:
    """The summary of a few rows as arrays: the frame summary's groups, values and dtypes
    (compensated float sums to the last bit; no phrase or competitor at all: columns of "")."""
    from cximpact.exposure._summary import SUMMARY_COLUMNS, few_signal_summary

    rng = np.random.default_rng(len(case))
    signals = _signals(17, n={"few": 40, "one": 1}.get(case, 600), customers=50)
    n = len(signals)
    if case == "missing":  # missing values everywhere but in the customer ids
        for column in ("sentiment", "handling_cost"):
            signals.loc[rng.random(n) < 0.2, column] = np.nan
        for column in ("root_cause", "secondary_root_cause", "competitors", "sentiment_label"):
            signals.loc[rng.random(n) < 0.1, column] = None
        signals.loc[rng.random(n) < 0.1, "competitors"] = " , "  # names nothing
        signals["handling_cost"] *= 10.0 ** rng.integers(-8, 9, n)  # sums that round
    if case == "no_text":
        signals[["escalation_phrase", "churn_phrase", "competitors"]] = ""
    if case == "same_topic":  # a secondary topic equal to the primary one
        signals["secondary_root_cause"] = signals["root_cause"]
    if case == "one":
        signals["root_cause"] = "billing_error"
    expected = customer_signal_summary(signals)
    few = few_signal_summary({c: signals[c].to_numpy() for c in signals.columns})
    pairs = list(zip(expected["customer_id"], expected["root_cause"], strict=True))
    assert set(few.groups) == set(pairs)
    got = pd.DataFrame(few.columns(pairs))
    want = expected[list(SUMMARY_COLUMNS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
