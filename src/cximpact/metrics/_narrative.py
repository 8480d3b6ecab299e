"""The board report's narrative: Jinja2 templates over the numbers, or an optional LLM.

The LLM path (off by default) sends only :func:`narrative_facts`: aggregates, issue labels,
dates and states. Never customer ids, interaction text, owners' names or any other free text;
every string that goes out is passed through the PII redactor as a last guard. Any failure
falls back to the template narrative with a :class:`~cximpact.errors.CximpactWarning`.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

import httpx
import jinja2

from cximpact.errors import CximpactWarning
from cximpact.ingest.redact import redact_text
from cximpact.settings import Settings

__all__ = ["SYSTEM_PROMPT", "llm_narrative", "narrative_facts", "template_narrative"]

SYSTEM_PROMPT = (
    "You write the narrative of a customer-experience board report for a CFO. Use only the "
    "numbers in the JSON you are given; do not invent figures. Write three to five short "
    "paragraphs separated by blank lines: exposure and its trend, the top issues and their "
    "cases, verdicts of closed cases, and the headline metrics. Plain text, no markdown."
)

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("cximpact.metrics", "templates"),
    autoescape=False,  # plain text; the HTML template escapes it again
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def fmt_value(value: float | None, unit: str) -> str:
    """A metric value in its unit: money, percent or plain number; ``n/a`` when None."""
    if value is None:
        return "n/a"
    if unit.startswith("currency"):
        sign = "-" if value < 0 else ""
        v = abs(value)
        if v >= 1e6:
            return f"{sign}${v / 1e6:,.2f}M"
        if v >= 1e4:
            return f"{sign}${v / 1e3:,.1f}k"
        return f"{sign}${v:,.2f}" if v < 100 else f"{sign}${v:,.0f}"
    if unit.startswith("share"):
        return f"{value:.1%}"
    if unit == "hours":
        return f"{value:,.1f} h"
    return f"{value:,.2f}"


def fmt_change(change: float | None, unit: str) -> str:
    """A change between windows with its sign; percentage points for shares."""
    if change is None:
        return "n/a"
    if unit.startswith("share"):
        return f"{change * 100:+.1f} pts"
    text = fmt_value(abs(change), unit)
    return ("+" if change >= 0 else "-") + text


_ENV.filters["value"] = fmt_value
_ENV.filters["change"] = fmt_change


def template_narrative(report: dict[str, Any]) -> list[str]:
    """Paragraphs rendered from ``templates/narrative.txt.j2`` over the report's numbers."""
    text = _ENV.get_template("narrative.txt.j2").render(**report)
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def narrative_facts(report: dict[str, Any]) -> dict[str, Any]:
    """The aggregates the LLM may see: numbers, issue labels, dates, states; nothing else."""
    facts = {
        "period": {"from": report["period_from"], "to": report["period_to"]},
        "window": report["window"],
        "preset": report["preset"],
        "exposure": {
            "attributable_revenue_at_risk": report["headline"]["exposure"],
            "issues": report["headline"]["issues"],
            "customers_affected": report["headline"]["customers"],
            "trend": [
                {"window": t["window"], "revenue_at_risk": t["value"]}
                for t in report["headline"]["trend"]
            ],
        },
        "top_issues": [
            {
                k: i[k]
                for k in (
                    "issue",
                    "revenue_at_risk",
                    "share_of_exposure",
                    "customers",
                    "severity",
                    "state",
                    "due",
                )
            }
            for i in report["top_issues"]
        ],
        "closed_case_verdicts": [
            {k: v[k] for k in ("issue", "verdict", "method", "estimate", "low", "high")}
            for v in report["verdicts"]
        ],
        "headline_metrics": [
            {k: m[k] for k in ("id", "name", "unit", "latest", "change", "higher_is_better")}
            for m in report["headline_metrics"]
        ],
    }
    scrubbed: dict[str, Any] = _scrubbed(facts)
    return scrubbed


def _scrubbed(value: Any) -> Any:
    """Every string redacted of PII (a last guard: the facts carry labels only)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def _endpoint(url: str) -> str:
    base = url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")


def llm_narrative(
    facts: dict[str, Any],
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
) -> list[str] | None:
    """Paragraphs from an OpenAI-compatible ``/v1/chat/completions`` endpoint, or None.

    None (with a warning) when the endpoint fails, times out or answers without text; the
    caller then uses :func:`template_narrative`. Only ``facts`` is sent.
    """
    if not settings.report_llm_url:
        return None
    key = os.environ.get(settings.report_llm_api_key_env)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {
        "model": settings.report_llm_model,
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": json.dumps(facts, default=str)},
        ],
    }
    try:
        with httpx.Client(timeout=settings.report_llm_timeout_s, transport=transport) as client:
            response = client.post(_endpoint(settings.report_llm_url), json=body, headers=headers)
            response.raise_for_status()
            text = str(response.json()["choices"][0]["message"]["content"])
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
        warnings.warn(
            f"the LLM narrative from {settings.report_llm_url} failed ({exc}); the report uses "
            "the template narrative. Fix: check CXIMPACT_REPORT_LLM_URL and the API key, or "
            "unset the URL",
            CximpactWarning,
            stacklevel=2,
        )
        return None
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    return paragraphs or None
