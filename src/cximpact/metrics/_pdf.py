"""The board report as PDF, written with fpdf2 (pure Python; no browser, no system library).

Text is set in DejaVu Sans, which matplotlib ships, so every character of the report prints
without a font from the system. Charts are the PNG renderings of :mod:`._charts`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from cximpact.metrics._charts import Chart
from cximpact.metrics._narrative import fmt_change, fmt_value

__all__ = ["write_pdf"]

_FONT = "DejaVu"


def _fonts() -> tuple[Path, Path]:
    import matplotlib

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return ttf / "DejaVuSans.ttf", ttf / "DejaVuSans-Bold.ttf"


def _heading(pdf: Any, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(_FONT, "B", 12)
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 9)


def _chart(pdf: Any, chart: Chart) -> None:
    pdf.image(io.BytesIO(chart.png), w=pdf.epw)
    pdf.ln(2)


def _table(pdf: Any, header: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
    pdf.set_font(_FONT, "", 8)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.6) as table:
        head = table.row()
        for cell in header:
            head.cell(cell)
        for values in rows:
            row = table.row()
            for cell in values:
                row.cell(cell)
    pdf.set_font(_FONT, "", 9)


def write_pdf(report: dict[str, Any], charts: dict[str, Chart], path: Path) -> Path:
    """Write the board report ``report`` with its ``charts`` to ``path`` (A4 portrait)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    regular, bold = _fonts()
    pdf.add_font(_FONT, "", str(regular))
    pdf.add_font(_FONT, "B", str(bold))
    pdf.set_title(f"Board report {report['period_from']} to {report['period_to']}")
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_page()
    pdf.set_font(_FONT, "B", 16)
    pdf.cell(0, 9, "Customer experience: board report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 9)
    pdf.cell(0, 5, _subtitle(report), new_x="LMARGIN", new_y="NEXT")
    h = report["headline"]
    _heading(pdf, f"Revenue at risk from service issues: {fmt_value(h['exposure'], 'currency')}")
    pdf.multi_cell(
        0,
        5,
        f"{h['issues']} issues, {h['customers']} customers affected. "
        f"Trend per {report['window']}: {_trend(h)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    _heading(pdf, "Narrative")
    for paragraph in report["narrative"]:
        pdf.multi_cell(0, 5, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    _chart(pdf, charts["exposure"])
    _heading(pdf, "Top issues, owners and due dates")
    _chart(pdf, charts["issues"])
    _table(pdf, _ISSUE_HEADER, [_issue_row(i) for i in report["top_issues"]], _ISSUE_WIDTHS)
    _heading(pdf, "Verdicts of closed cases")
    if report["verdicts"]:
        _table(
            pdf,
            _VERDICT_HEADER,
            [_verdict_row(v) for v in report["verdicts"]],
            (10, 30, 18, 40, 40, 28),
        )
    else:
        pdf.multi_cell(
            0, 5, "No case has closed with a measured verdict yet.", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.add_page()
    _heading(pdf, "The portfolio")
    _chart(pdf, charts["portfolio"])
    _table(pdf, _METRIC_HEADER, [_metric_row(m) for m in report["metrics"]], (42, 14, 26, 24, 60))
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def _subtitle(report: dict[str, Any]) -> str:
    preset = f" · strategy focus: {report['preset']}" if report["preset"] else ""
    return (
        f"{report['period_from']} to {report['period_to']} · windows: {report['window']}"
        f"{preset} · narrative: {report['narrative_source']}"
    )


def _trend(headline: dict[str, Any]) -> str:
    return ", ".join(
        f"{t['window']} {fmt_value(t['value'], 'currency')}" for t in headline["trend"]
    )


_ISSUE_HEADER = ["issue", "at risk", "share", "customers", "case", "owner", "due", "state"]
_ISSUE_WIDTHS = (38, 18, 14, 20, 12, 36, 22, 20)
_VERDICT_HEADER = ["case", "issue", "verdict", "churn reduced (95% CI)", "method", "closed"]
_METRIC_HEADER = ["metric", "horizon", "latest", "change", "status / enabled by"]


def _issue_row(i: dict[str, Any]) -> list[str]:
    return [
        str(i["issue"]),
        fmt_value(i["revenue_at_risk"], "currency"),
        fmt_value(i["share_of_exposure"], "share"),
        str(i["customers"]),
        "—" if i["case_id"] is None else f"#{i['case_id']}",
        str(i["owner"] or "no case"),
        str(i["due"] or "—"),
        str(i["state"] or "—"),
    ]


def _verdict_row(v: dict[str, Any]) -> list[str]:
    return [
        f"#{v['case_id']}",
        str(v["issue"]),
        str(v["verdict"]),
        f"{fmt_value(v['estimate'], 'share')} ({fmt_value(v['low'], 'share')} to "
        f"{fmt_value(v['high'], 'share')})",
        str(v["method"]),
        str(v["closed_at"] or "")[:10],
    ]


def _metric_row(m: dict[str, Any]) -> list[str]:
    latest = m["latest"]
    return [
        str(m["name"]),
        str(m["horizon"]),
        fmt_value(latest, m["unit"]),
        fmt_change(m["change"], m["unit"]),
        "ok" if m["status"] == "ok" else f"no data: {m['enabled_by']}",
    ]
