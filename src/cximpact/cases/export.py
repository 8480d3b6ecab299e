"""A case's business case as Markdown, self-contained HTML or JSON, and its consistency check.

The documents say the same thing in the same order, in a finance reader's terms: what the issue
costs if nothing is done (expected lost revenue plus repeat-contact handling, with its
interval), what each response costs and returns (benefit, net value, ROI, payback), which one
is recommended and why (best expected net value), who owns it by when, how the result will be
measured, and the customers carrying the risk ranked by lifetime value. The HTML needs nothing
from the network (inline style, no scripts, no CDN) and escapes every value.
"""

from __future__ import annotations

import html
import json
import math
from datetime import date
from typing import Any

from cximpact.errors import ContractError

__all__ = ["EXPORT_FORMATS", "check_business_case", "export_case", "key_figures"]

EXPORT_FORMATS = ("md", "html", "json")
_TOLERANCE = 0.011  # amounts are rounded to cents before they are stored


def _money(value: Any) -> str:
    if value is None:
        return "n/a"
    amount = float(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.0f}"


def _ratio(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.1f}x"


def _months(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.1f} months"


def _words(value: Any) -> str:
    return str(value).replace("_", " ")


def key_figures(case: dict[str, Any]) -> list[tuple[str, str]]:
    """The headline figures, in order: (label, formatted value)."""
    bc = case.get("business_case") or {}
    low, high = bc.get("revenue_at_risk_interval") or [None, None]
    horizon = bc.get("horizon_days")
    over = f" over {round(horizon / 30.4)} months" if horizon else ""
    return [
        ("Customers affected", f"{int(case['customers']):,}"),
        ("Aggregate lifetime value", _money(case["aggregate_ltv"])),
        (
            f"Revenue at risk{over}",
            f"{_money(case['revenue_at_risk'])} (95%: {_money(low)} to {_money(high)})",
        ),
        ("Repeat-contact handling cost", _money(bc.get("repeat_contact_cost"))),
        ("Cost of inaction", _money(case["cost_of_inaction"])),
        ("Recommended response", _words(case["recommended_response"])),
        ("Cost of intervention", _money(case["cost_of_intervention"])),
        ("Expected benefit", _money(bc.get("expected_benefit"))),
        ("Expected net value", _money(bc.get("net_value"))),
        ("Return on investment", _ratio(bc.get("roi"))),
        ("Payback", _months(bc.get("payback_months"))),
    ]


def _status(case: dict[str, Any], today: date) -> list[str]:
    due = date.fromisoformat(str(case["due"]))
    lines = [
        f"State {case['state']} · severity {case['severity']} · owner {case['owner']} "
        f"({case['team']}) · due {case['due']}"
        + (" · OVERDUE" if due < today and case["state"] not in ("closed", "dismissed") else "")
    ]
    if case.get("escalated_to"):
        lines.append(f"Escalated to {case['escalated_to']} on {str(case['escalated_at'])[:10]}.")
    if case.get("below_threshold_since"):
        lines.append(
            f"Below the case threshold since {case['below_threshold_since']}: review whether "
            "to dismiss it (with a reason) or keep it."
        )
    if case.get("verdict"):
        lines.append(f"Closed with verdict: {_words(case['verdict'])}.")
    if case.get("reason"):
        lines.append(f"Reason: {case['reason']}")
    return lines


def _option_rows(case: dict[str, Any]) -> list[list[str]]:
    best = case["recommended_response"]
    return [
        [
            _words(o["response"]) + (" (recommended)" if o["response"] == best else ""),
            _money(o["cost"]),
            _money(o["expected_benefit"]),
            _money(o["net_value"]),
            _ratio(o["roi"]),
            _months(o["payback_months"]),
        ]
        for o in (case.get("business_case") or {}).get("options", [])
    ]


def _customer_rows(case: dict[str, Any]) -> list[list[str]]:
    return [
        [
            str(i),
            str(c["customer_id"]),
            _money(c["value"]),
            str(c["value_source"]),
            _money(c["revenue_at_risk"]),
            str(c["why"]),
        ]
        for i, c in enumerate((case.get("business_case") or {}).get("top_customers", []), 1)
    ]


def _plan_rows(case: dict[str, Any]) -> list[tuple[str, str]]:
    plan = case.get("measurement_plan") or {}
    return [(_words(k).capitalize(), _plain_value(v)) for k, v in plan.items()]


def _evidence_rows(case: dict[str, Any]) -> list[list[str]]:
    items = (case.get("evidence") or {}).get("detections", [])
    return [
        [
            str(d.get("date")),
            _words(d.get("kind")),
            str(d.get("metric")),
            str(d.get("direction")),
            f"{d.get('observed')} vs {d.get('baseline')}",
            str(d.get("since")),
        ]
        for d in items
    ]


def _result_rows(case: dict[str, Any]) -> list[tuple[str, str]]:
    result = case.get("measurement_result") or {}
    rows = []
    for metric in ("churn", "exposure"):
        effect = result.get(metric) or {}
        if "estimate" in effect:
            rows.append(
                (
                    f"Reduction of {metric}",
                    f"{effect['estimate']:.1%} (95%: {effect['low']:.1%} to {effect['high']:.1%}),"
                    f" {_words(effect['method'])}, verdict {_words(effect['verdict'])}",
                )
            )
        elif "error" in effect:
            rows.append((f"Reduction of {metric}", f"not measured: {effect['error']}"))
    return rows


