"""The business case of an issue, built automatically and written in a CFO's terms.

Cost of inaction over the horizon = revenue at risk + repeat-contact handling cost (the issue's
observed repeat-contact cost scaled from the observation window to the horizon). Each playbook
option costs ``fixed_cost + cost_per_customer x customers`` and protects ``effectiveness`` of the
revenue at risk; the recommendation is the option with the best expected net value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cximpact._config import read_yaml
from cximpact.errors import ConfigError
from cximpact.measure.design import plan_measurement

__all__ = [
    "PlaybookOption",
    "build_business_case",
    "load_playbook",
    "measurement_plan",
]


class PlaybookOption(BaseModel):
    """One response option: its cost model and expected effectiveness (a planning assumption)."""

    model_config = ConfigDict(extra="forbid")
    description: str
    fixed_cost: float = Field(ge=0)
    cost_per_customer: float = Field(ge=0)
    effectiveness: float = Field(ge=0, le=1)
    removes_repeat_contacts: bool = False


#: The answer when no response pays for itself: keep watching, spend nothing yet.
_MONITOR: dict[str, Any] = {
    "response": "monitor",
    "description": "No response pays for itself at this exposure; keep measuring",
    "cost": 0.0,
    "expected_benefit": 0.0,
    "net_value": 0.0,
    "roi": None,
    "payback_months": None,
}


def load_playbook(path: Path | None = None) -> dict[str, PlaybookOption]:
    """Load response options from ``path`` or the built-in playbook."""
    raw = read_yaml(path, "playbook.yaml", "playbook")
    try:
        return {name: PlaybookOption.model_validate(opt) for name, opt in raw["options"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"playbook {path}: expected an 'options' table ({exc})") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"playbook {path}: {err['loc']}: {err['msg']}") from exc


def _options(
    playbook: dict[str, PlaybookOption],
    customers: int,
    revenue_at_risk: float,
    repeat_cost: float,
    horizon_months: float,
) -> list[dict[str, Any]]:
    rows = []
    for name, opt in playbook.items():
        cost = opt.fixed_cost + opt.cost_per_customer * customers
        benefit = opt.effectiveness * revenue_at_risk + (
            repeat_cost if opt.removes_repeat_contacts else 0.0
        )
        net = benefit - cost
        monthly = benefit / horizon_months
        rows.append(
            {
                "response": name,
                "description": opt.description,
                "cost": round(cost, 2),
                "expected_benefit": round(benefit, 2),
                "net_value": round(net, 2),
                "roi": round(net / cost, 3) if cost > 0 else None,
                "payback_months": round(cost / monthly, 1) if monthly > 0 else None,
            }
        )
    return sorted(rows, key=lambda r: -float(r["net_value"]))


def measurement_plan(
    response: str,
    customers: int,
    churn_rate: float,
    horizon_days: int,
    **design: Any,
) -> dict[str, Any]:
    """The plan fixed when a case opens (see :func:`cximpact.measure.design.plan_measurement`).

    Randomised holdout for customer-level actions; phased rollout, interrupted time series or
    pre/post with volume adjustment for a root-cause fix, depending on the data; the holdout's
    size comes from the two-proportion sample-size formula for the target effect.
    """
    return plan_measurement(response, customers, churn_rate, horizon_days, **design)


def build_business_case(
    issue: pd.Series,
    affected: pd.DataFrame,
    *,
    playbook: dict[str, PlaybookOption],
    horizon_days: int,
    window_days: int,
    top: int = 10,
) -> dict[str, Any]:
    """Business case of one issue.

    Parameters
    ----------
    issue
        One row of the ranked issues table.
    affected
        The issue's customer rows (``customer_id, value, value_source, revenue_at_risk, why`` ...).
    playbook
        Response options.
    horizon_days, window_days
        The risk horizon and the length of the observed window (to scale handling cost).
    """
    repeat_cost = (
        float(issue["handling_cost"])
        * float(issue["repeat_contacts"])
        / max(float(issue["contacts"]), 1.0)
    )
    repeat_cost *= horizon_days / max(window_days, 1)
    rar = float(issue["revenue_at_risk"])
    options = _options(playbook, int(issue["customers"]), rar, repeat_cost, horizon_days / 30.4)
    best = options[0] if options and options[0]["net_value"] > 0 else _MONITOR
    ranked = affected.sort_values("value", ascending=False).head(top)
    case = {
        "issue": str(issue["issue"]),
        "customers": int(issue["customers"]),
        "aggregate_ltv": round(float(issue["aggregate_ltv"]), 2),
        "revenue_at_risk": round(rar, 2),
        "revenue_at_risk_interval": [
            round(float(issue["revenue_at_risk_low"]), 2),
            round(float(issue["revenue_at_risk_high"]), 2),
        ],
        "expected_lost_revenue": round(rar, 2),
        "repeat_contact_cost": round(repeat_cost, 2),
        "cost_of_inaction": round(rar + repeat_cost, 2),
        "cost_of_inaction_interval": [
            round(float(issue["revenue_at_risk_low"]) + repeat_cost, 2),
            round(float(issue["revenue_at_risk_high"]) + repeat_cost, 2),
        ],
        "horizon_days": horizon_days,
        "options": options,
        "recommended_response": best["response"],
        "recommended_description": best["description"],
        "cost_of_intervention": best["cost"],
        "expected_benefit": best["expected_benefit"],
        "net_value": best["net_value"],
        "roi": best["roi"],
        "payback_months": best["payback_months"],
        "risk_source": str(issue["risk_source"]),
        "top_customers": [
            {
                "customer_id": str(r["customer_id"]),
                "value": round(float(r["value"]), 2),
                "value_source": str(r["value_source"]),
                "revenue_at_risk": round(float(r["revenue_at_risk"]), 2),
                "why": str(r["why"]),
            }
            for r in ranked.to_dict(orient="records")
        ],
    }
    case["narrative"] = narrative(case, horizon_days)
    return case


def narrative(case: dict[str, Any], horizon_days: int) -> str:
    """Two sentences a CFO reads: what it costs, what to do and what it returns."""
    months = round(horizon_days / 30.4)
    source = (
        " (risk from priors, not yet learned from outcomes)"
        if case["risk_source"] == "prior"
        else ""
    )
    roi = f"{case['roi']:.1f}x" if case["roi"] is not None else "n/a"
    exposure = (
        f"{case['issue'].replace('_', ' ').capitalize()} puts "
        f"${case['revenue_at_risk']:,.0f} of revenue at "
        f"risk over the next {months} months across {case['customers']:,} customers holding "
        f"${case['aggregate_ltv']:,.0f} of lifetime value{source}; doing nothing costs "
        f"${case['cost_of_inaction']:,.0f} including repeat contacts."
    )
    if case["recommended_response"] == "monitor":
        return exposure + " No response in the playbook pays for itself yet: monitor it."
    return exposure + (
        f" Recommended: {case['recommended_response'].replace('_', ' ')} for "
        f"${case['cost_of_intervention']:,.0f}, "
        f"expected to protect ${case['expected_benefit']:,.0f} (ROI {roi})."
    )
