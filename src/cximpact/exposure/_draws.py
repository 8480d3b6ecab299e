"""Per-issue revenue at risk for many draws of the issue effects at once (the bootstrap).

:func:`cximpact.exposure.attribution.allocate_pairs` for a block of draws: the same formulas,
with what does not depend on the effects (each customer's odds and risk with every issue, the
layout of the pairs, the value of each pair) prepared once.

Layout: customers are ordered by their number of issues, most first, and a customer's pairs
are laid out in *slots*: slot ``j`` holds the ``j``-th pair of every customer who has more
than ``j``, so it covers a prefix of the customers. A per-customer sum over pairs is then a
sum of slot arrays over prefixes (``total[:, :n_j] += slot_j``), in the pairs' order: the same
additions, in the same order, as the ``np.bincount`` of ``allocate_pairs``, without a scatter.
Arrays are (draws in the block, customers or pairs): the long axis is the inner one, so every
operation runs over long contiguous rows. The per-issue sums of a block are segment sums
(``np.add.reduceat``) over the pairs grouped by issue.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from cximpact.exposure.attribution import odds, staying

__all__ = ["IssueTotals"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
#: Threads the blocks of draws run on (numpy releases the GIL inside each array operation).
THREADS = min(2, os.cpu_count() or 1)
#: Cells (pairs x draws) per block of draws: the block's arrays stay in cache.
BLOCK_CELLS = 400_000


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
        starts, counts = starts[by_count], counts[by_count]
        self.odds = odds(np.asarray(logit, dtype=float)[customers][by_count])
        self.stay = staying(self.odds, horizon_factor)  # 1 - p_full, per customer
        width = int(counts.max()) if len(counts) else 0
        self.sizes = [int(np.count_nonzero(counts > j)) for j in range(width)]  # slots, not rows
        self.offsets = np.cumsum([0, *self.sizes]).tolist()
        order = np.concatenate([starts[:n] + j for j, n in enumerate(self.sizes)] or [rows[:0]])
        who = np.concatenate([np.arange(n) for n in self.sizes] or [rows[:0]])  # its customer
        self.cols = np.asarray(cols, dtype=np.intp)[order]
        self.pair_odds = self.odds[who]
        self.pair_stay = self.stay[who]
        # per-issue sums: the pairs grouped by issue (a stable sort), summed segment by segment
        self.by_issue = np.argsort(self.cols, kind="stable")
        grouped = self.cols[self.by_issue]
        self.present = np.unique(grouped)
        self.issue_starts = np.searchsorted(grouped, self.present)
        self.issue_ends = np.append(self.issue_starts[1:], self.pairs)
        self.value = (np.asarray(value, dtype=float)[rows] * weight)[order][self.by_issue]

    def __call__(self, effects: FloatArray) -> FloatArray:
        """Per-issue totals, shape ``(draws, issues)``, for effects of shape ``(draws, issues)``.

        Blocks of draws run on up to :data:`THREADS` threads; each block's totals are stored
        in its own rows, so they do not depend on the scheduling.
        """
        effects = np.atleast_2d(np.asarray(effects, dtype=float))
        out = np.zeros((len(effects), self.issues))
        if not self.pairs:
            return out
        size = max(1, min(len(effects), BLOCK_CELLS // self.pairs))
        blocks = [
            (first, np.maximum(effects[first : first + size], 0.0))  # (draws, issues)
            for first in range(0, len(effects), size)
        ]

        def run(block: tuple[int, FloatArray]) -> None:
            first, clipped = block
            out[first : first + len(clipped)] = self._block(clipped)

        if THREADS > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(run, blocks))
        else:
            for block in blocks:
                run(block)
        return out

    def _block(self, effects: FloatArray) -> FloatArray:
        """Totals for one block of draws (clipped effects, shape draws x issues)."""
        h, sizes, offsets = self.horizon, self.sizes, self.offsets
        # per customer: the sum of its issues' effects, added slot by slot (pair order)
        positive = np.take(effects, self.cols, axis=1)  # (draws, pairs)
        removed = positive[:, : sizes[0]].copy()
        for n, at in zip(sizes[1:], offsets[1:], strict=False):
            removed[:, :n] += positive[:, at : at + n]
        np.negative(removed, out=removed)
        np.exp(removed, out=removed)
        removed *= self.odds  # odds without any of the customer's issues
        gap = staying(removed, h, out=removed)
        gap -= self.stay  # p_full - p_base
        # per pair: p_full - P(churn without this issue), on odds x exp(-effect)
        marginal = np.take(np.exp(-effects), self.cols, axis=1)
        marginal *= self.pair_odds
        staying(marginal, h, out=marginal)
        marginal -= self.pair_stay
        for k, first, last in zip(self.present, self.issue_starts, self.issue_ends, strict=True):
            none = np.flatnonzero(effects[:, k] <= 0)  # exactly: no effect, no share
            if len(none):
                marginal[np.ix_(none, self.by_issue[first:last])] = 0.0
        total = marginal[:, : sizes[0]].copy()
        for n, at in zip(sizes[1:], offsets[1:], strict=False):
            total[:, :n] += marginal[:, at : at + n]
        ratio = np.divide(gap, total, out=np.zeros_like(gap), where=total > 0)
        for n, at in zip(sizes, offsets, strict=False):
            marginal[:, at : at + n] *= ratio[:, :n]  # allocated probability
        dollars = np.take(marginal, self.by_issue, axis=1)
        dollars *= self.value
        sums = np.zeros((len(effects), self.issues))
        sums[:, self.present] = np.add.reduceat(dollars, self.issue_starts, axis=1)
        return sums
