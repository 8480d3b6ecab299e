"""Live scoring: unchanged rows rank as the batch ranks them; scoring is pure."""

from __future__ import annotations

import pandas as pd
import pytest

from .conftest import Running


def test_live_ranking_of_the_batch_rows_is_the_batch_ranking(running: Running) -> None:
    scorer = running.app.state.services.ingestor.scorer
    exposure = scorer.analysis.exposure
    got = scorer._issues(exposure.customers)
    pd.testing.assert_frame_equal(got, exposure.issues, check_dtype=False, rtol=1e-6)


def test_scoring_returns_a_new_view_and_leaves_the_old_one(running: Running) -> None:
    ingestor = running.app.state.services.ingestor
    view = ingestor.view
    customer = str(view.risk["customer_id"].iloc[0])
    new = pd.DataFrame(
        {
            "id": ["pure-1"],
            "customer_id": [customer],
            "timestamp": [pd.Timestamp("2026-04-30 10:00")],
            "channel": ["chat"],
            "text": ["the outage took my internet down again, no signal for days"],
            "handling_cost": [None],
        }
    )
    signals_before = len(view.signals)
    after = ingestor.scorer.score(view, new)
    assert len(view.signals) == signals_before and len(after.signals) == signals_before + 1
    assert after.version == view.version + 1
    assert after.live_interactions == view.live_interactions + 1
    assert "pure-1" not in set(view.signals["interaction_id"])
    with pytest.raises(KeyError):
        view.signals.set_index("interaction_id").loc["pure-1"]
