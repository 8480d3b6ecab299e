"""The board report end to end on a small simulated enterprise, and the metrics CLI.

The flow runs once per module: simulate, ingest, score, open cases; one case is taken through
its states and closed with a measured verdict (`cases measure --close`).
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest
from typer.testing import CliRunner

from cximpact.cli import app
from cximpact.errors import CximpactWarning
from cximpact.flow import run as run_flow
from cximpact.ingest.redact import find_pii
from cximpact.metrics._io import assumptions_from_settings, read_cases, read_inputs
from cximpact.metrics._narrative import fmt_value
from cximpact.metrics.board import build_board, write_board
from cximpact.settings import Settings, load_settings
from cximpact.simulate import SimulationConfig, simulate, write_enterprise

runner = CliRunner()
START, END = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-06-01")


@pytest.fixture(scope="module")
def enterprise(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A run with cases, one of them closed with a verdict."""
    root = tmp_path_factory.mktemp("board")
    sim = simulate(SimulationConfig(customers=400, days=150, seed=3))
    write_enterprise(sim, root / "data")
    db = root / "acme.duckdb"
    run_flow(root / "data", load_settings(db=db))
    cases = json.loads(runner.invoke(app, ["cases", "--db", str(db), "--json"]).stdout)
    assert cases, "the simulated enterprise should open at least one case"
    case = str(cases[0]["id"])
    for state in ("accepted", "in_progress", "fix_deployed", "measuring"):
        result = runner.invoke(app, ["cases", "transition", case, state, "--db", str(db)])
        assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["cases", "measure", case, "--close", "--change", "2026-04-01", "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    return {"db": db, "sim": sim, "root": root, "case": int(case)}


def _report(db: Path, settings: Settings) -> dict[str, Any]:
    return build_board(
        read_inputs(db, as_of=END),
        read_cases(settings),
        start=START,
        end=END,
        window="month",
        assumptions=assumptions_from_settings(settings),
        preset="balanced",
        headline=("exposure_trend", "cost_per_contact"),
    )


def _pii(text: str) -> list[str]:
    return [text[start:end] for _, start, end in find_pii(text)]


def _pages(pdf: Path, out: Path) -> list[tuple[str, float]]:
    """Text and share of non-white pixels of each page, rendered to PNG beside ``out``."""
    document = pdfium.PdfDocument(str(pdf))
    pages = []
    for i in range(len(document)):
        page = document[i]
        image = page.render(scale=1.0).to_pil().convert("L")
        image.save(out / f"page{i}.png")
        inked = float((np.asarray(image) < 200).mean())
        pages.append((page.get_textpage().get_text_range(), inked))
    document.close()
    return pages


def test_board_renders_html_pdf_and_png_pages(enterprise: dict[str, Any], tmp_path: Path) -> None:
    settings = load_settings(db=enterprise["db"])
    report = _report(enterprise["db"], settings)
    assert report["headline"]["exposure"] > 0
    assert report["top_issues"] and report["top_issues"][0]["owner"]
    verdicts = report["verdicts"]
    assert [v["case_id"] for v in verdicts] == [enterprise["case"]]
    assert verdicts[0]["verdict"] and verdicts[0]["low"] <= verdicts[0]["high"]
    assert [m["id"] for m in report["metrics"][:2]] == ["exposure_trend", "cost_per_contact"]

    paths = write_board(report, tmp_path, settings)
    html = paths["html"].read_text(encoding="utf-8")
    assert html.count("<svg") == 3
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:|<script|<link|@import|url\(http""", html)
    headline = fmt_value(report["headline"]["exposure"], "currency")
    assert headline in html and report["top_issues"][0]["issue"] in html

    pages = _pages(paths["pdf"], tmp_path)
    assert len(pages) >= 2
    assert all(inked > 0.01 for _, inked in pages), [inked for _, inked in pages]
    text = " ".join(t for t, _ in pages)
    assert headline in text
    assert fmt_value(report["top_issues"][0]["revenue_at_risk"], "currency") in text
    assert report["verdicts"][0]["verdict"] in text
    assert "Share of wallet" in text  # a no-data metric is listed, not hidden
    assert len(list(tmp_path.glob("page*.png"))) == len(pages)


class _FakeLLM(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that records what it was sent."""

    received: ClassVar[list[dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(
            {"path": self.path, "body": body.decode(), "auth": self.headers.get("Authorization")}
        )
        answer = {"choices": [{"message": {"content": "Exposure fell.\n\nThe fix worked."}}]}
        payload = json.dumps(answer).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def fake_llm() -> Iterator[str]:
    _FakeLLM.received = []
    _FakeLLM.status = 200
    server = HTTPServer(("127.0.0.1", 0), _FakeLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_llm_narrative_gets_aggregates_only(
    enterprise: dict[str, Any], fake_llm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXIMPACT_REPORT_LLM_API_KEY", "sk-test")
    settings = load_settings(db=enterprise["db"], report_llm_url=fake_llm)
    report = _report(enterprise["db"], settings)
    write_board(report, tmp_path, settings)
    assert "Exposure fell." in (tmp_path / "board.html").read_text(encoding="utf-8")
    (request,) = _FakeLLM.received
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer sk-test"
    sent = request["body"]
    assert json.loads(sent)["messages"][1]["content"].startswith("{")
    sim = enterprise["sim"]
    ids = set(sim.customers["id"]) | set(sim.interactions["id"])
    assert not [i for i in ids if i in sent]
    texts = [t for t in sim.interactions["text"] if len(t) > 30]
    assert not [t for t in texts if t[:30] in sent]
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", sent)  # no e-mail address
    assert find_pii(sent) == []  # no phone, card, IBAN or e-mail by the project's detector
    raw_pii = {sent_pii for t in sim.interactions["text"] for sent_pii in _pii(t)}
    assert raw_pii and not [p for p in raw_pii if p in sent]
    owners = {i["owner"] for i in report["top_issues"] if i["owner"]}
    assert owners and not [o for o in owners if o in sent]


def test_llm_failure_falls_back_to_the_template(
    enterprise: dict[str, Any], fake_llm: str, tmp_path: Path
) -> None:
    _FakeLLM.status = 500
    settings = load_settings(db=enterprise["db"], report_llm_url=fake_llm)
    report = _report(enterprise["db"], settings)
    with pytest.warns(CximpactWarning, match="template narrative"):
        write_board(report, tmp_path, settings)
    saved = json.loads((tmp_path / "board.json").read_text(encoding="utf-8"))
    assert saved["narrative_source"] == "template"
    assert saved["narrative"] == report["narrative"]


def test_without_llm_nothing_is_sent(enterprise: dict[str, Any], tmp_path: Path) -> None:
    settings = load_settings(db=enterprise["db"])
    assert settings.report_llm_url is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", CximpactWarning)
        write_board(_report(enterprise["db"], settings), tmp_path, settings)
    narrative = json.loads((tmp_path / "board.json").read_text(encoding="utf-8"))["narrative"]
    assert narrative[0].startswith("Between 2026-01-01 and 2026-05-31")


def test_metrics_cli_json_shape(enterprise: dict[str, Any]) -> None:
    result = runner.invoke(
        app,
        [
            "metrics",
            "--db",
            str(enterprise["db"]),
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--window",
            "month",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"from", "to", "window", "preset", "headline", "metrics"} <= set(data)
    assert (data["from"], data["to"]) == ("2026-01-01", "2026-03-31")
    assert len(data["metrics"]) == 15
    assert [m["id"] for m in data["metrics"][: len(data["headline"])]] == data["headline"]
    for metric in data["metrics"]:
        assert {"id", "horizon", "definition", "formula", "lineage", "unit", "values"} <= set(
            metric
        )
        assert [v["window"] for v in metric["values"]] == ["2026-01", "2026-02", "2026-03"]
        for value in metric["values"]:
            assert value["status"] in ("ok", "no data")
            assert (value["value"] is None) == (value["status"] == "no data")
    by_id = {m["id"]: m for m in data["metrics"]}
    assert by_id["share_of_wallet"]["status"] == "no data"
    assert by_id["abandonment_rate"]["status"] == "ok"  # the simulator emits the flag
    assert set(by_id["ltv_by_segment"]["values"][0]["by"]) == {"consumer", "smb", "premium"}


def test_report_board_cli_writes_files(enterprise: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "board"
    result = runner.invoke(
        app,
        [
            "report",
            "board",
            "--from",
            "2026-01-01",
            "--to",
            "2026-05-31",
            "--out",
            str(out),
            "--db",
            str(enterprise["db"]),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == {"html", "pdf", "json"}
    assert (out / "board.pdf").read_bytes().startswith(b"%PDF")


def test_cli_errors_are_one_line(enterprise: dict[str, Any]) -> None:
    result = runner.invoke(
        app, ["metrics", "--db", str(enterprise["db"]), "--window", "fortnight", "--json"]
    )
    assert result.exit_code != 0
    assert "--window must be one of" in str(result.exception)


def test_headline_trend_compares_exposure_per_day_of_clipped_windows() -> None:
    """A 10-day first window with a third of a full month's exposure is no change, not +200%."""
    from cximpact.metrics import board

    trend = {
        "values": [
            {"window": "2026-01", "start": "2026-01-22", "end": "2026-02-01", "value": 1000.0},
            {"window": "2026-02", "start": "2026-02-01", "end": "2026-03-03", "value": 3000.0},
        ]
    }
    empty = pd.DataFrame(columns=["issue", "revenue_at_risk", "customer_id"])
    inputs = SimpleNamespace(issue_exposure=empty, customer_exposure=empty)
    headline = board._headline(inputs, trend)  # type: ignore[arg-type]
    assert headline["trend_change"] == pytest.approx(0.0)
