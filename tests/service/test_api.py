"""Every route x every role, and the API's contracts: errors, masking, limits, CORS, audit."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cximpact.service.auth import ROLES, mask_identifier

from .conftest import Running

ALL = frozenset(ROLES)
IDS = frozenset({"analyst", "owner", "admin"})
INGEST = frozenset({"analyst", "admin"})
CASES = frozenset({"owner", "admin"})
ADMIN = frozenset({"admin"})


def _interaction(record_id: str, customer_id: str, text_: str) -> dict[str, Any]:
    return {
        "id": record_id,
        "customer_id": customer_id,
        "timestamp": "2026-04-20T10:00:00Z",
        "channel": "chat",
        "text": text_,
    }


@pytest.fixture(scope="module")
def world(running: Running) -> dict[str, Any]:
    """Ids the matrix needs: an issue, a customer, an interaction, two cases (owner's, other)."""
    admin = running.headers("admin")
    issue = running.client.get("/api/v1/issues", headers=admin).json()["items"][0]["issue"]
    customers = running.client.get(f"/api/v1/issues/{issue}/customers", headers=admin).json()
    customer = customers["items"][0]["customer_id"]
    detail = running.client.get(f"/api/v1/customers/{customer}", headers=admin).json()
    cases = running.client.get("/api/v1/cases", headers=admin).json()["items"]
    assert len(cases) >= 2, "the test enterprise should open at least two cases"
    own, other = cases[0]["id"], cases[1]["id"]
    running.client.post(
        f"/api/v1/cases/{own}/assign", headers=admin, json={"owner": running.owner_name}
    )
    running.client.post(f"/api/v1/cases/{other}/assign", headers=admin, json={"owner": "someone"})
    return {
        "issue": issue,
        "customer": customer,
        "interaction": detail["interactions"][0]["id"],
        "own": own,
        "other": other,
    }


NEW_CUSTOMER = {
    "id": "matrix-customer",
    "start_date": "2020-01-01",
    "segment": "smb",
    "products": 1,
    "monthly_revenue": 50.0,
}

# (method, path template, JSON body, roles allowed, statuses an allowed role gets)
ROUTES: list[tuple[str, str, Any, frozenset[str], set[int]]] = [
    ("GET", "/api/v1/issues", None, ALL, {200}),
    ("GET", "/api/v1/issues/{issue}", None, ALL, {200}),
    ("GET", "/api/v1/issues/{issue}/customers", None, ALL, {200}),
    ("GET", "/api/v1/customers/{customer}", None, IDS, {200}),
    ("GET", "/api/v1/interactions/{interaction}", None, IDS, {200}),
    ("GET", "/api/v1/cases", None, ALL, {200}),
    ("GET", "/api/v1/cases/{own}", None, ALL, {200}),
    ("GET", "/api/v1/cases/{own}/audit", None, ADMIN, {200}),
    ("POST", "/api/v1/cases/{own}/assign", {"owner": "noc-manager"}, CASES, {200}),
    ("POST", "/api/v1/cases/{other}/assign", {"owner": "someone"}, ADMIN, {200}),
    (
        "POST",
        "/api/v1/cases/{own}/transitions",
        {"state": "closed", "verdict": "worked"},
        CASES,
        {409},
    ),
    (
        "POST",
        "/api/v1/cases/{other}/transitions",
        {"state": "closed", "verdict": "worked"},
        ADMIN,
        {409},
    ),
    ("POST", "/api/v1/ingest/interactions", {"records": []}, INGEST, {200}),
    ("POST", "/api/v1/ingest/customers/one", NEW_CUSTOMER, INGEST, {200}),
    ("GET", "/api/v1/actions", None, IDS, {200}),
    ("GET", "/api/v1/metrics", None, ALL, {200}),
    ("GET", "/", None, ALL, {200}),
    ("GET", "/issues/{issue}", None, ALL, {200}),
    ("GET", "/cases", None, ALL, {200}),
    ("GET", "/metrics", None, ALL, {200}),
    ("GET", "/customers/{customer}", None, IDS, {200}),
]


@pytest.mark.parametrize("role", [*ROLES, None])
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "ok"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES]
)
def test_every_route_for_every_role(
    running: Running,
    world: dict[str, Any],
    role: str | None,
    method: str,
    path: str,
    body: Any,
    allowed: frozenset[str],
    ok: set[int],
) -> None:
    response = running.client.request(
        method, path.format(**world), headers=running.headers(role), json=body
    )
    if role is None:
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "AuthError"
    elif role in allowed:
        assert response.status_code in ok, response.text
    else:
        assert response.status_code == 403, response.text


