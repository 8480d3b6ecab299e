"""The simulator: deterministic per seed, consistent exports, truth with harmless issues."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cximpact.errors import ConfigError
from cximpact.simulate import SimulationConfig, simulate, write_enterprise


def test_same_seed_same_enterprise_other_seed_differs() -> None:
    a = simulate(SimulationConfig(customers=300, days=60, seed=4))
    b = simulate(SimulationConfig(customers=300, days=60, seed=4))
    c = simulate(SimulationConfig(customers=300, days=60, seed=5))
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    assert a.truth == b.truth
    assert not a.interactions["text"].equals(c.interactions["text"])


def test_exports_are_consistent(tmp_path: Path) -> None:
    ent = simulate(SimulationConfig(customers=500, days=90, seed=1, finance_coverage=0.5))
    ids = set(ent.customers["id"])
    for frame in (ent.interactions, ent.transactions, ent.outcomes, ent.finance):
        assert set(frame["customer_id"]) <= ids
    assert ent.interactions["id"].is_unique
    assert 0.35 < len(ent.finance) / len(ent.customers) < 0.65
    churn = ent.outcomes.set_index("customer_id")["churn_date"]
    last = ent.interactions.groupby("customer_id")["timestamp"].max().str[:10]
    common = last.index.intersection(churn.index)
    assert (last[common] < churn[common]).all(), "customers do not contact after they left"
    paths = write_enterprise(ent, tmp_path)
    truth = json.loads(paths["truth"].read_text())
    assert any(i["harmless"] for i in truth["issues"]) and any(
        not i["harmless"] for i in truth["issues"]
    )
    assert all(i["revenue_at_risk"] == 0 for i in truth["issues"] if i["harmless"])
    assert not any(c.startswith("_") for c in pd.read_csv(paths["interactions"]).columns)


def test_top_issues_are_separated_and_vary_by_seed() -> None:
    tops = []
    for seed in range(4):
        issues = simulate(SimulationConfig(customers=20000, days=180, seed=seed)).truth["issues"]
        rar = np.array([i["revenue_at_risk"] for i in issues])
        assert np.all(rar[:2] / rar[1:3] > 1.2), rar[:4]
        tops.append(issues[0]["issue"])
    assert len(set(tops)) > 1


def test_planted_pii_is_in_the_raw_text() -> None:
    texts = simulate(SimulationConfig(customers=400, days=90, seed=2)).interactions["text"]
    assert texts.str.contains("@").any()
    assert texts.str.contains(r"\d{3}-\d{2}-\d{4}|\d{4}[ -]?\d{4}[ -]?\d{4}", regex=True).any()


def test_bad_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="customers"):
        SimulationConfig(customers=3)


def test_smallest_enterprise_and_unwritable_output(tmp_path: Path) -> None:
    tiny = simulate(SimulationConfig(customers=50, days=7, seed=0))
    assert len(tiny.customers) == 50
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="cannot write"):
        write_enterprise(tiny, blocker)