def _plain_value(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


_OPTION_HEAD = ["response", "cost", "expected benefit", "net value", "ROI", "payback"]
_CUSTOMER_HEAD = ["#", "customer", "lifetime value", "value source", "revenue at risk", "why"]
_EVIDENCE_HEAD = ["date", "detection", "metric", "direction", "observed vs baseline", "since"]


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def _markdown(case: dict[str, Any], today: date) -> str:
    bc = case.get("business_case") or {}
    lines = [f"# Case {case['id']}: {case['issue']}", ""]
    lines += [f"**{line}**" if i == 0 else line for i, line in enumerate(_status(case, today))]
    lines += ["", str(bc.get("narrative", "")), "", "## Key figures", ""]
    lines += _md_table(["measure", "value"], [list(r) for r in key_figures(case)])
    lines += ["## Response options", "", *_md_table(_OPTION_HEAD, _option_rows(case))]
    lines += ["## Measurement plan", ""]
    lines += [f"- **{k}**: {v}" for k, v in _plan_rows(case)] + [""]
    if _result_rows(case):
        lines += ["## Measured result", ""]
        lines += [f"- **{k}**: {v}" for k, v in _result_rows(case)] + [""]
    if _evidence_rows(case):
        lines += ["## Monitoring evidence", "", *_md_table(_EVIDENCE_HEAD, _evidence_rows(case))]
    lines += ["## Customers carrying the risk, by lifetime value", ""]
    lines += _md_table(_CUSTOMER_HEAD, _customer_rows(case))
    return "\n".join(lines).rstrip() + "\n"


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}"
    "table{border-collapse:collapse;margin:0.5rem 0 1.5rem}"
    "th,td{border:1px solid #ccc;padding:0.3rem 0.6rem;text-align:left}"
    "th{background:#f3f3f3}.status{color:#555}.warn{color:#a40000;font-weight:bold}"
)


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    header = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _html(case: dict[str, Any], today: date) -> str:
    e = html.escape
    bc = case.get("business_case") or {}
    title = f"Case {case['id']}: {case['issue']}"
    status = _status(case, today)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="status">{e(status[0])}</p>',
        *(f'<p class="warn">{e(line)}</p>' for line in status[1:]),
        f"<p>{e(str(bc.get('narrative', '')))}</p>",
        "<h2>Key figures</h2>",
        _html_table(["measure", "value"], [list(r) for r in key_figures(case)]),
        "<h2>Response options</h2>",
        _html_table(_OPTION_HEAD, _option_rows(case)),
        "<h2>Measurement plan</h2>",
        _html_table(["item", "value"], [list(r) for r in _plan_rows(case)]),
    ]
    if _result_rows(case):
        parts += ["<h2>Measured result</h2>"]
        parts += [_html_table(["measure", "value"], [list(r) for r in _result_rows(case)])]
    if _evidence_rows(case):
        parts += ["<h2>Monitoring evidence</h2>", _html_table(_EVIDENCE_HEAD, _evidence_rows(case))]
    parts += [
        "<h2>Customers carrying the risk, by lifetime value</h2>",
        _html_table(_CUSTOMER_HEAD, _customer_rows(case)),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def export_case(case: dict[str, Any], fmt: str, *, today: date | None = None) -> str:
    """The case as a document.

    Parameters
    ----------
    case : dict
        A case record (:meth:`cximpact.store.state.CaseRecord.to_dict`).
    fmt : {"md", "html", "json"}
        Markdown, self-contained HTML, or the record as JSON.
    today : date, optional
        For the overdue mark (default: today).
    """
    today = today or date.today()
    if fmt == "md":
        return _markdown(case, today)
    if fmt == "html":
        return _html(case, today)
    if fmt == "json":
        return json.dumps(case, indent=2, default=str) + "\n"
    raise ContractError(f"format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), abs_tol=_TOLERANCE, rel_tol=1e-6)


def check_business_case(case: dict[str, Any]) -> list[str]:
    """Inconsistencies between a case's figures (empty when every number agrees).

    Checks: cost of inaction = expected lost revenue + repeat-contact cost; revenue at risk lies
    in its interval; the recommendation is the option with the best net value (or ``monitor``
    when none is positive) and its cost, benefit, ROI and payback are the case's; each option's
    net value = benefit - cost and ROI = net / cost; customers are ranked by value.
    """
    bc = case.get("business_case") or {}
    problems = []
    rar, repeat = float(case["revenue_at_risk"]), float(bc.get("repeat_contact_cost", 0.0))
    if not _close(case["cost_of_inaction"], rar + repeat):
        problems.append("cost of inaction != revenue at risk + repeat-contact cost")
    low, high = bc.get("revenue_at_risk_interval", [rar, rar])
    if not float(low) - _TOLERANCE <= rar <= float(high) + _TOLERANCE:
        problems.append(f"revenue at risk {rar} outside its interval [{low}, {high}]")
    options = bc.get("options", [])
    for o in options:
        if not _close(o["net_value"], float(o["expected_benefit"]) - float(o["cost"])):
            problems.append(f"{o['response']}: net value != benefit - cost")
        if o["cost"] > 0 and not _close(o["roi"], round(o["net_value"] / o["cost"], 3)):
            problems.append(f"{o['response']}: ROI != net value / cost")
    best = max(options, key=lambda o: float(o["net_value"]), default=None)
    expected = best["response"] if best and best["net_value"] > 0 else "monitor"
    if case["recommended_response"] != expected:
        problems.append(f"recommended {case['recommended_response']!r}, best is {expected!r}")
    chosen = next((o for o in options if o["response"] == case["recommended_response"]), None)
    if chosen is not None:
        for key in ("cost", "expected_benefit", "roi", "payback_months"):
            theirs = case["cost_of_intervention"] if key == "cost" else bc.get(key)
            if not _close(theirs, chosen[key]):
                problems.append(f"{key} of the case != that of the recommended option")
    values = [float(c["value"]) for c in bc.get("top_customers", [])]
    if values != sorted(values, reverse=True):
        problems.append("customers are not ranked by lifetime value")
    return problems