def test_refit_is_for_admins_only(running: Running) -> None:
    for role in ("viewer", "analyst", "owner"):
        assert (
            running.client.post("/api/v1/refit", headers=running.headers(role)).status_code == 403
        )
    result = running.client.post("/api/v1/refit", headers=running.headers("admin")).json()
    assert result["interactions"] > 0 and result["risk_source"] in ("model", "prior")


def test_errors_have_one_shape(running: Running) -> None:
    missing = running.client.get("/api/v1/cases/999999", headers=running.headers("viewer"))
    invalid = running.client.get("/api/v1/issues?limit=0", headers=running.headers("viewer"))
    for response, status in ((missing, 404), (invalid, 422)):
        assert response.status_code == status
        error = response.json()["error"]
        assert set(error) == {"status", "type", "message"} and error["status"] == status


def test_viewers_see_stand_ins_for_customer_ids(running: Running, world: dict[str, Any]) -> None:
    path = f"/api/v1/issues/{world['issue']}/customers"
    seen_by_viewer = running.client.get(path, headers=running.headers("viewer")).json()["items"]
    seen_by_analyst = running.client.get(path, headers=running.headers("analyst")).json()["items"]
    assert [r["customer_id"] for r in seen_by_viewer] == [
        mask_identifier(r["customer_id"]) for r in seen_by_analyst
    ]
    case = running.client.get(f"/api/v1/cases/{world['own']}", headers=running.headers("viewer"))
    for top in case.json()["business_case"].get("top_customers", []):
        assert top["customer_id"].startswith("~")


def test_raw_text_only_for_analysts_and_admins(running: Running, world: dict[str, Any]) -> None:
    path = f"/api/v1/customers/{world['customer']}"
    for role, shown in (("analyst", True), ("admin", True), ("owner", False)):
        interactions = running.client.get(path, headers=running.headers(role)).json()[
            "interactions"
        ]
        assert interactions and all(("text" in i) == shown for i in interactions)


def test_customers_are_ranked_by_value_and_paged(running: Running, world: dict[str, Any]) -> None:
    path = f"/api/v1/issues/{world['issue']}/customers"
    first = running.client.get(path + "?limit=3", headers=running.headers("analyst")).json()
    second = running.client.get(path + "?limit=3&offset=3", headers=running.headers("analyst"))
    values = [r["value"] for r in first["items"] + second.json()["items"]]
    assert values == sorted(values, reverse=True) and first["total"] >= len(values)
    assert all(r["why"] for r in first["items"])


def test_case_filters(running: Running) -> None:
    headers = running.headers("viewer")
    owned = running.client.get(f"/api/v1/cases?owner={running.owner_name}", headers=headers).json()
    assert owned["items"] and {c["owner"] for c in owned["items"]} == {running.owner_name}
    assert running.client.get("/api/v1/cases?state=bogus", headers=headers).status_code == 422


def test_tokens_are_stored_hashed(running: Running) -> None:
    engine = create_engine(running.settings.state_url())
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, token_hash, prefix FROM api_tokens")).all()
    engine.dispose()
    stored = {name: (digest, prefix) for name, digest, prefix in rows}
    for role, secret in running.tokens.items():
        digest, prefix = stored[role]
        assert digest == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in digest and secret.startswith(prefix) and len(prefix) < len(secret)


def test_writes_are_audited_with_the_token_as_actor(
    running: Running, world: dict[str, Any]
) -> None:
    record = _interaction("audit-1", world["customer"], "my bill was wrong twice")
    running.client.post(
        "/api/v1/ingest/interactions/one", headers=running.headers("analyst"), json=record
    )
    engine = create_engine(running.settings.state_url())
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT actor, action, entity FROM audit_log ORDER BY id")
        ).all()
    engine.dispose()
    assert ("token:analyst", "ingest", "interactions") in rows
    assert ("token:admin", "assign", "case") in rows
    assert ("test", "create", "api_token") in rows


