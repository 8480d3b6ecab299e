"""Formatting of results for people (Rich tables, Markdown) — computing lives elsewhere."""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.table import Table

__all__ = [
    "case_markdown",
    "cases_table",
    "customers_records",
    "customers_table",
    "issues_records",
    "issues_table",
    "money",
]


def money(value: float) -> str:
    """``$1,234``; thousands as ``$12.3k``, millions as ``$1.2M``."""
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.1f}M"
    if abs(value) >= 1e4:
        return f"${value / 1e3:,.1f}k"
    return f"${value:,.0f}"


def issues_records(issues: pd.DataFrame) -> list[dict[str, Any]]:
    """Issues for ``--json``: ranked by revenue at risk."""
    cols = [
        "issue",
        "revenue_at_risk",
        "revenue_at_risk_low",
        "revenue_at_risk_high",
        "customers",
        "aggregate_ltv",
        "contacts",
        "repeat_contacts",
        "share_of_exposure",
        "risk_source",
    ]
    out = issues.sort_values("revenue_at_risk", ascending=False)[cols]
    return [_plain(r) for r in out.to_dict(orient="records")]


def customers_records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Customers of one issue for ``--json``: ranked by lifetime value."""
    cols = [
        "customer_id",
        "issue",
        "value",
        "value_source",
        "segment",
        "churn_probability",
        "attributable_probability",
        "revenue_at_risk",
        "contacts",
        "why",
    ]
    out = rows.sort_values("value", ascending=False)[cols]
    return [_plain(r) for r in out.to_dict(orient="records")]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")]


def _plain(record: dict[Any, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, float):
            clean[str(key)] = round(value, 4)
        elif hasattr(value, "item"):
            clean[str(key)] = value.item()
        else:
            clean[str(key)] = value
    return clean


def issues_table(issues: pd.DataFrame, limit: int = 10) -> Table:
    table = Table(title="Issues ranked by revenue at risk", title_justify="left")
    for col, justify in (
        ("#", "right"),
        ("issue", "left"),
        ("revenue at risk", "right"),
        ("interval", "right"),
        ("customers", "right"),
        ("aggregate LTV", "right"),
        ("contacts", "right"),
        ("share", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for i, r in enumerate(_records(issues.head(limit)), start=1):
        table.add_row(
            str(i),
            str(r["issue"]),
            money(float(r["revenue_at_risk"])),
            f"{money(float(r['revenue_at_risk_low']))}–{money(float(r['revenue_at_risk_high']))}",
            f"{int(r['customers']):,}",
            money(float(r["aggregate_ltv"])),
            f"{int(r['contacts']):,}",
            f"{float(r['share_of_exposure']):.0%}",
        )
    return table


def customers_table(rows: pd.DataFrame, issue: str, limit: int = 10) -> Table:
    table = Table(title=f"Top customers of {issue}, ranked by lifetime value", title_justify="left")
    for col in ("customer", "LTV", "source", "P(churn)", "revenue at risk", "why"):
        table.add_column(col, justify="left" if col in ("customer", "source", "why") else "right")
    for r in _records(rows.sort_values("value", ascending=False).head(limit)):
        table.add_row(
            str(r["customer_id"]),
            money(float(r["value"])),
            str(r["value_source"]),
            f"{float(r['churn_probability']):.0%}",
            money(float(r["revenue_at_risk"])),
            str(r["why"]),
        )
    return table


def cases_table(cases: list[dict[str, Any]]) -> Table:
    table = Table(title="Cases", title_justify="left")
    for col in (
        "id",
        "issue",
        "state",
        "severity",
        "owner",
        "team",
        "due",
        "revenue at risk",
        "recommended",
    ):
        table.add_column(col, justify="right" if col in ("id", "revenue at risk") else "left")
    for c in cases:
        table.add_row(
            str(c["id"]),
            c["issue"],
            c["state"],
            c["severity"],
            c["owner"],
            c["team"],
            str(c["due"]),
            money(float(c["revenue_at_risk"])),
            str(c["recommended_response"]).replace("_", " "),
        )
    return table


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}x"


def _months(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def case_markdown(case: dict[str, Any]) -> str:
    """A case as a Markdown business case."""
    bc = case.get("business_case") or {}
    plan = case.get("measurement_plan") or {}
    lines = [
        f"# Case {case['id']}: {case['issue']}",
        "",
        f"**State** {case['state']} · **severity** {case['severity']} · **owner** {case['owner']} "
        f"({case['team']}) · **due** {case['due']}",
        "",
        bc.get("narrative", ""),
        "",
        "| measure | value |",
        "|---|---|",
        f"| customers affected | {case['customers']:,} |",
        f"| aggregate lifetime value | {money(float(case['aggregate_ltv']))} |",
        f"| revenue at risk | {money(float(case['revenue_at_risk']))} |",
        f"| cost of inaction | {money(float(case['cost_of_inaction']))} |",
        f"| cost of intervention | {money(float(case['cost_of_intervention']))} |",
        f"| recommended response | {case['recommended_response']} |",
        "",
        "## Response options",
        "",
        "| response | cost | expected benefit | net value | ROI | payback (months) |",
        "|---|---|---|---|---|---|",
    ]
    for o in bc.get("options", []):
        lines.append(
            f"| {o['response']} | {money(o['cost'])} | {money(o['expected_benefit'])} | "
            f"{money(o['net_value'])} | {_ratio(o['roi'])} | {_months(o['payback_months'])} |"
        )
    lines += [
        "",
        "## Customers carrying the risk (by lifetime value)",
        "",
        "| customer | LTV | source | revenue at risk | why |",
        "|---|---|---|---|---|",
    ]
    for c in bc.get("top_customers", []):
        lines.append(
            f"| {c['customer_id']} | {money(c['value'])} | {c['value_source']} | "
            f"{money(c['revenue_at_risk'])} | {c['why']} |"
        )
    lines += ["", "## Measurement plan", ""]
    lines += [f"- **{k.replace('_', ' ')}**: {v}" for k, v in plan.items()]
    return "\n".join(lines) + "\n"
