"""Who may do what: roles, the permission matrix, hashed API tokens and a per-token rate limit.

Tokens are random 256-bit secrets shown once at creation; the store keeps only their SHA-256
(a fast hash is enough for secrets of this entropy: there is nothing to brute-force), a short
prefix to recognise them in listings, the role, and for role ``owner`` the case owner they act
as. Every token write is audited in the state store's append-only log.

The permission matrix (also in ``docs/service.md``):

=================  ======  =======  =====  =====
permission         viewer  analyst  owner  admin
=================  ======  =======  =====  =====
read (aggregates)  yes     yes      yes    yes
identifiers        no      yes      yes    yes
raw text           no      yes      no     yes
ingest             no      yes      no     yes
cases (write)      no      no       own    yes
refit, audit       no      no       no     yes
=================  ======  =======  =====  =====
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import event, select

from cximpact.errors import ContractError, NotFoundError, StateError
from cximpact.service.errors import AuthError, ForbiddenError, RateLimitedError
from cximpact.store.models import API_ROLES, ApiToken, AuditEntry, utcnow
from cximpact.store.state import StateStore

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "Permission",
    "Principal",
    "RateLimiter",
    "TokenRecord",
    "TokenStore",
    "hash_token",
    "mask_identifier",
]

ROLES: tuple[str, ...] = API_ROLES
Permission = Literal["read", "identifiers", "text", "ingest", "cases", "admin"]

PERMISSIONS: dict[Permission, frozenset[str]] = {
    "read": frozenset(ROLES),
    "identifiers": frozenset({"analyst", "owner", "admin"}),
    "text": frozenset({"analyst", "admin"}),
    "ingest": frozenset({"analyst", "admin"}),
    "cases": frozenset({"owner", "admin"}),
    "admin": frozenset({"admin"}),
}
"""Roles holding each permission; ``cases`` for an owner covers only the cases they own."""

_PREFIX = "cxi_"
_CACHE_SECONDS = 2.0  # a revoked token stops working within this long


def hash_token(secret: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored.

    Parameters
    ----------
    secret : str
        The token as the client sends it.

    Returns
    -------
    str
        64 hex characters.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def mask_identifier(customer_id: str) -> str:
    """Return a stable stand-in for a customer id, for roles that may not see identifiers.

    Parameters
    ----------
    customer_id : str
        The real identifier.

    Returns
    -------
    str
        ``"~"`` and 10 hex characters of its SHA-256: rows stay distinguishable, the id is not
        shown.
    """
    return "~" + hashlib.sha256(str(customer_id).encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An issued token as listings show it (never the secret or its hash)."""

    id: int
    name: str
    role: str
    owner: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (times in ISO 8601)."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "owner": self.owner,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }

    @classmethod
    def from_model(cls, token: ApiToken) -> TokenRecord:
        """Copy an ORM row into a record."""
        return cls(
            token.id,
            token.name,
            token.role,
            token.owner,
            token.prefix,
            token.created_at,
            token.revoked_at,
        )


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request: their token's name, role and (for owners) the owner name."""

    token_id: int
    name: str
    role: str
    owner: str | None = None

    @property
    def actor(self) -> str:
        """Name written to the audit log: ``token:<name>``."""
        return f"token:{self.name}"

    def can(self, permission: Permission) -> bool:
        """Whether the role holds ``permission``."""
        return self.role in PERMISSIONS[permission]

    def require(self, permission: Permission) -> None:
        """Raise :class:`ForbiddenError` unless the role holds ``permission``."""
        if not self.can(permission):
            allowed = ", ".join(sorted(PERMISSIONS[permission]))
            raise ForbiddenError(
                f"token {self.name!r} has role {self.role}; this needs the {permission!r} "
                f"permission (roles: {allowed}); ask an admin for a token with one of them"
            )

    def require_case(self, case_owner: str) -> None:
        """Raise unless the caller may change a case owned by ``case_owner``."""
        self.require("cases")
        if self.role == "owner" and self.owner != case_owner:
            raise ForbiddenError(
                f"token {self.name!r} acts for owner {self.owner!r}; this case belongs to "
                f"{case_owner!r}; only its owner or an admin may change it"
            )


