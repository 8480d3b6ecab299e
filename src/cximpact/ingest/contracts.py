"""Data contracts: the fields each kind of record must carry, declared as data.

A contract is a tuple of :class:`FieldSpec`; validation, documentation and tests are generated
from it, so adding a field is one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cximpact.errors import ContractError

__all__ = ["CONTRACTS", "KINDS", "Contract", "FieldSpec", "FieldType", "get_contract"]

FieldType = Literal["id", "str", "text", "datetime", "date", "float", "int", "bool"]


@dataclass(frozen=True)
class FieldSpec:
    """One field of a contract: its name, type and whether a row may leave it empty."""

    name: str
    type: FieldType
    required: bool = True
    help: str = ""
    minimum: float | None = None


@dataclass(frozen=True)
class Contract:
    """The contract of one kind of record.

    ``key`` is the column that identifies a row (re-ingesting a row with a known key adds
    nothing); ``customer_ref`` is the column that must name a known customer, if any.
    """

    kind: str
    key: str
    fields: tuple[FieldSpec, ...]
    customer_ref: str | None = "customer_id"

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]


_S = FieldSpec
CONTRACTS: dict[str, Contract] = {
    "customers": Contract(
        "customers",
        key="id",
        customer_ref=None,
        fields=(
            _S("id", "id", help="customer id"),
            _S("start_date", "date", help="date the relationship started"),
            _S("segment", "str", help="business segment, e.g. consumer, smb, premium"),
            _S("products", "int", help="number of products held", minimum=0),
            _S("monthly_revenue", "float", help="revenue per month (currency)", minimum=0),
            _S(
                "monthly_margin",
                "float",
                required=False,
                help="margin per month (currency)",
                minimum=0,
            ),
            _S(
                "finance_ltv",
                "float",
                required=False,
                help="lifetime value from finance",
                minimum=0,
            ),
            _S("region", "str", required=False, help="region or country"),
        ),
    ),
    "interactions": Contract(
        "interactions",
        key="id",
        fields=(
            _S("id", "id", help="interaction id"),
            _S("customer_id", "id", help="customer the interaction belongs to"),
            _S("timestamp", "datetime", help="when it happened (ISO 8601; UTC if no zone)"),
            _S("channel", "str", help="phone, email, chat, web, social, ..."),
            _S("text", "text", help="what the customer said or wrote (PII is redacted)"),
            _S("agent", "str", required=False),
            _S("queue", "str", required=False),
            _S("duration_seconds", "float", required=False, minimum=0),
            _S(
                "handling_cost",
                "float",
                required=False,
                help="cost of this contact (currency)",
                minimum=0,
            ),
            _S("resolved", "bool", required=False),
            _S(
                "abandoned",
                "bool",
                required=False,
                help="the customer hung up or left the queue before reaching an agent",
            ),
        ),
    ),
    "transactions": Contract(
        "transactions",
        key="id",
        fields=(
            _S("id", "id"),
            _S("customer_id", "id"),
            _S("timestamp", "datetime"),
            _S("amount", "float", help="value of the purchase (currency)"),
        ),
    ),
    "outcomes": Contract(
        "outcomes",
        key="customer_id",
        fields=(
            _S("customer_id", "id"),
            _S("churn_date", "date", help="date the customer left"),
        ),
    ),
    "finance": Contract(
        "finance",
        key="customer_id",
        fields=(
            _S("customer_id", "id"),
            _S("ltv", "float", help="lifetime value from the finance system (currency)", minimum=0),
        ),
    ),
}
KINDS: tuple[str, ...] = tuple(CONTRACTS)


def get_contract(kind: str) -> Contract:
    """Return the contract of ``kind`` or raise a :class:`ContractError` listing the kinds."""
    try:
        return CONTRACTS[kind]
    except KeyError:
        raise ContractError(f"unknown kind {kind!r}; expected one of {list(KINDS)}") from None