def test_revoked_token_is_refused(bare: Running) -> None:
    from cximpact.service.auth import TokenStore

    with TokenStore(bare.settings.state_url()) as store:
        record, secret = store.create_token("temp", "viewer")
        headers = {"Authorization": f"Bearer {secret}"}
        assert bare.client.get("/api/v1/cases", headers=headers).status_code == 200
        store.revoke_token(record.id)
    bare.app.state.services.tokens._cache.clear()  # skip the two-second grace of the cache
    assert bare.client.get("/api/v1/cases", headers=headers).status_code == 401


def test_rate_limit_per_token(bare: Running) -> None:
    statuses = [
        bare.client.get("/api/v1/cases", headers=bare.headers("viewer")).status_code
        for _ in range(6)
    ]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]
    limited = bare.client.get("/api/v1/cases", headers=bare.headers("viewer"))
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert bare.client.get("/api/v1/cases", headers=bare.headers("admin")).status_code == 200


def test_request_size_limits(bare: Running) -> None:
    headers = bare.headers("analyst")
    big = {"records": [{"id": "x", "text": "a" * 5000}]}
    too_long = bare.client.post("/api/v1/ingest/interactions", headers=headers, json=big)
    assert too_long.status_code == 413 and too_long.json()["error"]["status"] == 413
    many = {"records": [{"id": str(i)} for i in range(4)]}
    too_many = bare.client.post("/api/v1/ingest/customers", headers=headers, json=many)
    assert too_many.status_code == 413


def test_cors_is_closed_by_default(bare: Running) -> None:
    preflight = bare.client.options(
        "/api/v1/cases",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = bare.client.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_opens_only_to_configured_origins(enterprise_dir: Any, tmp_path: Any) -> None:
    from .conftest import start

    for app in start(
        enterprise_dir, tmp_path, refit=False, service_cors_origins=("https://bi.example",)
    ):
        ok = app.client.get("/api/v1/health", headers={"Origin": "https://bi.example"})
        other = app.client.get("/api/v1/health", headers={"Origin": "https://evil.example"})
        assert ok.headers["access-control-allow-origin"] == "https://bi.example"
        assert "access-control-allow-origin" not in other.headers


def test_ingest_matches_the_cli_contract(running: Running, world: dict[str, Any]) -> None:
    records = [
        _interaction("contract-1", world["customer"], "call me on 415-555-0134 about the bill"),
        _interaction("contract-2", "no-such-customer", "hello"),
        {"id": "contract-3", "customer_id": world["customer"], "channel": "chat"},
    ]
    report = running.client.post(
        "/api/v1/ingest/interactions",
        headers=running.headers("analyst"),
        json={"records": records, "source": "test"},
    ).json()
    assert report["rows_read"] == 3 == report["accepted"] + report["quarantined"]
    assert report["quarantined"] == 2 and "unknown_customer" in report["by_rule"]
    stored = running.client.get(
        "/api/v1/interactions/contract-1", headers=running.headers("analyst")
    ).json()
    assert "415-555-0134" not in stored["text"] and "<PHONE>" in stored["text"]


def test_missing_columns_are_a_contract_error(running: Running) -> None:
    response = running.client.post(
        "/api/v1/ingest/interactions",
        headers=running.headers("analyst"),
        json={"records": [{"id": "x"}]},
    )
    assert response.status_code == 422 and response.json()["error"]["type"] == "ContractError"


def test_streamed_body_over_the_limit_is_refused(bare: Running) -> None:
    def chunks() -> Any:
        yield b'{"records": ['
        for _ in range(50):
            yield b'{"id": "' + b"x" * 100 + b'"},'
        yield b'{"id": "y"}]}'

    headers = bare.headers("analyst") | {"Content-Type": "application/json"}
    response = bare.client.post("/api/v1/ingest/customers", headers=headers, content=chunks())
    assert (
        response.status_code == 413 and response.json()["error"]["type"] == "PayloadTooLargeError"
    )
