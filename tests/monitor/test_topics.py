"""Candidate issues from discovered topics: the input shape and the rule."""

from __future__ import annotations

import pandas as pd
import pytest

from cximpact.errors import ContractError
from cximpact.monitor.topics import candidate_topics


def test_growing_and_new_topics_become_candidates_largest_first() -> None:
    shares = pd.DataFrame(
        {
            "topic": ["steady", "doubling", "brand new", "too small"],
            "share_recent": [0.10, 0.04, 0.08, 0.002],
            "share_before": [0.09, 0.02, 0.0, 0.0],
            "examples": [["a"], ["b"], ["c"], ["d"]],
        }
    )
    found = candidate_topics(shares)
    assert [t["topic"] for t in found] == ["brand new", "doubling"]
    assert found[0]["lift"] is None and found[1]["lift"] == 2.0
    assert found[1]["examples"] == ["b"]


def test_wrong_shape_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="share_before"):
        candidate_topics(pd.DataFrame({"topic": ["x"], "share_recent": [0.1]}))
    with pytest.raises(ContractError, match="between 0 and 1"):
        candidate_topics(pd.DataFrame({"topic": ["x"], "share_recent": [3], "share_before": [0]}))
