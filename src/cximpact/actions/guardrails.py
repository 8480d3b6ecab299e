"""Guardrails: who must not be contacted, when, and who is held out for measurement.

Pure functions over DataFrames with an explicit ``now``. In order, a target is dropped when:

1. ``no_issue`` - it has no concrete issue to address (empty, ``other`` or ``unknown``);
2. ``do_not_contact`` - the contacts file marks the customer do-not-contact;
3. ``suppressed`` - the customer id or e-mail is on the suppression list;
4. ``no_consent`` - consent is required and does not cover the policy's contact method;
5. ``frequency_cap`` - the customer already had ``per_customer`` actions in the window, or
   ``per_channel`` on this channel (treated actions of earlier runs plus those earlier in this
   batch; held-out ones contact nobody and do not count).

Quiet hours never drop a target: they set ``not_before``, the first moment outside the quiet
window in the customer's time zone. The holdout is a hash of customer and case, so the same
pair is always in the same arm, whoever plans and however often.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from cximpact.actions.policies import FrequencyCaps, PolicySet, QuietHours
from cximpact.measure.design import holdout_assignment

__all__ = [
    "NO_ISSUE",
    "apply_guardrails",
    "holdout_flags",
    "idempotency_key",
    "quiet_until",
]

NO_ISSUE: frozenset[str] = frozenset({"", "other", "unknown", "none"})
"""Issue labels that are not a concrete problem to contact a customer about."""

CONTACT_COLUMNS = ("customer_id", "email", "timezone", "consent", "do_not_contact")


def holdout_flags(
    customer_ids: Iterable[str], case_ids: Iterable[int], share: float | Iterable[float]
) -> np.ndarray:
    """Whether each (customer, case) pair is held out: ``sha256("customer:case") < share``.

    The same rule a case's measurement uses
    (:func:`cximpact.measure.design.holdout_assignment`), so the customers held out of an
    action are the comparison group the case's verdict is measured against.

    Parameters
    ----------
    customer_ids, case_ids : iterable
        Pairs, aligned.
    share : float or iterable of float
        Share of pairs to hold out, in ``[0, 1)``: one for all pairs, or one per pair (the
        share each case's measurement plan fixed).

    Returns
    -------
    numpy.ndarray of bool
        ``True`` for held-out pairs; deterministic and independent of order and batch.
    """
    return holdout_assignment(customer_ids, case_ids, share)


def idempotency_key(case_id: int, customer_id: str, policy: str) -> str:
    """The action's idempotency key: ``cxa-`` + 32 hex digits of sha256(case:customer:policy).

    Receivers deduplicate on it; the same plan always yields the same key.
    """
    digest = hashlib.sha256(f"{case_id}:{customer_id}:{policy}".encode()).hexdigest()
    return f"cxa-{digest[:32]}"


def quiet_until(now: datetime, tz_name: str, quiet: QuietHours | None) -> datetime:
    """First moment at or after ``now`` outside the quiet hours of time zone ``tz_name``.

    Parameters
    ----------
    now : datetime
        Aware current time.
    tz_name : str
        IANA time zone of the customer (``Europe/Berlin``); unknown zones count as UTC.
    quiet : QuietHours or None
        The quiet window; ``None`` disables it.

    Returns
    -------
    datetime
        ``now`` when outside the window, else the window's next end (aware, UTC).
    """
    if quiet is None:
        return now
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    start, end = quiet.bounds()
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return now
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(now.tzinfo)


def _consented(consent: pd.Series, method: pd.Series) -> np.ndarray:
    sets = consent.fillna("").astype(str).str.lower().str.replace(",", ";").str.split(";")
    return np.array(
        [m.lower() in {s.strip() for s in c} for c, m in zip(sets, method, strict=True)],
        dtype=bool,
    )


def _history_counts(
    targets: pd.DataFrame, history: pd.DataFrame, now: datetime, days: int
) -> tuple[np.ndarray, np.ndarray]:
    recent = history[pd.to_datetime(history["created_at"], utc=True) >= now - timedelta(days)]
    per_customer = recent.groupby("customer_id").size()
    per_channel = recent.groupby(["customer_id", "channel"]).size()
    by_customer = targets["customer_id"].map(per_customer).fillna(0).to_numpy()
    pairs = pd.MultiIndex.from_frame(targets[["customer_id", "channel"]])
    by_channel = per_channel.reindex(pairs).fillna(0).to_numpy()
    return by_customer, by_channel


def _over_caps(
    frame: pd.DataFrame,
    alive: np.ndarray,
    before_customer: np.ndarray,
    before_channel: np.ndarray,
    caps: FrequencyCaps,
) -> np.ndarray:
    """Greedy, best first: a target passes if its customer and channel still have room.

    Sequential on purpose: a target refused by a cap must not use up room for later ones.
    Held-out targets are checked like treated ones (so both arms are alike) but, as nobody
    contacts them, use up no room - the same rule as for the history of earlier runs.
    """
    used_customer: dict[str, int] = {}
    used_channel: dict[tuple[str, str], int] = {}
    over = np.zeros(len(frame), dtype=bool)
    held_out = (
        frame["holdout"].to_numpy(dtype=bool)
        if "holdout" in frame
        else np.zeros(len(frame), dtype=bool)
    )
    rows = zip(frame["customer_id"], frame["channel"], before_customer, before_channel, strict=True)
    for i, (customer, channel, prior_customer, prior_channel) in enumerate(rows):
        if not alive[i]:
            continue
        n_customer = prior_customer + used_customer.get(customer, 0)
        n_channel = prior_channel + used_channel.get((customer, channel), 0)
        if n_customer >= caps.per_customer or n_channel >= caps.per_channel:
            over[i] = True
            continue
        if held_out[i]:
            continue  # checked like a treated target, but nobody is contacted
        used_customer[customer] = used_customer.get(customer, 0) + 1
        used_channel[(customer, channel)] = used_channel.get((customer, channel), 0) + 1
    return over


def apply_guardrails(
    targets: pd.DataFrame,
    contacts: pd.DataFrame,
    suppressed: set[str],
    history: pd.DataFrame,
    rules: PolicySet,
    now: datetime,
    *,
    default_timezone: str = "UTC",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop the targets the guardrails forbid and schedule the rest outside quiet hours.

    Parameters
    ----------
    targets : DataFrame
        ``customer_id, case_id, issue, policy, channel, contact_method`` ..., best first.
    contacts : DataFrame
        ``customer_id, email, timezone, consent`` (``;``-separated methods), ``do_not_contact``.
    suppressed : set of str
        Customer ids and e-mail addresses never to contact.
    history : DataFrame
        Earlier treated actions: ``customer_id, channel, created_at``.
    rules : PolicySet
        Consent, frequency caps and quiet hours.
    now : datetime
        Aware current time.
    default_timezone : str, optional
        Time zone of customers without one.

    Returns
    -------
    (DataFrame, DataFrame)
        Allowed targets with ``email``, ``timezone`` and ``not_before`` added; dropped targets
        with a ``reason`` column (see the module docstring).
    """
    known = contacts.reindex(columns=list(CONTACT_COLUMNS))
    known = known.drop_duplicates("customer_id", keep="last")  # the latest row wins
    frame = targets.merge(known, on="customer_id", how="left")
    frame["timezone"] = frame["timezone"].fillna(default_timezone).replace("", default_timezone)
    reason = pd.Series("", index=frame.index, dtype=object)

    def drop(mask: np.ndarray | pd.Series, why: str) -> None:
        reason[(reason == "") & np.asarray(mask, dtype=bool)] = why

    drop(frame["issue"].fillna("").astype(str).str.strip().str.lower().isin(NO_ISSUE), "no_issue")
    drop(frame["do_not_contact"].eq(True), "do_not_contact")
    drop(
        frame["customer_id"].isin(suppressed) | frame["email"].fillna("").isin(suppressed),
        "suppressed",
    )
    if rules.require_consent:
        drop(~_consented(frame["consent"], frame["contact_method"]), "no_consent")
    caps = rules.frequency_caps
    before_customer, before_channel = _history_counts(frame, history, now, caps.window_days)
    alive = (reason == "").to_numpy()
    drop(_over_caps(frame, alive, before_customer, before_channel, caps), "frequency_cap")
    allowed = frame[reason == ""].copy()
    zones = {z: quiet_until(now, z, rules.quiet_hours) for z in allowed["timezone"].unique()}
    allowed["not_before"] = allowed["timezone"].map(zones)
    skipped = frame[reason != ""].assign(reason=reason[reason != ""])
    return allowed.reset_index(drop=True), skipped.reset_index(drop=True)
