"""Schemathesis against the app's OpenAPI document: no input makes the server fail (no 5xx).

Every operation except ``POST /refit`` (a full batch analysis per example would only measure
patience) is called with generated inputs and an admin token, so the deepest code paths are
reached. The operations are driven with Hypothesis directly (schemathesis' pytest plugin does
not collect under pytest 9).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from .conftest import Running

SKIP = {"/api/v1/refit"}


def test_no_input_makes_the_server_fail(running: Running) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", running.app)
    headers = running.headers("admin")
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIP:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        call()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 14, tested
