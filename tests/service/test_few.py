"""The array path of the live scorer gives the frames of the frame path, to the last bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cximpact.exposure.issues import customer_signal_summary, issue_flags
from cximpact.risk.model import ChurnRiskModel, customer_features
from cximpact.service._few import FewCustomers, customer_exposure
from cximpact.service._rows import Columns

AS_OF = pd.Timestamp("2026-04-01")
TOPICS = ["billing_error", "long_wait", "outage", "app_crash", "unmodelled"]


def _customers(n: int, rng: np.random.Generator) -> pd.DataFrame:
    customers = pd.DataFrame(
        {
            "id": [f"C{k:03d}" for k in range(n)],
            "start_date": AS_OF - pd.to_timedelta(rng.integers(-30, 3000, n), unit="D"),
            "segment": rng.choice(["consumer", "smb", None], n, p=[0.6, 0.35, 0.05]),
            "products": rng.integers(1, 4, n).astype(float),
            "monthly_revenue": rng.gamma(2.0, 30.0, n),
        }
    )
    customers.loc[rng.random(n) < 0.05, "monthly_revenue"] = np.nan
    return customers.astype({"id": "str", "segment": "str"})


def _signals(customers: pd.Series, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Signals of some customers: several issues each, ``other`` / empty / missing topics,
    missing sentiment and labels, phrases and competitors now and then."""
    topics = np.array([*TOPICS, "other", "", None], dtype=object)
    signals = pd.DataFrame(
        {
            "interaction_id": [f"I{k}" for k in range(n)],
            "customer_id": rng.choice(customers.to_numpy(), n),
            "timestamp": AS_OF - pd.to_timedelta(rng.integers(0, 90 * 24, n), unit="h"),
            "channel": "chat",
            "handling_cost": rng.gamma(2.0, 3.0, n),
            "root_cause": rng.choice(topics, n, p=[0.2, 0.15, 0.1, 0.1, 0.05, 0.3, 0.05, 0.05]),
            "secondary_root_cause": np.where(rng.random(n) < 0.3, rng.choice(topics, n), ""),
            "sentiment": np.where(rng.random(n) < 0.1, np.nan, np.round(rng.uniform(-1, 1, n), 2)),
            "sentiment_label": rng.choice(["negative", "neutral", "positive", None], n),
            "competitors": rng.choice(["", "", "", "Acme", "Acme, Globex", None], n),
            "escalation": rng.random(n) < 0.1,
            "churn_language": rng.random(n) < 0.05,
            "escalation_phrase": np.where(rng.random(n) < 0.05, "speak to a manager", ""),
            "churn_phrase": np.where(rng.random(n) < 0.05, "cancel", ""),
            "repeat_contact": rng.random(n) < 0.2,
        }
    )
    strings = [c for c in signals.columns if signals[c].dtype == object]
    return signals.astype(dict.fromkeys(strings, "str"))


def _setting(seed: int, language: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Any]:
    rng = np.random.default_rng(seed)
    customers = _customers(120, rng)
    signals = _signals(customers["id"].iloc[:100], 500, rng)
    features = customer_features(
        customers, issue_flags(signals), as_of=AS_OF, signals=signals if language else None
    )
    features = features.drop(columns="issue:unmodelled")  # a topic the model does not know
    churn = rng.random(len(features)) < 0.1 + 0.3 * features["issue:outage"].to_numpy()
    model = ChurnRiskModel().fit(features, pd.Series(churn.astype(int), index=features.index))
    ids = customers["id"].to_numpy()
    known = ids[rng.random(len(ids)) < 0.9]  # some customers without a value
    values = pd.DataFrame(
        {
            "customer_id": known,
            "segment": rng.choice(["consumer", "smb"], len(known)),
            "value": np.round(rng.gamma(2.0, 400.0, len(known)), -2),  # ties in value
            "value_low": 10.0,
            "value_high": 5000.0,
            "value_source": rng.choice(["finance", "model"], len(known)),
        }
    )
    values.loc[3, "value"] = np.nan
    return customers.set_index("id", drop=False), values.set_index("customer_id"), signals, model


def _frame_path(
    customers: pd.DataFrame,
    values: pd.DataFrame,
    part: pd.DataFrame,
    model: ChurnRiskModel,
    scorable: list[str],
    language: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``LiveScorer._exposure``: the frame functions on the customers' signals."""
    features = customer_features(
        customers.loc[scorable].reset_index(drop=True),
        issue_flags(part),
        as_of=AS_OF,
        signals=part if language else None,
    ).reindex(columns=model.columns_, fill_value=0.0)
    return customer_exposure(
        features, model, values, customer_signal_summary(part), horizon_factor=0.7
    )


@pytest.mark.parametrize("language", [False, True], ids=["issues", "language"])
@pytest.mark.parametrize("seed", range(4))
def test_few_customers_give_the_frames_of_the_frame_functions(seed: int, language: bool) -> None:
    customers, values, signals, model = _setting(seed, language)
    assert FewCustomers.takes(customers, values)
    few = FewCustomers(customers, values, model, as_of=AS_OF, horizon_factor=0.7, language=language)
    rng = np.random.default_rng(seed)
    with_rows = signals["customer_id"].unique()
    for size in (1, 5, 40):
        scorable = list(rng.choice(with_rows, size, replace=False))
        part = signals[signals["customer_id"].isin(scorable)].reset_index(drop=True)
        expected = _frame_path(customers, values, part, model, scorable, language)
        got = few.rows(Columns.of(part), scorable)
        if expected[0].empty:  # nothing the model knows: left to the frame path
            assert got is None
            continue
        assert got is not None
        long, risk = got
        pd.testing.assert_frame_equal(long, expected[0].reset_index(drop=True), check_exact=True)
        pd.testing.assert_frame_equal(risk, expected[1], check_exact=True)


def test_few_customers_leave_rows_without_known_issues_to_the_frame_path() -> None:
    customers, values, signals, model = _setting(0, False)
    few = FewCustomers(customers, values, model, as_of=AS_OF, horizon_factor=0.7, language=False)
    part = signals.iloc[:3].assign(root_cause="other", secondary_root_cause="")
    assert few.rows(Columns.of(part), list(part["customer_id"].unique())) is None


def test_few_customers_need_unique_ids() -> None:
    customers, values, _, _ = _setting(0, False)
    twice = pd.concat([customers, customers.iloc[:1]])
    assert not FewCustomers.takes(twice, values)
