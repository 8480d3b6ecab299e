"""Measurement of actions: churn of treated versus held-out customers, per case.

For each case with final outcomes (``retained`` or ``churned``), the held-out churn rate is
the counterfactual of the treated one; their difference is the churn the actions removed,
with a two-proportion z-test (pooled standard error) for whether it is more than noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["case_measurements"]


def _p_value(churn_t: int, n_t: int, churn_c: int, n_c: int) -> float | None:
    if n_t == 0 or n_c == 0:
        return None
    pooled = (churn_t + churn_c) / (n_t + n_c)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    if se == 0:
        return None
    z = (churn_c / n_c - churn_t / n_t) / se
    return math.erfc(abs(z) / math.sqrt(2))


def case_measurements(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Treated versus held-out churn per case.

    Parameters
    ----------
    rows : iterable of mapping
        ``case_id``, ``holdout`` (bool) and ``churned`` (bool) of actions with a final outcome.

    Returns
    -------
    list of dict
        Per case: ``treated``, ``held_out`` (counts), ``treated_churn_rate``,
        ``holdout_churn_rate``, ``churn_reduction`` (held-out minus treated, absolute),
        ``p_value`` (two-sided; None when an arm is empty or there is no variance).
    """
    counts: dict[int, list[int]] = {}
    for row in rows:
        cell = counts.setdefault(int(row["case_id"]), [0, 0, 0, 0])  # n_t, churn_t, n_c, churn_c
        arm = 2 if row["holdout"] else 0
        cell[arm] += 1
        cell[arm + 1] += int(bool(row["churned"]))
    result = []
    for case_id, (n_t, churn_t, n_c, churn_c) in sorted(counts.items()):
        rate_t = churn_t / n_t if n_t else None
        rate_c = churn_c / n_c if n_c else None
        result.append(
            {
                "case_id": case_id,
                "treated": n_t,
                "held_out": n_c,
                "treated_churn_rate": rate_t,
                "holdout_churn_rate": rate_c,
                "churn_reduction": None if rate_t is None or rate_c is None else rate_c - rate_t,
                "p_value": _p_value(churn_t, n_t, churn_c, n_c),
            }
        )
    return result
