"""RFM summaries of transaction logs and ``evaluate_clv`` / ``cximpact evaluate clv``.

Published reference (checked by ``benchmarks/bench_clv.py`` on the 2,357-customer CDNOW sample,
calibration end 1997-09-30, holdout to 1998-06-30): BG/NBD r 0.243, α 4.414, a 0.793, b 2.426
(Fader, Hardie & Lee 2005); Gamma-Gamma p 6.25, q 3.74, γ 15.44 on 946 repeat buyers
(Fader & Hardie 2013). The optional CDNOW test below runs only where ../shared exists.
"""

from __future__ import annotations

import json
import warnings
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cximpact.cli import app
from cximpact.errors import ConfigError, ContractError, LowSampleWarning
from cximpact.ingest.readers import read_records
from cximpact.value.evaluate import evaluate_clv, rfm_summary

CDNOW = Path(__file__).resolve().parents[3] / "shared" / "data" / "cdnow_sample_transactions.csv"
START = date(2024, 1, 1)


def tiny_log() -> pd.DataFrame:
    """Hand-made log, all text as read_records gives it.

    * ``A``: days 01-01 (two transactions, 10 + 5), 01-08 (20), 01-15 (30); holdout 02-05 (7)
      -> frequency 2, recency 2 weeks, T 4 weeks, monetary mean(20, 30) = 25, holdout 1.
    * ``B``: 01-22 only; holdout 02-01 twice (one day) and 03-10 (after holdout_end)
      -> frequency 0, recency 0, T 1 week, monetary 0, holdout 1.
    * ``C``: first purchase 02-02, after calibration_end -> excluded.
    * ``D``: 01-29 at 23:59 (the calibration_end day) -> T 0.
    """
    rows = [
        ("A", "2024-01-01", "10.0"),
        ("A", "2024-01-01", "5"),
        ("A", "2024-01-08", "20"),
        ("A", "2024-01-15", "30.00"),
        ("A", "2024-02-05", "7"),
        ("B", "2024-01-22", "9.99"),
        ("B", "2024-02-01", "1"),
        ("B", "2024-02-01", "2"),
        ("B", "2024-03-10", "3"),
        ("C", "2024-02-02", "4"),
        ("D", "2024-01-29 23:59:00", "8"),
    ]
    frame = pd.DataFrame(rows, columns=["customer", "when", "value"], dtype=str)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return frame


def test_rfm_summary_on_hand_made_log() -> None:
    log = tiny_log()
    before = log.copy()
    out = rfm_summary(log, "customer", "when", "value", "2024-01-29", "2024-02-26")
    pd.testing.assert_frame_equal(log, before)  # input not modified
    assert out.index.tolist() == ["A", "B", "D"]
    assert out["frequency"].tolist() == [2, 0, 0]
    np.testing.assert_allclose(out["recency"], [2.0, 0.0, 0.0])
    np.testing.assert_allclose(out["T"], [4.0, 1.0, 0.0])
    np.testing.assert_allclose(out["monetary_value"], [25.0, 0.0, 0.0])
    assert out["frequency_holdout"].tolist() == [1, 1, 0]
    np.testing.assert_allclose(out["monetary_value_holdout"], [7.0, 3.0, 0.0])
    np.testing.assert_allclose(out["duration_holdout"], 4.0)


def test_rfm_summary_without_holdout_has_no_holdout_columns() -> None:
    out = rfm_summary(tiny_log(), "customer", "when", "value", date(2024, 1, 29))
    assert list(out.columns) == ["frequency", "recency", "T", "monetary_value"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"customer_column": "cust"}, ContractError, r"'cust'.*--customer-column"),
        ({"date_column": "day"}, ContractError, r"'day'.*--date-column"),
        ({"amount_column": "amt"}, ContractError, r"'amt'.*--amount-column"),
        ({"calibration_end": "2023-12-01"}, ContractError, "no customer bought"),
        ({"calibration_end": "not a date"}, ConfigError, "calibration_end"),
        ({"holdout_end": "2024-01-02"}, ConfigError, "must be after"),
    ],
)
def test_rfm_summary_errors_name_the_problem_and_fix(
    kwargs: dict[str, str], error: type[Exception], message: str
) -> None:
    args = {
        "customer_column": "customer",
        "date_column": "when",
        "amount_column": "value",
        "calibration_end": "2024-01-29",
        "holdout_end": "2024-02-26",
    } | kwargs
    with pytest.raises(error, match=message):
        rfm_summary(tiny_log(), **args)


def test_unparsable_date_amount_and_empty_id_name_the_row() -> None:
    log = tiny_log()
    log.loc[3, "when"] = "yesterday"
    with pytest.raises(ContractError, match=r"'when'.*row 3.*'yesterday'"):
        rfm_summary(log, "customer", "when", "value", "2024-01-29")
    log = tiny_log()
    log.loc[4, "value"] = "$30"
    with pytest.raises(ContractError, match=r"'value'.*row 4.*'\$30'"):
        rfm_summary(log, "customer", "when", "value", "2024-01-29")
    log = tiny_log()
    log.loc[2, "customer"] = " "
    with pytest.raises(ContractError, match=r"'customer'.*row 2"):
        rfm_summary(log, "customer", "when", "value", "2024-01-29")


def test_mixed_date_formats_and_time_zones_are_read_as_days() -> None:
    log = tiny_log()
    log.loc[3, "when"] = "2024-01-08T10:00:00+01:00"
    log.loc[4, "when"] = "01/15/2024"
    out = rfm_summary(log, "customer", "when", "value", "2024-01-29")
    assert out.loc["A", "frequency"] == 2
    assert out.loc["A", "recency"] == pytest.approx(2.0)


