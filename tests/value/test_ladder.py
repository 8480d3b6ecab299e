"""The value ladder: finance overrides, segment ratio fills gaps, default last."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cximpact.value.ladder import estimate_values


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "segment": ["consumer", "consumer", "consumer", "premium", "newseg"],
            "monthly_revenue": [100.0, 100.0, 200.0, 300.0, 50.0],
            "monthly_margin": [40.0, 40.0, 80.0, 120.0, 20.0],
            "finance_ltv": [None, None, None, None, None],
        }
    )


def test_finance_overrides_and_segment_ratio_scales_with_margin() -> None:
    finance = pd.DataFrame({"customer_id": ["a", "b", "d"], "ltv": [1000.0, 1400.0, 9000.0]})
    out = estimate_values(_customers(), finance, default_ltv=777.0).set_index("customer_id")
    assert out.loc["a", "value"] == 1000.0 and out.loc["a", "value_source"] == "finance"
    # consumer ratio LTV/margin: median(25, 35) = 30 -> c has margin 80 -> 2400
    assert out.loc["c", "value_source"] == "segment"
    assert out.loc["c", "value"] == pytest.approx(2400.0)
    assert out.loc["c", "value_low"] <= out.loc["c", "value"] <= out.loc["c", "value_high"]
    assert out.loc["e", "value_source"] == "model"  # no finance values in its segment


def test_finance_column_on_customers_is_used_when_no_feed() -> None:
    customers = _customers().assign(finance_ltv=[500.0, None, None, None, None])
    out = estimate_values(customers, None, default_ltv=1.0).set_index("customer_id")
    assert out.loc["a", "value"] == 500.0
    assert out.loc["b", "value_source"] == "segment"
    assert list(out.columns) == [
        "segment",
        "value",
        "value_low",
        "value_high",
        "value_source",
        "value_method",
    ]


def test_model_rung_when_no_finance_values_and_default_without_margin() -> None:
    """Gupta & Lehmann (2003): LTV = m r / (1 + d - r); m = 12 x 40, r = 0.9, d = 0.1 -> 2160."""
    customers = _customers().assign(monthly_margin=[40.0, 40.0, 80.0, 120.0, None])
    out = estimate_values(customers, None, default_ltv=9.0, annual_churn=0.1).set_index(
        "customer_id"
    )
    assert out.loc["a", "value_source"] == "model"
    assert out.loc["a", "value"] == pytest.approx(480 * 0.9 / 0.2)
    assert out.loc["a", "value_low"] < out.loc["a", "value"] < out.loc["a", "value_high"]
    assert out.loc["e", "value_source"] == "default" and out.loc["e", "value"] == 9.0


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(0, 5000), min_size=5, max_size=40),
    st.lists(st.one_of(st.none(), st.floats(0, 1e6)), min_size=5, max_size=40),
    st.floats(0.01, 0.9),
)
def test_property_intervals_contain_the_value(
    margins: list[float], finance: list[float | None], churn: float
) -> None:
    n = min(len(margins), len(finance))
    customers = pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(n)],
            "segment": ["a", "b"] * (n // 2) + ["a"] * (n % 2),
            "monthly_revenue": [m * 2 for m in margins[:n]],
            "monthly_margin": margins[:n],
            "finance_ltv": finance[:n],
        }
    )
    out = estimate_values(customers, None, default_ltv=100.0, annual_churn=churn)
    assert (out["value_low"] <= out["value"] + 1e-6).all()
    assert (out["value"] <= out["value_high"] + 1e-6).all()
    assert out["value_source"].isin(["finance", "segment", "model", "default"]).all()
