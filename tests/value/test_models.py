"""The model rung: survival values for subscribers, BG/NBD values for purchase histories."""

import numpy as np
import pandas as pd
import pytest

from cximpact.simulate import SimulationConfig, simulate
from cximpact.value.ladder import estimate_values
from cximpact.value.models import model_values
from cximpact.value.survival import SurvivalValueModel, survival_frame

WINDOW = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-06-30")


@pytest.fixture(scope="module")
def enterprise():  # type: ignore[no-untyped-def]
    return simulate(SimulationConfig(customers=4000, days=180, seed=5))


def _frame(enterprise) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    churn = enterprise.outcomes.set_index("customer_id")["churn_date"]
    return survival_frame(enterprise.customers, churn, window_start=WINDOW[0], as_of=WINDOW[1])


def test_survival_frame_is_left_truncated_and_censored(enterprise) -> None:  # type: ignore[no-untyped-def]
    frame = _frame(enterprise)
    assert (frame["age_exit"] > frame["age_entry"]).all()
    assert frame["event"].sum() == len(enterprise.outcomes)
    new = pd.to_datetime(enterprise.customers.set_index("id")["start_date"]) > WINDOW[0]
    assert (frame.loc[new.to_numpy(), "age_entry"] == 0).all()


def test_survival_matches_lifelines_and_interval_contains_value(enterprise) -> None:  # type: ignore[no-untyped-def]
    frame = _frame(enterprise)
    model = SurvivalValueModel(draws=20).fit(frame)
    rows = frame.iloc[:5]
    ages = np.array([1.0, 4.0])
    scaled = rows.assign(
        **{c: (rows[c] - model.means_[c]) / model.scales_[c] for c in model.columns_}
    )
    expected = model.fitter_.predict_survival_function(scaled, times=ages).to_numpy().T
    np.testing.assert_allclose(model.survival(rows, ages), expected, rtol=1e-6)
    point, low, high = model.expected_years(frame, years=10, discount_rate=0.1)
    assert (low <= point).all() and (point <= high).all()
    assert (point > 0).all() and (point < 10).all()
    # a longer horizon and a lower discount rate can only add value
    longer, _, _ = model.expected_years(frame.iloc[:50], years=20, discount_rate=0.0)
    assert (longer >= point[:50]).all()


def test_survival_values_track_the_simulated_true_lifetimes(enterprise) -> None:  # type: ignore[no-untyped-def]
    """The simulator's true LTV follows its churn process; the model learns it from outcomes."""
    computed = model_values(
        enterprise.customers,
        enterprise.outcomes,
        enterprise.transactions,
        window_start=WINDOW[0],
        as_of=WINDOW[1],
    )
    values = computed.values
    assert set(values["method"]) == {"survival"}
    finance = enterprise.finance.set_index("customer_id")["ltv"]
    both = values.join(finance, how="inner")
    ratio = both["value"].sum() / both["ltv"].sum()
    assert 0.8 < ratio < 1.25, ratio
    assert np.corrcoef(both["value"], both["ltv"])[0, 1] > 0.8


def test_purchase_histories_get_bgnbd_values_and_ladder_prefers_models() -> None:
    rng = np.random.default_rng(3)
    n = 300
    ids = [f"c{i}" for i in range(n)]
    customers = pd.DataFrame(
        {
            "id": ids,
            "start_date": "2024-01-01",
            "segment": "shop",
            "products": 1,
            "monthly_revenue": np.nan,
            "monthly_margin": np.nan,
            "finance_ltv": np.nan,
        }
    )
    rows = []
    for i, cid in enumerate(ids):
        for _ in range(1 + rng.poisson(3 if i % 2 else 0.5)):
            day = pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(rng.integers(0, 360)))
            rows.append({"customer_id": cid, "timestamp": day, "amount": float(rng.gamma(4, 10))})
    transactions = pd.DataFrame(rows)
    computed = model_values(
        customers,
        pd.DataFrame(columns=["customer_id", "churn_date"]),
        transactions,
        window_start=pd.Timestamp("2025-01-01"),
        as_of=pd.Timestamp("2025-12-31"),
        purchase_margin_rate=0.5,
    )
    values = computed.values
    assert len(values) == n and set(values["method"]) == {"bgnbd_gamma_gamma"}
    assert (values["value_low"] <= values["value"]).all()
    assert (values["value"] <= values["value_high"]).all()
    frequent = values.loc[[c for i, c in enumerate(ids) if i % 2], "value"].mean()
    rare = values.loc[[c for i, c in enumerate(ids) if not i % 2], "value"].mean()
    assert frequent > rare
    ladder = estimate_values(customers, None, default_ltv=5.0, model_values=values)
    assert set(ladder["value_source"]) == {"model"}
    assert set(ladder["value_method"]) == {"bgnbd_gamma_gamma"}


def test_models_are_skipped_with_a_note_when_data_is_too_thin(enterprise) -> None:  # type: ignore[no-untyped-def]
    computed = model_values(
        enterprise.customers,
        enterprise.outcomes.iloc[:3],
        enterprise.transactions.iloc[:0],
        window_start=WINDOW[0],
        as_of=WINDOW[1],
    )
    assert computed.values.empty
    assert any("survival model skipped" in note for note in computed.notes)


def test_customers_gone_before_the_window_are_not_invented_churns(enterprise) -> None:  # type: ignore[no-untyped-def]
    churn = enterprise.outcomes.set_index("customer_id")["churn_date"].copy()
    gone = enterprise.customers["id"].iloc[:5]
    churn = pd.concat([churn, pd.Series("2025-06-01", index=gone)])
    frame = survival_frame(enterprise.customers, churn, window_start=WINDOW[0], as_of=WINDOW[1])
    assert not frame.index.isin(gone).any()
    assert frame["event"].sum() == len(enterprise.outcomes)


def test_values_are_what_customers_are_worth_once_their_problems_are_fixed(enterprise) -> None:  # type: ignore[no-untyped-def]
    """Issue covariates take the issues' extra hazard out of every value.

    Without them the hazard of customers who met a problem spreads over everyone and values come
    out short of the simulator's true (issue-free) lifetime values.
    """
    contacts = enterprise.interactions
    planted = contacts[contacts["_topic"] != "other"]
    flags = pd.crosstab(planted["customer_id"], planted["_topic"]).clip(upper=1)
    finance = enterprise.finance.set_index("customer_id")["ltv"]

    def ratio(issue_flags: pd.DataFrame | None) -> float:
        values = model_values(
            enterprise.customers,
            enterprise.outcomes,
            enterprise.transactions,
            window_start=WINDOW[0],
            as_of=WINDOW[1],
            issue_flags=issue_flags,
        ).values
        both = values.join(finance, how="inner")
        return float(both["value"].sum() / both["ltv"].sum())

    without, with_issues = ratio(None), ratio(flags)
    assert with_issues > without
    assert abs(with_issues - 1) < abs(without - 1), (without, with_issues)
