"""Measuring a case from stored data: the effect on churn and on exposure, and the verdict.

Windows: the *post* window starts on the change (the day the case reached ``fix_deployed``) and
lasts the plan's duration, cut at the data's end; the *pre* window is as long and ends on the
change. The cohort of a window is the customers who contacted about the issue before the
window's end and had not churned when it began; their outcome is churning inside the window.

* randomised holdout: treated vs held out (:func:`~cximpact.measure.design.in_holdout`), post
  window only;
* phased rollout: first-wave segments vs the rest, pre vs post, difference-in-differences;
* pre/post and interrupted time series: churn events per contact of the whole centre, post vs
  pre (volume adjusted).

The effect on exposure is an interrupted time series of the issue's daily share of contacts
(the share removes overall traffic swings) over both windows. The case's verdict follows churn.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cximpact.errors import ContractError
from cximpact.measure.design import in_holdout
from cximpact.measure.estimators import (
    Effect,
    did_effect,
    holdout_effect,
    its_effect,
    rate_ratio_effect,
)

__all__ = ["measure_case"]


def _cohort(
    signals: pd.DataFrame, churn: pd.Series, issue: str, begin: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Customers with an issue contact before ``end``, alive at ``begin``; ``churned`` in window."""
    contacted = signals.loc[
        (signals["root_cause"] == issue) & (signals["timestamp"] < end), "customer_id"
    ].unique()
    dates = churn.reindex(contacted)
    alive = dates.isna() | (dates >= begin)
    cohort = pd.DataFrame({"customer_id": contacted[alive.to_numpy()]})
    inside = dates[alive].between(begin, end, inclusive="left")
    cohort["churned"] = inside.fillna(False).to_numpy(dtype=bool)
    return cohort


def _churn_effect(
    plan: dict[str, Any],
    case_id: int,
    issue: str,
    signals: pd.DataFrame,
    churn: pd.Series,
    segments: pd.Series,
    windows: tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp],
) -> Effect:
    pre_start, start, end = windows
    post = _cohort(signals, churn, issue, start, end)
    method = plan.get("method", "pre_post_volume_adjusted")
    if method == "randomised_holdout":
        held = in_holdout(post["customer_id"], case_id, float(plan.get("holdout_share", 0.1)))
        treated, control = post[~held], post[held]
        return holdout_effect(
            int(treated["churned"].sum()),
            len(treated),
            int(control["churned"].sum()),
            len(control),
        )
    pre = _cohort(signals, churn, issue, pre_start, start)
    if method == "phased_rollout":
        both = pd.concat([pre.assign(post=0), post.assign(post=1)], ignore_index=True)
        wave = set(plan.get("first_wave", []))
        both["treated"] = both["customer_id"].map(segments).isin(wave).astype(int)
        return did_effect(both["churned"].astype(float), both["treated"], both["post"])
    in_pre = signals["timestamp"].between(pre_start, start, inclusive="left")
    in_post = signals["timestamp"].between(start, end, inclusive="left")
    return rate_ratio_effect(
        int(pre["churned"].sum()), int(in_pre.sum()), int(post["churned"].sum()), int(in_post.sum())
    )


def _exposure_effect(
    signals: pd.DataFrame, issue: str, windows: tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]
) -> Effect:
    pre_start, start, end = windows
    inside = signals[signals["timestamp"].between(pre_start, end, inclusive="left")]
    day = inside["timestamp"].dt.floor("D")
    days = pd.date_range(pre_start.floor("D"), end.floor("D"), freq="D", inclusive="left")
    total = day.value_counts().reindex(days, fill_value=0)
    on_issue = day[inside["root_cause"] == issue].value_counts().reindex(days, fill_value=0)
    share = (on_issue / total.where(total > 0)).fillna(0.0).to_numpy(dtype=float)
    return its_effect(share, int(days.searchsorted(start.floor("D"))), metric="exposure")


def measure_case(
    plan: dict[str, Any],
    *,
    case_id: int,
    issue: str,
    change: pd.Timestamp,
    as_of: pd.Timestamp,
    signals: pd.DataFrame,
    outcomes: pd.DataFrame,
    customers: pd.DataFrame,
) -> dict[str, Any]:
    """The measured effect of a case's response on churn and exposure, with the verdict.

    Parameters
    ----------
    plan : dict
        The measurement plan fixed when the case opened.
    case_id : int
        The case's id (seeds the holdout assignment).
    issue : str
        The root cause.
    change : Timestamp
        When the response took effect (the case reached ``fix_deployed``).
    as_of : Timestamp
        End of the stored data.
    signals : DataFrame
        ``customer_id, timestamp, root_cause`` per interaction.
    outcomes : DataFrame
        ``customer_id, churn_date`` of churned customers.
    customers : DataFrame
        ``customer_id, segment``.

    Returns
    -------
    dict
        ``method, window, churn, exposure, verdict, complete``.

    Raises
    ------
    ContractError
        If the data do not reach past the change, or the cohort is empty.
    """
    duration = pd.Timedelta(days=int(plan.get("duration_days", 90)))
    length = min(duration, as_of - change)
    if length < pd.Timedelta(days=1):
        raise ContractError(
            f"the stored data end on {as_of.date()}, before or on the change on {change.date()}; "
            "ingest newer interactions and outcomes, or pass the day the response took effect "
            "(--change YYYY-MM-DD)"
        )
    windows = (change - length, change, change + length)
    churn = pd.Series(
        pd.to_datetime(outcomes["churn_date"]).to_numpy(), index=outcomes["customer_id"]
    )
    churn = churn[~churn.index.duplicated()]
    segments = customers.set_index("customer_id")["segment"]
    churn_effect = _churn_effect(plan, case_id, issue, signals, churn, segments, windows)
    result: dict[str, Any] = {
        "method": churn_effect.method,
        "window": {
            "pre_start": windows[0].isoformat(),
            "change": windows[1].isoformat(),
            "end": windows[2].isoformat(),
        },
        "complete": bool(length >= duration),
        "churn": churn_effect.to_dict(),
        "verdict": churn_effect.verdict,
    }
    try:
        result["exposure"] = _exposure_effect(signals, issue, windows).to_dict()
    except ContractError as exc:  # too few days for a time series: say so, keep the churn verdict
        result["exposure"] = {"error": str(exc)}
    return result
