"""Tokens: migration on every backend, CLI create/list/revoke, the role matrix, rate limiter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from cximpact.cli import app
from cximpact.errors import ContractError, StateError
from cximpact.service.auth import PERMISSIONS, Principal, RateLimiter, TokenStore
from cximpact.service.errors import AuthError, ForbiddenError, RateLimitedError


def test_migration_creates_the_token_table(db_url: str) -> None:
    with TokenStore(db_url) as store:
        store.upgrade()
        store.upgrade()  # idempotent
        _, secret = store.create_token("ana", "analyst")
        assert store.authenticate(secret).role == "analyst"
    engine = create_engine(db_url)
    columns = {c["name"] for c in inspect(engine).get_columns("api_tokens")}
    engine.dispose()
    assert {"token_hash", "prefix", "role", "owner", "revoked_at"} <= columns
    assert "token" not in columns and "secret" not in columns


def test_token_rules(sqlite_url: str) -> None:
    with TokenStore(sqlite_url) as store:
        store.upgrade()
        with pytest.raises(ContractError, match="role"):
            store.create_token("x", "superuser")
        with pytest.raises(ContractError, match="owner"):
            store.create_token("x", "owner")
        record, secret = store.create_token("x", "viewer")
        with pytest.raises(AuthError):
            store.authenticate(secret + "x")
        with pytest.raises(AuthError):
            store.authenticate(None)
        store.revoke_token(record.id)
        with pytest.raises(StateError):
            store.revoke_token(record.id)
        with pytest.raises(AuthError):
            store.authenticate(secret)


def test_owner_may_change_only_their_cases() -> None:
    owner = Principal(1, "olga", "owner", owner="olga")
    owner.require_case("olga")
    with pytest.raises(ForbiddenError):
        owner.require_case("someone")
    Principal(2, "root", "admin").require_case("someone")
    with pytest.raises(ForbiddenError):
        Principal(3, "ann", "analyst").require_case("ann")


def test_matrix_gives_text_to_fewer_roles_than_identifiers() -> None:
    assert PERMISSIONS["text"] < PERMISSIONS["identifiers"] < PERMISSIONS["read"]
    assert PERMISSIONS["admin"] == {"admin"}


def test_rate_limiter_refills() -> None:
    limiter = RateLimiter(rate=1000.0, burst=2)
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(RateLimitedError) as caught:
        limiter.check("a")
    assert caught.value.retry_after > 0
    limiter.check("b")  # another token has its own bucket
    RateLimiter(rate=0, burst=1).check("a")  # 0 disables


def test_tokens_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "cx.duckdb")
    created = runner.invoke(
        app,
        ["tokens", "create", "olga", "--role", "owner", "--owner", "olga", "--db", db, "--json"],
    )
    assert created.exit_code == 0, created.output
    token = json.loads(created.output)
    listed = runner.invoke(app, ["tokens", "list", "--db", db, "--json"])
    rows = json.loads(listed.output)
    assert [r["name"] for r in rows] == ["olga"] and token["token"] not in listed.output
    revoked = runner.invoke(app, ["tokens", "revoke", str(token["id"]), "--db", db, "--json"])
    assert json.loads(revoked.output)["revoked_at"]
    bad = runner.invoke(app, ["tokens", "create", "x", "--role", "root", "--db", db])
    assert bad.exit_code != 0
