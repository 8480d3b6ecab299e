"""Request and response shapes of the API (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AssignIn",
    "CasePage",
    "CustomerPage",
    "ErrorOut",
    "IngestBatchIn",
    "IngestOut",
    "IssuePage",
    "Kind",
    "Page",
    "Record",
    "TransitionIn",
]

Kind = Literal["customers", "interactions", "transactions", "outcomes", "finance"]
Scalar = str | int | float | bool | None
Record = dict[str, Scalar]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(BaseModel):
    """What went wrong and what to do."""

    status: int
    type: str
    message: str


class ErrorOut(BaseModel):
    """Every error response."""

    error: ErrorDetail


class IngestBatchIn(BaseModel):
    """Records of one kind, as the data contract names their fields (docs/ingest.md)."""

    model_config = ConfigDict(extra="forbid")

    records: list[Record] = Field(..., description="One object per record; values as JSON scalars.")
    source: str | None = Field(
        None, max_length=200, description="Where they come from (recorded with each row)."
    )


class IngestOut(BaseModel):
    """What the records became: ``rows_read == accepted + quarantined``."""

    kind: str
    source: str
    rows_read: int
    accepted: int
    quarantined: int
    inserted: int
    updated: int
    by_rule: dict[str, int]
    scored: int = Field(description="Interactions scored live into issues and exposure.")
    view_version: int = Field(description="Version of the live view that shows them.")


class Page(BaseModel):
    """One page of a list."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class IssuePage(Page):
    """Issues ranked by revenue at risk."""


class CustomerPage(Page):
    """Customers of an issue ranked by lifetime value, with why."""


class CasePage(Page):
    """Cases, largest revenue at risk first."""


class TransitionIn(BaseModel):
    """Move a case to its next state."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["accepted", "in_progress", "fix_deployed", "measuring", "closed", "dismissed"]
    reason: str | None = Field(None, max_length=2000, description="Required to dismiss.")
    verdict: Literal["worked", "no_evidence", "worse"] | None = Field(
        None, description="Required to close."
    )


class AssignIn(BaseModel):
    """Give a case to another owner."""

    model_config = ConfigDict(extra="forbid")

    owner: str = Field(..., min_length=1, max_length=200)
    team: str | None = Field(None, min_length=1, max_length=200)
