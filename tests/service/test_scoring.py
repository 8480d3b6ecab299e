"""Live scoring: unchanged rows rank as the batch ranks them; scoring is pure; the incremental
issue totals equal a full recompute on the same data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cximpact.exposure.issues import compute_exposure, customer_signal_summary, issue_flags
from cximpact.risk.model import customer_features
from cximpact.service import _rows
from cximpact.service.scoring import SignalRows

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


def _batch(view: Any, start: int, size: int, texts: list[str]) -> pd.DataFrame:
    """``size`` new interactions of existing customers, as stored rows."""
    customers = view.risk["customer_id"].astype(str).to_numpy()
    pick = np.random.default_rng(start).choice(len(customers), size)
    return pd.DataFrame(
        {
            "id": [f"eq-{start + i}" for i in range(size)],
            "customer_id": customers[pick],
            "timestamp": [
                pd.Timestamp("2026-04-29 10:00") + pd.Timedelta(hours=i) for i in range(size)
            ],
            "channel": "chat",
            "text": [texts[i % len(texts)] for i in range(size)],
            "handling_cost": None,
        }
    )


def _full_recompute(scorer: Any, view: Any) -> Any:
    """The exposure of every customer from the view's signals, computed from scratch."""
    signals = view.signals
    settings = scorer.settings
    features = customer_features(
        scorer.customers.reset_index(drop=True),
        issue_flags(signals),
        as_of=scorer.analysis.as_of,
        signals=signals if settings.risk_language_signals else None,
    ).reindex(columns=scorer.analysis.model.columns_, fill_value=0.0)
    active = pd.Series(~features.index.isin(list(scorer.churned)), index=features.index)
    return compute_exposure(
        features,
        scorer.analysis.model,
        scorer.analysis.values,
        customer_signal_summary(signals),
        active=active,
        horizon_factor=scorer.horizon_factor,
        interval_draws=2,
    )


@pytest.mark.parametrize("compact", [False, True], ids=["parts", "compacted"])
def test_incremental_issue_totals_equal_a_full_recompute(
    running: Running, compact: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if compact:  # merge the recent rows into a new base after every batch
        monkeypatch.setattr(_rows, "_COMPACT_MIN", 1)
    scorer = running.app.state.services.ingestor.scorer
    view = scorer.first_view(1)
    texts = [
        "charged twice on my bill again, I want a refund or I am switching",
        "the outage took my internet down again, no signal for days",
        "the app crashes every time I log in, escalate this to a manager",
        "thanks, all sorted now",
    ]
    for step in range(4):  # new interactions, several per customer, rescored customers
        view = scorer.score(view, _batch(view, 1000 * step, 40, texts))
    corrected = _batch(view, 0, 5, texts[::-1])  # same ids, other texts and customers
    view = scorer.score(view, corrected)
    assert view.touched

    full = _full_recompute(scorer, view)
    want = scorer._issues(full.customers).set_index("issue").sort_index()
    got = view.issues.set_index("issue").sort_index()
    assert list(got.index) == list(want.index)
    columns = [c for c in want.columns if c not in ("rank", "risk_source")]
    pd.testing.assert_frame_equal(
        got[columns], want[columns], check_dtype=False, rtol=1e-9, atol=1e-9
    )
    assert list(view.issues["issue"]) == list(scorer._issues(full.customers)["issue"])
    # and the customer-issue rows themselves
    key = ["customer_id", "issue"]
    rows = view.customers.sort_values(key).reset_index(drop=True)
    again = full.customers.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        rows[again.columns], again, check_dtype=False, rtol=1e-9, atol=1e-9
    )


def test_incremental_totals_follow_a_rescored_customer_down(running: Running) -> None:
    """Totals subtract a rescored customer's old rows: the running sums equal a re-sum."""
    scorer = running.app.state.services.ingestor.scorer
    view = scorer.first_view(1)
    texts = ["charged twice on my bill again", "no signal for days, the outage again"]
    for step in range(3):
        view = scorer.score(view, _batch(view, 50 * step, 30, texts))
    resummed = scorer.issue_sums(view.customers)
    pd.testing.assert_frame_equal(view.totals, resummed, rtol=1e-9, atol=1e-9)


def test_signal_rows_take_and_add_as_a_frame_would() -> None:
    frame = pd.DataFrame(
        {
            "interaction_id": [f"i{i}" for i in range(8)],
            "customer_id": ["a", "b", "a", "c", "b", "d", "a", "c"],
            "value": range(8),
        }
    )
    rows = SignalRows.of(frame)
    history, moved, rest = rows.take(np.array(["i1", "i9"]), np.array(["a"]))
    assert sorted(history["interaction_id"]) == ["i0", "i2", "i4", "i6"]  # a's, and b's (moved)
    assert list(moved) == ["b"]
    assert sorted(rest.frame()["interaction_id"]) == ["i3", "i5", "i7"]
    assert len(rows) == 8 and len(rows.frame()) == 8  # the old rows are untouched
    new = pd.DataFrame({"interaction_id": ["i1", "i8"], "customer_id": ["d", "a"], "value": [9, 8]})
    grown = rest.plus(pd.concat([history, new], ignore_index=True))
    assert len(grown) == 9 and grown.parts
    history, moved, rest = grown.take(np.array(["i8"]), np.array(["d"]))
    assert sorted(history["interaction_id"]) == ["i0", "i1", "i2", "i5", "i6"]  # d's and a's
    assert sorted(moved) == ["a"]
    assert sorted(rest.frame()["interaction_id"]) == ["i3", "i4", "i7"]


def test_isin_equals_pandas_isin_on_strings_objects_and_missing_values() -> None:
    arrow = pd.Series(["a", "b", None, "c", "a"], dtype="str")
    objects = pd.Series(["a", 1, None, "c", "a"], dtype=object)
    for column in (arrow, objects, pd.Index(arrow)):
        for wanted in (["a", "c"], {"b"}, np.array(["c", "zz"], dtype=object), [], [None, "a"]):
            expected = pd.Series(column).isin(list(wanted)).to_numpy()
            np.testing.assert_array_equal(_rows.isin(column, wanted), expected)
