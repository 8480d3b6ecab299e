"""The dashboard in a real browser: Playwright driving Debian's chromium (never downloaded).

Each page is opened as a signed-in user, checked for what it must show, and screenshotted to
``tests/artifacts/dashboard/`` (git-ignored).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from .conftest import Running

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which("chromium") is None and not Path(CHROMIUM).exists(),
        reason="chromium is not installed (the CI script installs it: apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def base_url(running: Running) -> Iterator[str]:
    """The running app served by uvicorn on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(running.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


def _signed_in(browser: Any, base_url: str, token: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base_url}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return page


def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


@pytest.fixture(scope="module")
def overdue_case(running: Running) -> dict[str, Any]:
    """One open case made overdue (due date in the past, as the system last wrote it)."""
    services = running.app.state.services
    case = services.tokens.list_cases(include_terminal=False)[0]
    services.tokens.upsert_case(case.issue, {"due": "2020-01-31"})
    return {"id": case.id, "issue": case.issue, "owner": case.owner}


def test_pages_for_an_admin(
    browser: Any, base_url: str, running: Running, overdue_case: dict[str, Any]
) -> None:
    page = _signed_in(browser, base_url, running.tokens["admin"])
    rows = page.locator("#issues tbody tr")
    assert rows.count() >= 3
    page.wait_for_selector("#issues-chart[data-drawn] canvas")
    assert page.locator(".spark[data-drawn]").count() >= 1
    _shot(page, "issues")

    page.click(f"#issues a:text-is('{overdue_case['issue']}')")
    page.wait_for_selector("#trend[data-drawn]")
    assert "revenue at risk" in page.locator("#business-case").inner_text()
    values = [
        float(v.replace("$", "").replace(",", "").replace("k", "e3").replace("M", "e6"))
        for v in page.locator("#customers tbody tr td:nth-child(2)").all_inner_texts()
    ]
    assert values and values == sorted(values, reverse=True)
    _shot(page, "issue")

    page.click("#customers tbody tr:first-child a")
    assert page.locator("#interactions tbody tr").count() >= 1
    assert page.locator("#interactions th:text-is('text (redacted)')").count() == 1
    assert page.locator("#actions").count() == 1
    _shot(page, "customer")

    page.goto(f"{base_url}/cases")
    overdue = page.locator(".case.overdue")
    assert overdue.count() >= 1 and f"#{overdue_case['id']}" in overdue.first.inner_text()
    _shot(page, "cases")

    page.goto(f"{base_url}/metrics")
    page.wait_for_selector("#cases-chart[data-drawn]")
    assert "revenue at risk" in page.locator("#metrics").inner_text()
    _shot(page, "metrics")
    page.close()


def test_viewer_sees_no_identifiers(browser: Any, base_url: str, running: Running) -> None:
    page = _signed_in(browser, base_url, running.tokens["viewer"])
    page.click("#issues tbody tr:first-child a")
    ids = page.locator("#customers tbody tr td:first-child").all_inner_texts()
    assert ids and all(i.startswith("~") for i in ids)
    assert page.locator("#customers a").count() == 0
    _shot(page, "issue-viewer")
    page.close()


def test_signed_out_browsers_go_to_the_login(browser: Any, base_url: str) -> None:
    page = browser.new_page()
    page.goto(f"{base_url}/cases")
    assert page.url.endswith("/login") and page.locator("#token").count() == 1
    page.fill("#token", "cxi_wrong")
    page.click("button[type=submit]")
    assert "unknown or revoked" in page.locator(".error").inner_text()
    _shot(page, "login")
    page.close()
