"""Known-value tests of the portfolio's formulas on tiny hand-made frames.

Every expected number is worked out by hand in the comment beside it (tolerance 1e-9).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cximpact.errors import ConfigError
from cximpact.metrics import (
    METRIC_IDS,
    PORTFOLIO,
    Assumptions,
    MetricInputs,
    compute_portfolio,
    make_windows,
    order_by_headline,
)

JAN, FEB, MAR = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01"), pd.Timestamp("2026-03-01")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["A", "B", "C", "D"],
            "start_date": pd.to_datetime(["2024-05-01", "2025-03-01", "2025-07-01", "2026-01-20"]),
            "segment": ["smb", "consumer", "consumer", "consumer"],
            "products": [2, 1, 1, 1],
            "monthly_revenue": [100.0, 50.0, 40.0, 20.0],
            "monthly_margin": [40.0, 10.0, None, 5.0],
        }
    )


def _interactions() -> pd.DataFrame:
    # A: billing 01-05 (resolved), billing again 01-10 (repeat, resolved): one thread
    # B: delivery 01-12 (resolved, 1800 s), abandoned chat 01-20
    # C: fee 02-03 (not resolved), D: delivery 02-10 (resolved, 3600 s)
    return pd.DataFrame(
        {
            "id": ["i1", "i2", "i3", "i4", "i5", "i6"],
            "customer_id": ["A", "A", "B", "B", "C", "D"],
            "timestamp": pd.to_datetime(
                [
                    "2026-01-05 09:00",
                    "2026-01-10 09:00",
                    "2026-01-12 10:00",
                    "2026-01-20 10:00",
                    "2026-02-03 08:00",
                    "2026-02-10 12:00",
                ]
            ),
            "channel": ["phone", "phone", "email", "chat", "phone", "chat"],
            "text": ["x"] * 6,
            "duration_seconds": [600.0, 1200.0, 1800.0, 0.0, 300.0, 3600.0],
            "handling_cost": [10.0, 10.0, 4.0, None, 8.0, 6.0],
            "resolved": [True, True, True, False, False, True],
            "abandoned": [False, False, False, True, False, False],
        }
    )


def _signals(interactions: pd.DataFrame) -> pd.DataFrame:
    causes = ["billing_error", "billing_error", "late_delivery", "other", "unexpected_fee"]
    return pd.DataFrame(
        {
            "interaction_id": interactions["id"],
            "customer_id": interactions["customer_id"],
            "timestamp": interactions["timestamp"],
            "channel": interactions["channel"],
            "handling_cost": interactions["handling_cost"].fillna(6.0),
            "root_cause": [*causes, "late_delivery"],
            "repeat_contact": [False, True, False, False, False, False],
        }
    )


def _inputs(**overrides: object) -> MetricInputs:
    interactions = _interactions()
    base: dict[str, object] = {
        "as_of": MAR,
        "customers": _customers(),
        "interactions": interactions,
        "outcomes": pd.DataFrame({"customer_id": ["C"], "churn_date": ["2026-02-15"]}),
        "transactions": pd.DataFrame(
            {
                "id": ["t1", "t2", "t3", "t4", "t5"],
                "customer_id": ["A", "B", "A", "B", "D"],
                "timestamp": pd.to_datetime(
                    ["2026-01-03", "2026-01-04", "2026-02-03", "2026-02-04", "2026-02-05"]
                ),
                "amount": [100.0, 50.0, 100.0, 50.0, 20.0],
            }
        ),
        "signals": _signals(interactions),
        "customer_values": pd.DataFrame(
            {"customer_id": ["A", "B", "C", "D"], "value": [5000.0, 1000.0, 800.0, 300.0]}
        ),
        "customer_exposure": pd.DataFrame(
            {
                "customer_id": ["A", "B", "D"],
                "issue": ["billing_error", "late_delivery", "late_delivery"],
                "revenue_at_risk": [500.0, 40.0, 10.0],
                "attributable_probability": [0.1, 0.04, 0.02],
            }
        ),
        "issue_exposure": pd.DataFrame(
            {"issue": ["billing_error", "late_delivery"], "revenue_at_risk": [500.0, 50.0]}
        ),
    }
    base |= overrides
    return MetricInputs(**base)  # type: ignore[arg-type]


def _values(metric_id: str, inputs: MetricInputs | None = None, **kw: object) -> list[dict]:
    results = compute_portfolio(
        inputs or _inputs(),
        start=JAN,
        end=MAR,
        window="month",
        **kw,  # type: ignore[arg-type]
    )
    found = {r.definition.id: r.to_dict() for r in results}[metric_id]
    return list(found["values"])


def test_ids_match_the_contract_with_the_presets() -> None:
    """Presets name headline metrics by id (a typed Literal there): the two lists are one."""
    from cximpact.metrics.presets import METRIC_IDS as PRESET_METRIC_IDS

    assert METRIC_IDS == PRESET_METRIC_IDS
    assert len(set(METRIC_IDS)) == 15
    assert {m.horizon for m in PORTFOLIO} == {"short", "medium", "long"}


def test_every_metric_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [m.id for m in PORTFOLIO if f"`{m.id}`" not in text]
    assert not missing, f"document these metrics in docs/metrics.md: {missing}"


def test_calendar_windows_are_clipped_to_the_period() -> None:
    windows = make_windows(pd.Timestamp("2026-01-15"), pd.Timestamp("2026-03-10"), "month")
    assert [(w.label, w.start.day, w.end.strftime("%m-%d")) for w in windows] == [
        ("2026-01", 15, "02-01"),
        ("2026-02", 1, "03-01"),
        ("2026-03", 1, "03-10"),
    ]
    weeks = make_windows(pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-19"), "week")
    assert [w.label for w in weeks] == ["2026-W02", "2026-W03"]
    assert [w.label for w in make_windows(JAN, pd.Timestamp("2026-07-01"), "quarter")] == [
        "2026Q1",
        "2026Q2",
    ]
    with pytest.raises(ConfigError, match="--window"):
        make_windows(JAN, MAR, "fortnight")
    with pytest.raises(ConfigError, match="after --from"):
        make_windows(MAR, JAN, "month")


def test_cost_per_contact_fills_missing_costs_with_the_default() -> None:
    jan, feb = _values("cost_per_contact")
    assert jan["value"] == pytest.approx((10 + 10 + 4 + 6) / 4)  # i4 has no cost: default 6
    assert jan["by"] == {"chat": 6.0, "email": 4.0, "phone": 10.0}
    assert feb["value"] == pytest.approx((8 + 6) / 2)
    assert feb["change"] == pytest.approx(7.0 - 7.5)


def test_cost_per_customer_divides_by_active_customers() -> None:
    jan, feb = _values("cost_per_customer")
    assert jan["value"] == pytest.approx(30 / 4)  # A, B, C and D (joined 01-20) active in Jan
    assert feb["value"] == pytest.approx(14 / 4)  # C churned 02-15: still active in Feb
    assert jan["by"] == {"consumer": pytest.approx(10 / 3), "smb": 20.0}


def test_first_contact_resolution() -> None:
    jan, feb = _values("first_contact_resolution")
    # Jan first contacts: i1 (resolved but repeated on 01-10 -> failure), i3 (resolved, no
    # repeat -> success); i4 is abandoned and excluded. Feb: i5 not resolved, i6 resolved.
    assert jan["value"] == pytest.approx(1 / 2)
    assert feb["value"] == pytest.approx(1 / 2)


def test_repeat_abandonment_and_status_shares() -> None:
    assert [v["value"] for v in _values("repeat_contact_rate")] == [pytest.approx(1 / 4), 0.0]
    abandoned = _values("abandonment_rate")
    assert abandoned[0]["value"] == pytest.approx(1 / 4)
    assert abandoned[0]["by"] == {"chat": 1.0, "email": 0.0, "phone": 0.0}
    status = _values("status_contact_share")  # late_delivery is a status root cause
    assert [v["value"] for v in status] == [pytest.approx(1 / 4), pytest.approx(1 / 2)]


def test_time_to_resolution_is_the_median_thread_duration() -> None:
    jan, feb = _values("time_to_resolution_hours")
    # Jan threads resolved: A billing (01-05 09:00 -> 01-10 09:00 + 1200 s) = 120 h + 1/3 h;
    # B delivery (one contact, 1800 s) = 0.5 h. Median of two = their mean.
    assert jan["value"] == pytest.approx((120 + 1200 / 3600 + 0.5) / 2)
    assert feb["value"] == pytest.approx(1.0)  # D: one contact of 3600 s; C unresolved


def test_book_value_by_segment_and_cohort_moves_with_churn() -> None:
    jan, feb = _values("ltv_by_segment")
    assert jan["value"] == pytest.approx(7100.0)  # all four active at the end of January
    assert feb["value"] == pytest.approx(6300.0)  # C (800) churned on 02-15
    assert feb["change"] == pytest.approx(-800.0)
    assert feb["by"] == {"consumer": 1300.0, "smb": 5000.0}
    cohort = _values("ltv_by_cohort")
    assert cohort[1]["by"] == {"2024": 5000.0, "2025": 1000.0, "2026": 300.0}


def test_high_value_retention() -> None:
    a = Assumptions(high_value_share=0.5)  # top half by value: A (5000) and B (1000)
    jan, feb = _values("high_value_retention", assumptions=a)
    assert jan["value"] == 1.0 and feb["value"] == 1.0
    a = Assumptions(high_value_share=0.75)  # A, B and C (800); C churns in February
    jan, feb = _values("high_value_retention", assumptions=a)
    assert jan["value"] == 1.0
    assert feb["value"] == pytest.approx(2 / 3)
    assert feb["by"] == {"consumer": pytest.approx(1 / 2), "smb": 1.0}


def test_margin_after_cost_to_serve() -> None:
    jan, feb = _values("margin_by_segment")
    # Jan: A 100 x 0.4 + B 50 x 0.2 = 50 gross; cost 30 (A 20, B 4 + 6)
    assert jan["components"] == {"gross_margin": 50.0, "cost_to_serve": 30.0}
    assert jan["value"] == pytest.approx(20.0)
    assert jan["by"] == {"consumer": 0.0, "smb": 20.0}
    # Feb: A 40 + B 10 + D 20 x 0.25 = 55; cost C 8 (no margin column: rate 0.3 unused) + D 6
    assert feb["value"] == pytest.approx(55.0 - 14.0)


def test_exposure_trend_counts_pairs_in_their_contact_window() -> None:
    jan, feb = _values("exposure_trend")
    assert jan["value"] == pytest.approx(540.0)  # A billing 500 (two contacts, once) + B 40
    assert jan["by"] == {"billing_error": 500.0, "late_delivery": 40.0}
    assert feb["value"] == pytest.approx(10.0)  # D late_delivery


def test_revenue_predictability() -> None:
    jan, feb = _values("revenue_predictability")
    assert jan["value"] is None and "before the window" in jan["note"]
    assert feb["value"] == pytest.approx(150 / 170)  # D's 20 is new revenue


def test_ebitda_impact_formula() -> None:
    jan, feb = _values("ebitda_impact")
    lost = 0.5 * (0.1 * 40 * 12 + 0.04 * 10 * 12)  # lost_year_share x p x annual margin
    cost = (10 + 10 + 4) * 365 / 31  # Jan contacts on exposed issues, annualised
    assert jan["components"]["lost_margin"] == pytest.approx(lost)
    assert jan["components"]["avoidable_cost_to_serve"] == pytest.approx(cost)
    assert jan["value"] == pytest.approx(lost + cost)
    assert feb["value"] == pytest.approx(0.5 * 0.02 * 5 * 12 + 6 * 365 / 28)


def test_missing_data_is_reported_never_invented() -> None:
    bare = _inputs(
        signals=pd.DataFrame(),
        customer_values=pd.DataFrame(),
        customer_exposure=pd.DataFrame(),
        issue_exposure=pd.DataFrame(),
        transactions=pd.DataFrame(),
        interactions=_interactions().drop(columns=["abandoned", "resolved"]),
    )
    results = {
        r.definition.id: r.to_dict()
        for r in compute_portfolio(bare, start=JAN, end=MAR, window="month")
    }
    no_data = {k for k, r in results.items() if r["status"] == "no data"}
    assert no_data == set(METRIC_IDS) - {"cost_per_contact", "cost_per_customer"}
    for metric_id in no_data:
        r = results[metric_id]
        assert r["enabled_by"], metric_id
        assert all(v["value"] is None and v["status"] == "no data" for v in r["values"])
    assert "resolved" in results["first_contact_resolution"]["note"]
    assert results["share_of_wallet"]["status"] == "no data"


def test_facts_after_as_of_are_ignored() -> None:
    early = _inputs(as_of=pd.Timestamp("2026-02-05"))
    _, feb = _values("cost_per_contact", early)
    assert feb["value"] == pytest.approx(8.0)  # only i5 (02-03) is before as_of


def test_headline_metrics_come_first() -> None:
    results = compute_portfolio(_inputs(), start=JAN, end=MAR, window="month")
    ordered = order_by_headline(results, ["ebitda_impact", "exposure_trend"])
    assert [r.definition.id for r in ordered[:3]] == [
        "ebitda_impact",
        "exposure_trend",
        "cost_per_contact",
    ]


def test_first_contacts_are_judged_only_after_their_repeat_window() -> None:
    """A first contact two days before as_of may still be repeated: it is not a success yet."""
    early = _inputs(as_of=pd.Timestamp("2026-02-05"))
    jan, feb = _values("first_contact_resolution", early)
    assert jan["value"] == pytest.approx(1 / 2)  # January's firsts are past their window
    assert feb["value"] is None  # i5 (02-03) cannot be judged on 02-05