# --- evaluate_clv on a simulated transaction log ----------------------------------------------


def simulate_log(n: int, seed: int, weeks: int = 78) -> pd.DataFrame:
    """Transaction log from the BG/NBD + Gamma-Gamma processes, in days.

    First purchases spread over the first 12 weeks; λ ~ Gamma(0.5, rate 6)/week,
    p ~ Beta(0.8, 2.5); spend per transaction Gamma(6, rate ν), ν ~ Gamma(4, rate 15).
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, str]] = []
    for customer in range(n):
        lam, p = rng.gamma(0.5, 1 / 6), rng.beta(0.8, 2.5)
        nu = rng.gamma(4.0, 1 / 15)
        t = first = rng.uniform(0, 12)
        while True:
            day = START + timedelta(days=int(t * 7))
            rows.append((f"c{customer}", day.isoformat(), f"{rng.gamma(6.0, 1 / nu):.2f}"))
            if t > first and rng.random() < p:  # dies after a repeat purchase
                break
            t += rng.exponential(1 / max(lam, 1e-12))
            if t >= weeks:
                break
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clv") / "transactions.csv"
    simulate_log(4000, seed=3).to_csv(path, index=False)
    return path


def test_evaluate_clv_on_simulated_log(log_path: Path) -> None:
    cal_end = (START + timedelta(weeks=39)).isoformat()
    result = evaluate_clv(log_path, calibration_end=cal_end, holdout_end=None)
    assert set(result["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert set(result["gamma_gamma"]) == {"p", "q", "v"}
    assert {
        "predicted_repeat_transactions",
        "actual_repeat_transactions",
        "mae_per_customer",
    } <= set(result["holdout"])
    assert result["n_customers"] == 4000
    assert result["fit"]["bgnbd_converged"] and result["fit"]["gamma_gamma_converged"]
    holdout = result["holdout"]
    # the model is the data-generating process (up to daily rounding): totals agree within 10 %
    assert holdout["predicted_repeat_transactions"] == pytest.approx(
        holdout["actual_repeat_transactions"], rel=0.10
    )
    assert holdout["predicted_repeat_transactions_unconditional"] == pytest.approx(
        holdout["actual_repeat_transactions"], rel=0.10
    )
    assert 0 < holdout["mae_per_customer"] < holdout["rmse_per_customer"]
    assert result["bgnbd"]["r"] / result["bgnbd"]["alpha"] == pytest.approx(0.5 / 6, rel=0.25)
    assert result["gamma_gamma"]["p"] * result["gamma_gamma"]["v"] / (
        result["gamma_gamma"]["q"] - 1
    ) == pytest.approx(6 * 15 / 3, rel=0.10)
    assert result["clv"]["mean"] > 0
    json.dumps(result)  # JSON-ready


def test_evaluate_clv_explicit_holdout_end_and_no_holdout(log_path: Path) -> None:
    cal_end = (START + timedelta(weeks=39)).isoformat()
    short = evaluate_clv(log_path, calibration_end=cal_end, holdout_end="2024-10-27")
    assert short["holdout"]["weeks"] == pytest.approx((date(2024, 10, 27) - START).days / 7 - 39)
    late = evaluate_clv(log_path, calibration_end="2030-01-01", holdout_end=None)
    assert late["holdout"]["predicted_repeat_transactions"] is None


def test_evaluate_clv_too_few_repeat_buyers(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    tiny_log().to_csv(path, index=False)
    with pytest.raises(ContractError, match="repeat buyers"):
        evaluate_clv(
            path,
            customer_column="customer",
            date_column="when",
            amount_column="value",
            calibration_end="2024-01-29",
        )


def test_evaluate_clv_warns_on_small_samples(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    simulate_log(150, seed=4).to_csv(path, index=False)
    with pytest.warns(LowSampleWarning):
        evaluate_clv(path, calibration_end=(START + timedelta(weeks=39)).isoformat())


def test_cli_evaluate_clv_end_to_end(log_path: Path) -> None:
    cal_end = (START + timedelta(weeks=39)).isoformat()
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "clv",
            "--transactions",
            str(log_path),
            "--calibration-end",
            cal_end,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["bgnbd"] == evaluate_clv(log_path, calibration_end=cal_end)["bgnbd"]


def test_cli_reports_missing_column(log_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "clv",
            "--transactions",
            str(log_path),
            "--calibration-end",
            "2024-09-30",
            "--customer-column",
            "client",
        ],
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, ContractError) or "client" in result.output


@pytest.mark.skipif(not CDNOW.exists(), reason="needs ../shared/data/cdnow_sample_transactions.csv")
def test_cdnow_published_values() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", LowSampleWarning)
        result = evaluate_clv(CDNOW, calibration_end="1997-09-30", holdout_end="1998-06-30")
    assert result["n_customers"] == 2357 and result["n_gamma_gamma_customers"] == 946
    published_bg = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published_bg.items():
        assert result["bgnbd"][name] == pytest.approx(value, rel=0.01), name
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert result["gamma_gamma"][name] == pytest.approx(value, rel=0.01), name
    summary = rfm_summary(read_records(CDNOW), "customer_id", "date", "amount", "1997-09-30")
    assert int(summary["frequency"].sum()) == 2457  # repeat purchase days, weeks 1-39
