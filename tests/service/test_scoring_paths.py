"""Live scoring on arrays gives the views of scoring on frames; signals rows as a frame would.

The array path (:class:`cximpact.service._few.FewCustomers`, :meth:`SignalRows.take_rows`)
scores batches of plain signals; the frame path (the batch flow's frame functions) takes the
rest. Both must give the same snapshot, frame for frame, to the last bit.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cximpact.service import _rows
from cximpact.service.scoring import LiveScorer, LiveView, SignalRows

from .conftest import Running

TEXTS = [
    "charged twice on my bill again, I want a refund or I am switching to Acme",
    "the outage took my internet down again, no signal for days",
    "the app crashes every time I log in, escalate this to a manager",
    "I want to cancel, your competitor Globex is cheaper",
    "thanks, all sorted now",
]


def _assert_same(array: LiveView, frame: LiveView) -> None:
    for name in ("issues", "customers", "risk", "totals", "signals"):
        pd.testing.assert_frame_equal(getattr(array, name), getattr(frame, name), check_exact=True)
    assert array.touched == frame.touched
    assert array.live_interactions == frame.live_interactions


def _batches(view: LiveView, churned: set[str]) -> list[pd.DataFrame]:
    """New rows, corrections that move rows between customers, unknown, churned and missing
    customers, a repeated id, nothing the model knows, and contacts at the repeat window's
    edge (14 days)."""
    rng = np.random.default_rng(5)
    customers = view.risk["customer_id"].astype(str).to_numpy()
    start = pd.Timestamp("2026-04-29 10:00")

    def rows(ids: list[str], who: Any, texts: Any, days: Any = None) -> pd.DataFrame:
        when = rng.integers(0, 20, len(ids)) if days is None else days
        return pd.DataFrame(
            {
                "id": ids,
                "customer_id": who,
                "timestamp": [start + pd.Timedelta(days=int(d)) for d in when],
                "channel": "chat",
                "text": texts,
                "handling_cost": None,
            }
        )

    def texts(n: int) -> list[str]:
        return [TEXTS[k] for k in rng.integers(0, len(TEXTS), n)]

    hot = list(rng.choice(customers, 6))
    new = [rows([f"p-{k}" for k in range(40)], rng.choice(customers, 40), texts(40))]
    new.append(rows([f"p-{k}" for k in range(0, 40, 4)], rng.choice(customers, 10), texts(10)))
    odd = ["no-such-customer", sorted(churned)[0] if churned else customers[0], None]
    new.append(rows([f"q-{k}" for k in range(6)], odd * 2, texts(6)))
    new.append(rows(["r-1", "r-1", "r-2"], rng.choice(customers, 3), texts(3)))
    new.append(rows([f"s-{k}" for k in range(8)], rng.choice(customers, 8), [TEXTS[-1]] * 8))
    edge = rows([f"t-{k}" for k in range(12)], hot * 2, [TEXTS[1]] * 12, [0, 14, 15] * 4)
    new.append(edge)
    return new


@pytest.mark.parametrize("compact", [False, True], ids=["parts", "compacted"])
def test_array_path_gives_the_views_of_the_frame_path(
    running: Running, compact: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if compact:  # merge the recent rows into a new base after every batch
        monkeypatch.setattr(_rows, "_COMPACT_MIN", 1)
    scorer: LiveScorer = running.app.state.services.ingestor.scorer
    assert scorer._few is not None  # the array path is on
    frames = copy.copy(scorer)
    frames._few = None  # the frame path only
    array_view, frame_view = scorer.first_view(1), frames.first_view(1)
    for batch in _batches(array_view, scorer.churned):
        signals = scorer.signals_of(batch)
        array_view = scorer.score(array_view, batch, signals)
        frame_view = frames.score(frame_view, batch, signals)
        _assert_same(array_view, frame_view)
    assert array_view.touched


def test_signals_of_another_dtype_are_scored_on_frames(running: Running) -> None:
    """Rows of other dtypes (here nanosecond timestamps) are kept as their own part, and the
    view's signals are their concatenation, as a frame of all rows would be."""
    scorer: LiveScorer = running.app.state.services.ingestor.scorer
    view = scorer.first_view(1)
    batch = _batches(view, scorer.churned)[0]
    signals = scorer.signals_of(batch).astype({"timestamp": "datetime64[ns]"})
    after = scorer.score(view, batch, signals)
    assert not after.signal_rows.uniform
    expected = pd.concat([view.signals, signals], ignore_index=True)
    assert after.signals["timestamp"].dtype == expected["timestamp"].dtype
    assert sorted(after.signals["interaction_id"]) == sorted(expected["interaction_id"])


def _reference_take(
    frame: pd.DataFrame, ids: list[str], customers: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """What :meth:`SignalRows.take` keeps and gives, on one frame of the current rows."""
    replaced = frame["interaction_id"].isin(ids).to_numpy()
    moved = frame["customer_id"].to_numpy()[replaced].tolist()
    owners = frame["customer_id"].isin([*customers, *moved]).to_numpy()
    history = frame[owners & ~replaced].reset_index(drop=True)
    rest = frame[~owners & ~replaced].reset_index(drop=True)
    return history, rest, moved


@pytest.mark.parametrize("seed", range(4))
def test_signal_rows_keep_what_one_frame_would(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random takes and adds (corrections, new rows, parts merged and compacted): the rows
    given and kept are those of one frame, in its order."""
    monkeypatch.setattr(_rows, "_COMPACT_MIN", 40)
    rng = np.random.default_rng(seed)
    customers = [f"c{k}" for k in range(12)]

    def new_rows(start: int, n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "interaction_id": [f"i{start + k}" for k in range(n)],
                "customer_id": rng.choice(customers, n),
                "value": rng.random(n),
                "note": rng.choice(np.array(["a", "", None], dtype=object), n),  # missing too
            }
        ).astype({"interaction_id": "str", "customer_id": "str", "note": "str"})

    frame = new_rows(0, 60)
    rows = SignalRows.of(frame)
    for step in range(30):
        ids = [*rng.choice(frame["interaction_id"], 3), f"i{1000 + step}"]
        who = list(rng.choice(customers, 2))
        history, moved, rows = rows.take(np.array(ids, dtype=object), np.array(who, dtype=object))
        want, frame, want_moved = _reference_take(frame, ids, who)
        pd.testing.assert_frame_equal(history, want, check_exact=True)
        assert set(moved) == set(want_moved)  # an id asked twice may give its owner twice
        pd.testing.assert_frame_equal(rows.frame(), frame, check_exact=True)
        added = pd.concat([history, new_rows(100 * (step + 1), 5)], ignore_index=True)
        rows = rows.plus(added)
        frame = pd.concat([frame, added], ignore_index=True)
        pd.testing.assert_frame_equal(rows.frame(), frame, check_exact=True)
        assert len(rows) == len(frame) and rows.uniform
