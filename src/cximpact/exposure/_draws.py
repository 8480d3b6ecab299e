"""Per-issue revenue at risk for many draws of the issue effects at once (the bootstrap).

:func:`cximpact.exposure.attribution.allocate_pairs` for a block of draws: the same formulas,
with what does not depend on the effects (each customer's risk with every issue, the layout
of the pairs) prepared once.

Layout: customers are ordered by their number of issues, most first, and a customer's pairs
are laid out in *slots*: slot ``j`` holds the ``j``-th pair of every customer who has more
than ``j``, so it covers a prefix of the customers. A per-customer sum over pairs is then a
sum of slot arrays over prefixes (``total[:n_j] += slot_j``), in the pairs' order: the same
additions, in the same order, as the ``np.bincount`` of ``allocate_pairs``, without a
gather or a segmented reduction. Arrays are (customers or pairs, draws in the block).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from cximpact.exposure.attribution import over_horizon, sigmoid

__all__ = ["IssueTotals"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
#: Threads the blocks of draws run on (numpy releases the GIL inside each array operation).
THREADS = min(2, os.cpu_count() or 1)
#: Cells (pairs x draws) per block of draws: the block's arrays stay in cache.
BLOCK_CELLS = 200_000


class IssueTotals:
    """Per-issue sums of ``allocated x value x weight`` as a function of the issue effects.

    Parameters
    ----------
    logit
        Churn log-odds with every issue, one per customer.
    value
        Value per customer (dollars).
    rows, cols
        Customer and issue of each pair, ``rows`` ascending (row-major ``np.nonzero`` order,
        or a subset of it).
    weight
        Weight of each pair (inverse inclusion probability of its customer).
    issues
        Number of issues.
    horizon_factor
        As in :func:`cximpact.exposure.attribution.allocate_pairs`.
    """

    def __init__(
        self,
        logit: FloatArray,
        value: FloatArray,
        rows: IntArray,
        cols: IntArray,
        weight: FloatArray,
        issues: int,
        horizon_factor: float,
    ) -> None:
        self.issues = issues
        self.horizon = horizon_factor
        self.pairs = len(rows)
        customers, starts, counts = np.unique(rows, return_index=True, return_counts=True)
        by_count = np.argsort(-counts, kind="stable")  # most issues first
        self.logit = np.asarray(logit, dtype=float)[customers][by_count][:, None]
        self.p_full = over_horizon(sigmoid(self.logit), horizon_factor)
        pair_value = np.asarray(value, dtype=float)[rows] * weight
        starts, counts = starts[by_count], counts[by_count]
        self.slots: list[_Slot] = []
        for j in range(int(counts.max()) if len(counts) else 0):  # slots, not rows
            pair = starts[: int(np.count_nonzero(counts > j))] + j
            self.slots.append(_Slot(np.asarray(cols)[pair], pair_value[pair]))

    def __call__(self, effects: FloatArray) -> FloatArray:
        """Per-issue totals, shape ``(draws, issues)``, for effects of shape ``(draws, issues)``.

        Blocks of draws run on up to :data:`THREADS` threads; each block's totals are stored
        in its own rows, so they do not depend on the scheduling.
        """
        effects = np.atleast_2d(np.asarray(effects, dtype=float))
        out = np.zeros((len(effects), self.issues))
        if not self.slots:
            return out
        size = max(1, min(len(effects), BLOCK_CELLS // self.pairs))
        blocks = [
            (first, np.maximum(effects[first : first + size].T, 0.0))  # (issues, draws)
            for first in range(0, len(effects), size)
        ]

        def run(block: tuple[int, FloatArray]) -> None:
            first, clipped = block
            out[first : first + clipped.shape[1]] = self._block(clipped)

        if THREADS > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(run, blocks))
        else:
            for block in blocks:
                run(block)
        return out

    def _block(self, effects: FloatArray) -> FloatArray:
        """Totals for one block of draws (clipped effects, shape issues x draws)."""
        h = self.horizon
        positive = [effects[slot.cols] for slot in self.slots]  # (pairs of the slot, draws)
        removed = positive[0].copy()  # per customer: the sum of its issues' effects
        for part in positive[1:]:
            removed[: len(part)] += part
        p_base = _over_horizon_of_logit(np.subtract(self.logit, removed, out=removed), h)
        marginal = []
        for part in positive:
            n = len(part)
            m = _over_horizon_of_logit(np.subtract(self.logit[:n], part), h)
            np.subtract(self.p_full[:n], m, out=m)
            m[part <= 0] = 0.0  # exactly: no effect, no share (not round-off)
            marginal.append(m)
        total = marginal[0].copy()
        for m in marginal[1:]:
            total[: len(m)] += m
        gap = np.subtract(self.p_full, p_base, out=p_base)  # p_full - p_base, per customer
        sums = np.zeros((self.issues, effects.shape[1]))
        for slot, m in zip(self.slots, marginal, strict=True):
            n = len(m)
            share = np.divide(m, total[:n], out=np.zeros_like(m), where=total[:n] > 0)
            share *= gap[:n]  # allocated probability
            share *= slot.value  # dollars
            sums[slot.present] += np.add.reduceat(share[slot.by_issue], slot.issue_starts)
        return sums.T


class _Slot:
    """The ``j``-th pair of every customer with more than ``j`` pairs (a prefix of them)."""

    def __init__(self, cols: IntArray, value: FloatArray) -> None:
        self.cols = cols
        self.value = value[:, None]
        self.by_issue = np.argsort(cols, kind="stable")
        ordered = cols[self.by_issue]
        self.present = np.unique(ordered)
        self.issue_starts = np.searchsorted(ordered, self.present)


def _over_horizon_of_logit(x: FloatArray, horizon_factor: float) -> FloatArray:
    """``over_horizon(sigmoid(x), horizon_factor)``, computed in place in ``x``.

    The same operations in the same order as :func:`sigmoid` and :func:`over_horizon`, so the
    same numbers, without a temporary array per step.
    """
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5  # sigmoid
    np.subtract(1.0, x, out=x)
    np.power(x, horizon_factor, out=x)
    np.subtract(1.0, x, out=x)
    return x
