"""Strategy focus presets: which issues come first, when a case opens, which metrics lead.

A preset weighs *issue features* (:data:`FEATURES`), each a non-negative amount per issue
measured from the stored exposure tables. The priority score of issue *i* is

    score_i = sum_k w_k * x_ik / (sum_j x_jk) / sum_k w_k

the weighted mean of the shares of each feature the issue holds, so scores lie in [0, 1], sum to
one over the issues (less when a weighted feature is zero everywhere), and each term
(``contribution_<feature>``) says why an issue ranks where it does. ``balanced`` weighs revenue
at risk alone, so its score is the issue's share of exposure and its ranking is today's
revenue-at-risk order.

Presets are data: the built-ins ship as ``cximpact/data/presets.yaml``; a user file
(``strategy_presets_file``) adds presets or replaces built-ins (``extends: NAME`` starts from
another preset). Every preset is validated by :class:`StrategyPreset`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cximpact._config import read_yaml
from cximpact.cases.lifecycle import material_issues
from cximpact.errors import ConfigError, NotFoundError
from cximpact.settings import Settings

__all__ = [
    "BALANCED",
    "FEATURES",
    "METRIC_IDS",
    "StrategyPreset",
    "case_thresholds",
    "compare_rankings",
    "customer_profiles",
    "issue_features",
    "load_presets",
    "material_under_preset",
    "preset_from_settings",
    "prioritise",
    "priority_components",
]

BALANCED = "balanced"

Feature = Literal[
    "revenue_at_risk",
    "cost_to_serve",
    "repeat_contact_cost",
    "high_value_exposure",
    "new_customer_exposure",
    "recurring_revenue_at_risk",
    "margin_at_risk",
    "distress_signals",
    "rising_contacts",
]

#: What each issue feature measures (units in brackets).
FEATURES: dict[str, str] = {
    "revenue_at_risk": "attributable revenue at risk over the risk horizon [currency]",
    "cost_to_serve": "handling cost of the issue's contacts in the observed window [currency]",
    "repeat_contact_cost": (
        "handling cost of its repeat contacts in the window, saved as soon as the cause is "
        "fixed: a quick win [currency]"
    ),
    "high_value_exposure": (
        "revenue at risk among the top `high_value_share` of customers by lifetime value [currency]"
    ),
    "new_customer_exposure": (
        "revenue at risk among customers in their first `new_customer_days` [currency]"
    ),
    "recurring_revenue_at_risk": (
        "sum of attributable churn probability x 12 x monthly revenue [currency per year]"
    ),
    "margin_at_risk": (
        "sum of attributable churn probability x 12 x monthly margin [currency per year]"
    ),
    "distress_signals": (
        "escalations + churn language + competitor mentions on the issue: detractors and word "
        "of mouth [contacts]"
    ),
    "rising_contacts": (
        "contacts in the last `recent_days` above the issue's earlier rate: getting worse "
        "[contacts]"
    ),
}

MetricId = Literal[
    "cost_per_contact",
    "cost_per_customer",
    "first_contact_resolution",
    "repeat_contact_rate",
    "abandonment_rate",
    "status_contact_share",
    "time_to_resolution_hours",
    "ltv_by_segment",
    "ltv_by_cohort",
    "high_value_retention",
    "margin_by_segment",
    "exposure_trend",
    "revenue_predictability",
    "share_of_wallet",
    "ebitda_impact",
]
#: Metric ids of the portfolio (the contract with :mod:`cximpact.metrics.portfolio`).
METRIC_IDS: tuple[str, ...] = get_args(MetricId)

Weight = Annotated[float, Field(ge=0, le=1000)]


class StrategyPreset(BaseModel):
    """One strategy focus: feature weights, case thresholds and headline metrics.

    A threshold left ``None`` keeps the setting of the same name (``case_threshold_*``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    description: str = Field(min_length=1, max_length=600)
    weights: dict[Feature, Weight] = Field(min_length=1)
    case_threshold_amount: float | None = Field(None, ge=0)
    case_threshold_share: float | None = Field(None, ge=0, le=1)
    case_threshold_mode: Literal["all", "any"] | None = None
    headline_metrics: tuple[MetricId, ...] = Field(min_length=1)
    new_customer_days: int = Field(365, gt=0, le=3650)
    high_value_share: float = Field(0.2, gt=0, lt=1)
    recent_days: int = Field(28, gt=0, le=365)

    @model_validator(mode="after")
    def _check(self) -> StrategyPreset:
        if sum(self.weights.values()) <= 0:
            raise ValueError("weights must have at least one positive weight")
        if len(set(self.headline_metrics)) != len(self.headline_metrics):
            raise ValueError("headline_metrics lists a metric twice")
        return self

    def normalised_weights(self) -> pd.Series:
        """Weights over the features with a positive weight, summing to one."""
        weights = pd.Series(self.weights, dtype=float)
        weights = weights[weights > 0]
        return weights / weights.sum()


def _validate(name: str, data: Any, where: str) -> StrategyPreset:
    if not isinstance(data, dict):
        raise ConfigError(
            f"{where}: preset {name!r} must be a mapping of fields "
            f"(description, weights, headline_metrics ...); got {type(data).__name__}"
        )
    try:
        return StrategyPreset.model_validate({**data, "name": name})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "preset"
        raise ConfigError(
            f"{where}: preset {name!r}, field {field}: {err['msg']} (got {err.get('input')!r}); "
            "fix the preset (see docs/strategy.md for the fields and their limits)"
        ) from exc


def _table(raw: Any, where: str) -> dict[str, Any]:
    table = raw.get("presets") if isinstance(raw, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(
            f"{where}: expected a top-level 'presets' mapping of name -> preset; "
            f"got {type(raw).__name__}. Fix: start the file with 'presets:'"
        )
    return table


def load_presets(user_file: Path | None = None) -> dict[str, StrategyPreset]:
    """The built-in presets, with the presets of ``user_file`` merged over them.

    A user preset with a built-in's name replaces it, except ``balanced`` (today's behaviour);
    ``extends: NAME`` starts from preset ``NAME`` and replaces the fields given.

    Raises
    ------
    ConfigError
        The file is missing, not YAML, has no ``presets`` mapping, or a preset is invalid; the
        message names the file, the preset and the field.
    """
    presets = {
        name: _validate(name, data, "built-in presets.yaml")
        for name, data in _table(
            read_yaml(None, "presets.yaml", "strategy presets"), "built-in"
        ).items()
    }
    if user_file is None:
        return presets
    where = f"strategy presets file {user_file}"
    pending = {
        str(k): v for k, v in _table(read_yaml(user_file, "presets.yaml", where), where).items()
    }
    if BALANCED in pending:
        raise ConfigError(
            f"{where}: preset 'balanced' is today's behaviour and cannot be redefined; "
            "give your preset another name"
        )
    while pending:  # a preset that extends another is built after it, whatever the file order
        ready = [n for n, d in pending.items() if _base_of(d) is None or _base_of(d) not in pending]
        if not ready:
            raise ConfigError(f"{where}: presets {sorted(pending)} extend each other in a cycle")
        for name in ready:
            presets[name] = _user_preset(name, pending.pop(name), presets, where)
    return presets


def _base_of(data: Any) -> str | None:
    return str(data["extends"]) if isinstance(data, dict) and "extends" in data else None


def _user_preset(
    name: str, data: Any, presets: dict[str, StrategyPreset], where: str
) -> StrategyPreset:
    base = _base_of(data)
    if base is None:
        return _validate(name, data, where)
    if base not in presets:
        raise ConfigError(
            f"{where}: preset {name!r} extends unknown preset {base!r}; known: {sorted(presets)}"
        )
    fields = {k: v for k, v in data.items() if k != "extends"}
    return _validate(name, presets[base].model_dump(exclude={"name"}) | fields, where)


def preset_from_settings(settings: Settings, name: str | None = None) -> StrategyPreset:
    """The preset ``name`` (default: setting ``strategy_preset``) from built-ins and user file.

    Raises
    ------
    NotFoundError
        No preset has that name; the message lists the known ones.
    """
    presets = load_presets(settings.strategy_presets_file)
    chosen = name or settings.strategy_preset
    if chosen not in presets:
        raise NotFoundError(
            f"strategy preset {chosen!r} is unknown; expected one of {sorted(presets)}. Fix: "
            "pass one of them, or define it in the file named by CXIMPACT_STRATEGY_PRESETS_FILE"
        )
    return presets[chosen]


def customer_profiles(customers: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """The customers export with each customer's lifetime ``value``: :func:`prioritise`'s
    ``profiles``."""
    return customers.merge(
        values[["customer_id", "value"]], left_on="id", right_on="customer_id", how="left"
    )


def _ids(profiles: pd.DataFrame) -> pd.Series:
    """Customer ids of the customers export (``id``, or ``customer_id``)."""
    return profiles["id"] if "id" in profiles else profiles["customer_id"]


def _new_customers(
    profiles: pd.DataFrame, as_of: pd.Timestamp, new_customer_days: int
) -> pd.Series:
    """Customer id -> True when the customer started less than ``new_customer_days`` ago."""
    ids = _ids(profiles)
    start = pd.to_datetime(profiles["start_date"], errors="coerce")
    tenure_days = (as_of - start).dt.days
    return pd.Series((tenure_days < new_customer_days).to_numpy(), index=ids.astype(str))


def _profile(profiles: pd.DataFrame, column: str) -> pd.Series:
    ids = _ids(profiles)
    if column not in profiles:
        return pd.Series(np.nan, index=ids.astype(str))
    return pd.Series(pd.to_numeric(profiles[column]).to_numpy(), index=ids.astype(str))


def _rising_contacts(signals: pd.DataFrame, as_of: pd.Timestamp, recent_days: int) -> pd.Series:
    """Per root cause: contacts in the last ``recent_days`` above the earlier daily rate."""
    if signals is None or signals.empty:
        return pd.Series(dtype=float)
    stamp = pd.to_datetime(signals["timestamp"])
    cut = as_of - pd.Timedelta(days=recent_days)
    recent = stamp > cut
    earlier_days = max((cut - stamp.min()).total_seconds() / 86400.0, 1.0)
    cause = signals["root_cause"].astype(str)
    now = recent.groupby(cause).sum().astype(float)
    before = (~recent).groupby(cause).sum().astype(float)
    return (now - before / earlier_days * recent_days).clip(lower=0.0)


def issue_features(
    issues: pd.DataFrame,
    customers: pd.DataFrame,
    signals: pd.DataFrame | None,
    *,
    profiles: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
    new_customer_days: int = 365,
    high_value_share: float = 0.2,
    recent_days: int = 28,
) -> pd.DataFrame:
    """Every feature of :data:`FEATURES` per issue (index ``issue``).

    Parameters
    ----------
    issues : DataFrame
        The ranked issues (table ``issue_exposure``).
    customers : DataFrame
        One row per customer and issue (table ``customer_exposure``): ``customer_id, issue,
        value, revenue_at_risk, attributable_probability``.
    signals : DataFrame or None
        Interaction signals (``timestamp, root_cause``), for ``rising_contacts``.
    profiles : DataFrame, optional
        The customers export (``id`` or ``customer_id``, ``start_date``, ``monthly_revenue``,
        ``monthly_margin``, optionally ``value``). Without it the features that need it are
        NaN (and count as zero in a score). With ``value``, "high value" is the top
        ``high_value_share`` of the whole customer base; otherwise of the customers with an
        issue.
    as_of : Timestamp, optional
        Reference time for tenure and recency; default the last signal (or now).
    """
    names = issues["issue"].astype(str).to_numpy()
    out = pd.DataFrame(index=pd.Index(names, name="issue"))
    contacts = issues["contacts"].to_numpy(dtype=float)
    cost = issues["handling_cost"].to_numpy(dtype=float)
    out["revenue_at_risk"] = issues["revenue_at_risk"].to_numpy(dtype=float)
    out["cost_to_serve"] = cost
    out["repeat_contact_cost"] = (
        cost * issues["repeat_contacts"].to_numpy(dtype=float) / np.maximum(contacts, 1.0)
    )
    out["distress_signals"] = (
        issues[["escalations", "churn_language", "competitor_mentions"]]
        .to_numpy(dtype=float)
        .sum(1)
    )
    if as_of is None:
        has_signals = signals is not None and not signals.empty
        as_of = (
            pd.to_datetime(signals["timestamp"]).max()
            if signals is not None and has_signals
            else pd.Timestamp.now()
        )
    rows = customers.assign(customer_id=customers["customer_id"].astype(str))
    rar = rows["revenue_at_risk"].to_numpy(dtype=float)
    population = profiles if profiles is not None and "value" in profiles else rows
    base = population["value"].to_numpy(dtype=float)
    base = base[np.isfinite(base)]
    threshold = float(np.quantile(base, 1 - high_value_share)) if len(base) else np.inf
    high = rows["value"].to_numpy(dtype=float) >= threshold
    out["high_value_exposure"] = _by_issue(rows, rar * high, names)
    if profiles is None:
        for feature in ("new_customer_exposure", "recurring_revenue_at_risk", "margin_at_risk"):
            out[feature] = np.nan
    else:
        new = rows["customer_id"].map(_new_customers(profiles, as_of, new_customer_days))
        out["new_customer_exposure"] = _by_issue(
            rows, rar * new.fillna(False).to_numpy(bool), names
        )
        p = rows["attributable_probability"].to_numpy(dtype=float)
        for feature, column in (
            ("recurring_revenue_at_risk", "monthly_revenue"),
            ("margin_at_risk", "monthly_margin"),
        ):
            monthly = rows["customer_id"].map(_profile(profiles, column)).fillna(0.0)
            out[feature] = _by_issue(rows, p * 12.0 * monthly.to_numpy(dtype=float), names)
    rising = _rising_contacts(signals, as_of, recent_days) if signals is not None else None
    out["rising_contacts"] = (
        rising.reindex(names).fillna(0.0).to_numpy() if rising is not None else 0.0
    )
    return out[list(FEATURES)]


def _by_issue(rows: pd.DataFrame, amounts: np.ndarray, names: np.ndarray) -> np.ndarray:
    summed = pd.Series(amounts, index=rows.index).groupby(rows["issue"].astype(str)).sum()
    return summed.reindex(names).fillna(0.0).to_numpy(dtype=float)


def prioritise(
    issues: pd.DataFrame,
    customers: pd.DataFrame,
    signals: pd.DataFrame | None,
    preset: StrategyPreset,
    *,
    profiles: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Issues ranked by a preset: ``priority_score``, ``priority_rank`` and why.

    ``priority_score = sum_k w_k x_ik / sum_j x_jk`` over the preset's normalised weights
    ``w_k``; ``contribution_<k>`` is each term and ``feature_<k>`` the issue's amount of
    feature ``k``. Ties keep the stored ``rank`` (revenue-at-risk order). Inputs are not
    modified. See :func:`issue_features` for the parameters.

    Returns
    -------
    DataFrame
        ``issues``' columns plus the priority columns, sorted by ``priority_rank``.
    """
    features = issue_features(
        issues,
        customers,
        signals,
        profiles=profiles,
        as_of=as_of,
        new_customer_days=preset.new_customer_days,
        high_value_share=preset.high_value_share,
        recent_days=preset.recent_days,
    )
    weights = preset.normalised_weights()
    used = features[list(weights.index)].fillna(0.0)
    totals = used.sum(axis=0)
    shares = used.div(totals.where(totals > 0), axis=1).fillna(0.0)
    contributions = shares * weights
    ranked = issues.reset_index(drop=True).copy()
    ranked["priority_score"] = contributions.sum(axis=1).to_numpy()
    for feature in weights.index:
        ranked[f"contribution_{feature}"] = contributions[feature].to_numpy()
        ranked[f"feature_{feature}"] = features[feature].to_numpy()
    tie = ranked["rank"] if "rank" in ranked else -ranked["revenue_at_risk"]
    order = np.lexsort((tie.to_numpy(), -ranked["priority_score"].to_numpy()))
    ranked = ranked.iloc[order].reset_index(drop=True)
    ranked["priority_rank"] = np.arange(1, len(ranked) + 1)
    ranked.attrs = {"preset": preset.name, "unavailable": _unavailable(features, weights)}
    return ranked


def _unavailable(features: pd.DataFrame, weights: pd.Series) -> list[str]:
    """Weighted features the data could not measure (no customer profiles)."""
    return [f for f in weights.index if features[f].isna().all() and len(features)]


def priority_components(row: pd.Series) -> dict[str, float]:
    """``{feature: contribution}`` of one prioritised row."""
    return {
        str(k).removeprefix("contribution_"): round(float(v), 6)
        for k, v in row.items()
        if str(k).startswith("contribution_")
    }


def compare_rankings(
    first: pd.DataFrame, second: pd.DataFrame, weights: pd.Series | None = None
) -> pd.DataFrame:
    """Both rankings side by side and what moved each issue.

    ``weights`` are the second preset's :meth:`StrategyPreset.normalised_weights` (``w2``);
    without them they are read back from the contributions, which loses the weight of a
    feature that is zero for every issue.

    Returns
    -------
    DataFrame
        ``issue, rank_first, rank_second, moved`` (positive: higher under the second preset),
        ``score_first, score_second`` and ``driver``: the second preset's feature whose
        contribution exceeds (moved up) or falls short of (moved down) the issue's first score
        the most, i.e. ``argmax_k (c2_ik - w2_k * s1_i)``; empty when the issue did not move.
    """
    a = first.set_index("issue")[["priority_rank", "priority_score"]]
    b = second.set_index("issue")
    table = pd.DataFrame(
        {
            "rank_first": a["priority_rank"],
            "rank_second": b["priority_rank"].reindex(a.index),
            "score_first": a["priority_score"],
            "score_second": b["priority_score"].reindex(a.index),
        }
    )
    table["moved"] = table["rank_first"] - table["rank_second"]
    columns = [c for c in b.columns if str(c).startswith("contribution_")]
    contributions = b[columns].reindex(a.index)
    if weights is None:
        w2 = contributions.sum(axis=0) / max(float(contributions.sum().sum()), 1e-12)
    else:
        w2 = weights.reindex([c.removeprefix("contribution_") for c in columns]).fillna(0.0)
    excess = contributions - np.outer(table["score_first"].to_numpy(), w2.to_numpy())
    up = excess.idxmax(axis=1).astype(str).str.removeprefix("contribution_")
    down = excess.idxmin(axis=1).astype(str).str.removeprefix("contribution_")
    moved = table["moved"].to_numpy()
    table["driver"] = np.where(moved > 0, up, np.where(moved < 0, down, ""))
    return table.reset_index().sort_values("rank_second").reset_index(drop=True)


def case_thresholds(preset: StrategyPreset, settings: Settings) -> tuple[float, float, str]:
    """``(amount, share, mode)`` a case needs under ``preset``; unset fields keep the settings."""
    return (
        settings.case_threshold_amount
        if preset.case_threshold_amount is None
        else preset.case_threshold_amount,
        settings.case_threshold_share
        if preset.case_threshold_share is None
        else preset.case_threshold_share,
        settings.case_threshold_mode
        if preset.case_threshold_mode is None
        else preset.case_threshold_mode,
    )


def material_under_preset(
    ranked: pd.DataFrame, preset: StrategyPreset, settings: Settings
) -> pd.Series:
    """Boolean mask over ``ranked`` (output of :func:`prioritise`): the issues that get a case.

    The amount threshold applies to revenue at risk, the share threshold to the priority score
    (the issue's weighted share under the preset); for ``balanced`` that share is the share of
    exposure, so the rule is :func:`~cximpact.cases.lifecycle.material_issues` unchanged.
    """
    amount, share, mode = case_thresholds(preset, settings)
    frame = pd.DataFrame(
        {
            "revenue_at_risk": ranked["revenue_at_risk"],
            "share_of_exposure": ranked["priority_score"],
        }
    )
    return material_issues(frame, amount=amount, share=share, mode=mode)