def _sqlite_wal(connection: Any, _: Any) -> None:
    """SQLite in WAL mode with ``synchronous=NORMAL``: a commit no longer waits for fsync of
    the whole file, so the service's audit rows cost well under a millisecond; a commit
    survives a crash of the process (only a power loss may take the last ones)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class TokenStore(StateStore):
    """The state store with API tokens: create, list, revoke and authenticate."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        if self._engine.dialect.name == "sqlite":
            event.listen(self._engine, "connect", _sqlite_wal)
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._cache_lock = threading.Lock()

    def create_token(
        self, name: str, role: str, *, owner: str | None = None, actor: str = "cli"
    ) -> tuple[TokenRecord, str]:
        """Issue a token; return its record and the secret (shown once, stored hashed).

        Parameters
        ----------
        name : str
            Who or what holds it (recorded as the actor of its writes).
        role : str
            One of :data:`ROLES`.
        owner : str, optional
            For role ``owner``: the case owner the token acts as (required for that role).
        actor : str
            Who issues it, for the audit log.

        Returns
        -------
        tuple of (TokenRecord, str)
            The record and the secret.

        Raises
        ------
        ContractError
            If the role is unknown, or an owner token lacks ``owner``.
        """
        if role not in ROLES:
            raise ContractError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if role == "owner" and not (owner and owner.strip()):
            raise ContractError("an owner token needs --owner NAME: the case owner it may act for")
        if not name.strip():
            raise ContractError("a token needs a non-empty name (who holds it)")
        secret = _PREFIX + secrets.token_urlsafe(32)
        with self._transaction(f"create token {name!r}") as session:
            row = ApiToken(
                name=name.strip(),
                role=role,
                owner=owner.strip() if owner else None,
                prefix=secret[:10],
                token_hash=hash_token(secret),
                created_at=utcnow(),
                revoked_at=None,
            )
            session.add(row)
            session.flush()
            record = TokenRecord.from_model(row)
            _audit(session, actor, "create", "api_token", row.id, None, record.to_dict())
        return record, secret

    def list_tokens(self) -> list[TokenRecord]:
        """Return every token, oldest first (revoked ones included)."""
        with self._transaction("list tokens") as session:
            rows = session.scalars(select(ApiToken).order_by(ApiToken.id))
            return [TokenRecord.from_model(row) for row in rows]

    def revoke_token(self, token_id: int, *, actor: str = "cli") -> TokenRecord:
        """Revoke a token; it stops authenticating within two seconds.

        Raises
        ------
        NotFoundError
            If no token has this id.
        StateError
            If it is already revoked.
        """
        with self._transaction(f"revoke token {token_id}") as session:
            row = session.get(ApiToken, token_id)
            if row is None:
                raise NotFoundError(
                    f"no token with id {token_id}; list them with cximpact tokens list"
                )
            if row.revoked_at is not None:
                raise StateError(f"token {token_id} ({row.name}) is already revoked")
            before = TokenRecord.from_model(row).to_dict()
            row.revoked_at = utcnow()
            session.flush()
            record = TokenRecord.from_model(row)
            _audit(session, actor, "revoke", "api_token", row.id, before, record.to_dict())
        with self._cache_lock:
            self._cache.clear()
        return record

    def authenticate(self, secret: str | None) -> Principal:
        """Return the principal of a token, or raise :class:`AuthError`.

        Parameters
        ----------
        secret : str or None
            The bearer token from the request.
        """
        if not secret:
            raise AuthError(
                "no API token; send 'Authorization: Bearer <token>' (create one with "
                "cximpact tokens create NAME --role ROLE)"
            )
        digest = hash_token(secret)
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(digest)
        if hit is not None and now - hit[0] < _CACHE_SECONDS:
            principal = hit[1]
        else:
            principal = self._lookup(digest)
            with self._cache_lock:
                self._cache[digest] = (now, principal)
        if principal is None:
            raise AuthError("unknown or revoked API token; ask an admin for a new one")
        return principal

    def _lookup(self, digest: str) -> Principal | None:
        with self._transaction("authenticate a token") as session:
            row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
            if row is None or row.revoked_at is not None:
                return None
            return Principal(row.id, row.name, row.role, row.owner)

    def record(self, rows: list[tuple[str, str, str, int, dict[str, Any]]]) -> None:
        """Append audit rows for writes that are not cases (ingest, refit), in one transaction.

        Parameters
        ----------
        rows : list of tuple
            ``(actor, action, entity, entity_id, after)``: who did what to which kind of entity
            (id 0 when there is none) and what the write produced (counts, never raw text).
        """
        if not rows:
            return
        with self._transaction(f"audit {len(rows)} writes") as session:
            for actor, action, entity, entity_id, after in rows:
                _audit(session, actor, action, entity, entity_id, None, after)


def _audit(
    session: Any,
    actor: str,
    action: str,
    entity: str,
    entity_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        AuditEntry(
            at=utcnow(),
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )


class RateLimiter:
    """A token bucket per key: ``rate`` requests per second on average, bursts up to ``burst``.

    Parameters
    ----------
    rate : float
        Sustained requests per second per key (0 disables the limit).
    burst : int
        Requests a key may send at once after being idle.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self._buckets: dict[object, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: object) -> None:
        """Take one request from ``key``'s bucket or raise :class:`RateLimitedError`."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise RateLimitedError(
                    f"rate limit of {self.rate:g} requests/s (burst {self.burst}) reached for "
                    f"this token; retry in {wait:.2f}s or batch records into one request",
                    retry_after=wait,
                )
            self._buckets[key] = (tokens - 1.0, now)
