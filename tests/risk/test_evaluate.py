"""evaluate_churn, load_churn_table and expected_calibration_error on generated files."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cximpact.errors import ConfigError, ContractError, CximpactWarning
from cximpact.risk.evaluate import (
    evaluate_churn,
    expected_calibration_error,
    guess_positive,
    load_churn_table,
)


def write_table(
    tmp_path: Path, n: int = 1500, seed: int = 0, yes: str = "Yes", no: str = "No"
) -> Path:
    """A Telco-like CSV: id, numbers with blanks, text columns, a text target with a signal."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, n)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.5, 0.3, 0.2])
    logit = -0.3 - 0.05 * tenure + np.select([contract == "Two year"], [-2.0], 0.0)
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    total = np.round(tenure * rng.uniform(20, 100, n), 2).astype(str)
    total[tenure == 0] = " "  # IBM Telco's blank TotalCharges
    frame = pd.DataFrame(
        {
            "customerID": [f"{i:04d}-ABCDE" for i in range(n)],
            "tenure": tenure.astype(str),
            "Contract": contract,
            "TotalCharges": total,
            "Region": rng.choice(["north", "south", ""], n),
            "Churn": np.where(churn, yes, no),
        }
    )
    path = tmp_path / "churn.csv"
    frame.to_csv(path, index=False)
    return path


# --- expected calibration error ---------------------------------------------------------------


def test_ece_perfectly_calibrated_is_about_zero() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(200_000)
    y = (rng.random(p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.01


def test_ece_known_values() -> None:
    assert expected_calibration_error([1, 1, 0, 0], [0.0, 0.0, 1.0, 1.0]) == pytest.approx(1.0)
    assert expected_calibration_error([1, 0, 1, 0], [0.9] * 4) == pytest.approx(0.4)
    # two bins: [0.1, 0.1] vs outcome rate 0.5, [0.8] vs 1 -> (2*0.4 + 1*0.2) / 3
    assert expected_calibration_error([1, 0, 1], [0.1, 0.1, 0.8]) == pytest.approx(1.0 / 3)
    assert expected_calibration_error([1, 0], [1.0, 0.0]) == 0.0


def test_ece_rejects_bad_input() -> None:
    with pytest.raises(ContractError):
        expected_calibration_error([1, 0], [0.5])
    with pytest.raises(ContractError):
        expected_calibration_error([1, 0], [0.5, 1.5])
    with pytest.raises(ValueError):
        expected_calibration_error([1, 0], [0.5, 0.5], bins=0)


# --- target guessing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["Yes", "No"], "Yes"),
        (["1", "0"], "1"),
        (["True", "False"], "True"),
        (["Churned", "Stayed", "Joined"], "Churned"),
        (["no", "YES"], "YES"),
        (["Attrited Customer", "Existing Customer"], "Attrited Customer"),
    ],
)
def test_guess_positive(values: list[str], expected: str) -> None:
    assert guess_positive(pd.Series(values * 3), "Churn") == expected


@pytest.mark.parametrize("values", [["A", "B"], ["Yes", "Churned", "No"]])
def test_guess_positive_ambiguous_asks_for_positive(values: list[str]) -> None:
    with pytest.raises(ContractError, match="--positive") as info:
        guess_positive(pd.Series(values), "Churn")
    assert "'A'" in str(info.value) or "'Churned'" in str(info.value)


# --- loading ----------------------------------------------------------------------------------


def test_load_infers_types_and_drops_ids(tmp_path: Path) -> None:
    X, y = load_churn_table(write_table(tmp_path), "Churn", None, "customerID")
    assert list(X.columns) == ["tenure", "Contract", "TotalCharges", "Region"]
    assert X["tenure"].dtype == float
    assert X["TotalCharges"].dtype == float
    assert X["TotalCharges"].isna().sum() == (X["tenure"] == 0).sum() > 0
    assert X["Contract"].dtype == object
    assert X["Region"].isna().any()
    assert set(np.unique(y)) == {0, 1}
    assert len(X) == len(y) == 1500


def test_load_drops_id_like_column_without_being_told(tmp_path: Path) -> None:
    X, _ = load_churn_table(write_table(tmp_path), "Churn", None, None)
    assert "customerID" not in X.columns


def test_load_numeric_target_and_explicit_positive(tmp_path: Path) -> None:
    path = write_table(tmp_path, yes="1", no="0")
    _, y = load_churn_table(path, "Churn", None, None)
    _, y_explicit = load_churn_table(path, "Churn", "1", None)
    _, y_flipped = load_churn_table(path, "Churn", "0", None)
    np.testing.assert_array_equal(y, y_explicit)
    np.testing.assert_array_equal(y_flipped, 1 - y)


def test_load_positive_matched_case_insensitively(tmp_path: Path) -> None:
    path = write_table(tmp_path, yes="Left", no="Stayed")
    _, y = load_churn_table(path, "Churn", "left", None)
    assert 0 < y.mean() < 1


def test_load_warns_and_drops_a_leaking_column(tmp_path: Path) -> None:
    path = write_table(tmp_path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["Churn Reason"] = np.where(frame["Churn"] == "Yes", "Competitor", "")
    frame.to_csv(path, index=False)
    with pytest.warns(CximpactWarning, match="Churn Reason"):
        X, _ = load_churn_table(path, "Churn", None, "customerID")
    assert "Churn Reason" not in X.columns


def test_missing_target_names_the_columns(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="--target") as info:
        load_churn_table(write_table(tmp_path), "churn", None, None)
    assert "'Churn'" in str(info.value)


def test_missing_id_column(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="--id-column"):
        load_churn_table(write_table(tmp_path), "Churn", None, "id")


def test_unknown_positive_lists_values(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="'No', 'Yes'"):
        load_churn_table(write_table(tmp_path), "Churn", "Churned", None)


def test_ambiguous_target_asks_for_positive(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="--positive"):
        load_churn_table(write_table(tmp_path, yes="A", no="B"), "Churn", None, None)


def test_one_class_only(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="one class"):
        load_churn_table(write_table(tmp_path, yes="No", no="No"), "Churn", "No", None)


def test_too_few_rows(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="at least 50"):
        load_churn_table(write_table(tmp_path, n=30), "Churn", None, None)


# --- evaluation -------------------------------------------------------------------------------


def test_evaluate_churn_recovers_signal_and_is_calibrated(tmp_path: Path) -> None:
    path = write_table(tmp_path, n=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CximpactWarning)
        result = evaluate_churn(
            path, target="Churn", positive=None, id_column="customerID", folds=3, seed=0
        )
    assert set(result) == {"roc_auc", "pr_auc", "brier", "ece", "n"}
    assert result["n"] == 2000
    assert result["roc_auc"] > 0.75
    assert result["ece"] < 0.05
    assert 0 < result["brier"] < 0.25
    assert all(isinstance(result[k], float) for k in ("roc_auc", "pr_auc", "brier", "ece"))
    assert result["roc_auc"] == round(result["roc_auc"], 4)


def test_evaluate_churn_is_deterministic(tmp_path: Path) -> None:
    path = write_table(tmp_path, n=600)
    kwargs = {"target": "Churn", "positive": None, "id_column": None, "folds": 2, "seed": 1}
    assert evaluate_churn(path, **kwargs) == evaluate_churn(path, **kwargs)  # type: ignore[arg-type]


def test_evaluate_churn_rejects_bad_folds(tmp_path: Path) -> None:
    path = write_table(tmp_path, n=200)
    with pytest.raises(ConfigError, match="folds"):
        evaluate_churn(path, target="Churn", positive=None, id_column=None, folds=1)
