"""The initiatives catalogue: what each CX investment assumes, validated, with user overrides.

Parsed and validated here (pydantic), used by :mod:`cximpact.metrics.invest`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cximpact._config import read_yaml
from cximpact.errors import ConfigError, NotFoundError

#: Inputs every initiative needs (from its catalogue entry or the shared defaults).
REQUIRED = (
    "one_off_cost",
    "running_cost_per_year",
    "targeted_contact_share",
    "deflection_rate",
    "problem_prevention_rate",
    "retained_per_prevented_problem",
    "word_of_mouth_value_premium",
    "referrals_per_retained_customer",
    "first_year_realisation",
    "contacts_per_year",
    "handling_cost_per_contact",
    "problem_customers_per_year",
    "customer_value",
)
#: Inputs that raise the NPV when they rise (the others are costs and lower it).
BENEFIT_INPUTS = frozenset(REQUIRED) - {"one_off_cost", "running_cost_per_year"}
COST_INPUTS = frozenset({"one_off_cost", "running_cost_per_year"})
SHARES = frozenset(
    {
        "targeted_contact_share",
        "deflection_rate",
        "problem_prevention_rate",
        "retained_per_prevented_problem",
        "first_year_realisation",
    }
)
Basis = Literal["measured", "assumed", "set"]


class Assumption(BaseModel):
    """One catalogue input: value, range for the sensitivity table, unit and source."""

    model_config = ConfigDict(extra="forbid")
    value: float = Field(ge=0)
    low: float = Field(ge=0)
    high: float = Field(ge=0)
    unit: str = ""
    source: str = Field(min_length=1)
    description: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Assumption:
        if not self.low <= self.value <= self.high:
            raise ValueError(
                f"needs low <= value <= high; got low={self.low}, value={self.value}, "
                f"high={self.high}"
            )
        return self


class Initiative(BaseModel):
    """A CX investment: what it addresses, whether it can be randomised, its inputs."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")
    description: str = Field(min_length=1)
    addresses: tuple[str, ...] = Field(min_length=1)
    randomisable: bool
    new_customers_only: bool = False
    assumptions: dict[str, Assumption]

    @model_validator(mode="after")
    def _complete(self) -> Initiative:
        missing = [k for k in REQUIRED if k not in self.assumptions]
        unknown = sorted(set(self.assumptions) - set(REQUIRED))
        if missing or unknown:
            raise ValueError(f"assumptions missing {missing}, unknown {unknown}")
        for name in SHARES:
            if self.assumptions[name].high > 1:
                raise ValueError(f"assumption {name} is a share and must stay within [0, 1]")
        return self


@dataclass(frozen=True)
class Input:
    """A number the calculation uses, with where it came from."""

    name: str
    value: float
    low: float
    high: float
    unit: str
    source: str
    basis: Basis
    description: str = ""


def _merge(base: Any, extra: Any) -> Any:
    """Dicts merged key by key (recursively); anything else replaced."""
    if isinstance(base, dict) and isinstance(extra, dict):
        return {k: _merge(base.get(k), v) if k in base else v for k, v in extra.items()} | {
            k: v for k, v in base.items() if k not in extra
        }
    return extra


def _mark_user_values(raw: Any, where: str) -> Any:
    """A user's value without its own ``source`` is labelled as coming from the user's file."""
    for section in ("defaults",):
        for item in (raw.get(section) or {}).values() if isinstance(raw, dict) else ():
            if isinstance(item, dict) and "value" in item and "source" not in item:
                item["source"] = f"assumption ({where})"
    for initiative in (raw.get("initiatives") or {}).values() if isinstance(raw, dict) else ():
        items = initiative.get("assumptions") if isinstance(initiative, dict) else None
        for item in (items or {}).values():
            if isinstance(item, dict) and "value" in item and "source" not in item:
                item["source"] = f"assumption ({where})"
    return raw


def _catalogue(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("initiatives", {}), dict):
        raise ConfigError(
            f"{where}: expected a mapping with 'initiatives' (and optional 'defaults'); got "
            f"{type(raw).__name__}. Fix: follow the layout of cximpact/data/initiatives.yaml"
        )
    unknown = sorted(set(raw) - {"defaults", "initiatives"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown top-level keys {unknown}; expected 'defaults' and 'initiatives'"
        )
    return raw


def load_initiatives(user_file: Path | None = None) -> dict[str, Initiative]:
    """The catalogue, with ``user_file`` (same layout) merged over it key by key.

    Shared ``defaults`` fill the inputs an initiative does not set. A value given without a
    ``source`` in the user file is labelled ``assumption (<file>)``.

    Raises
    ------
    ConfigError
        A file is unreadable or not YAML, has an unknown layout, or an initiative is invalid
        (the message names the file, the initiative and the field).
    """
    raw = _catalogue(read_yaml(None, "initiatives.yaml", "initiatives catalogue"), "built-in")
    where = "built-in initiatives.yaml"
    if user_file is not None:
        where = f"assumptions file {user_file}"
        user = _catalogue(read_yaml(user_file, "initiatives.yaml", where), where)
        raw = _merge(raw, _mark_user_values(user, str(user_file)))
    defaults = raw.get("defaults") or {}
    out = {}
    for name, entry in (raw.get("initiatives") or {}).items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: initiative {name!r} must be a mapping")
        fields = entry | {"name": str(name)}
        fields["assumptions"] = _merge(defaults, entry.get("assumptions") or {})
        try:
            out[str(name)] = Initiative.model_validate(fields)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "initiative"
            raise ConfigError(
                f"{where}: initiative {name!r}, field {field}: {err['msg']} "
                f"(got {_short(err.get('input'))}); fix it (see docs/invest.md)"
            ) from exc
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def get_initiative(initiatives: Mapping[str, Initiative], name: str) -> Initiative:
    """Initiative ``name``, or :class:`NotFoundError` listing the known ones."""
    if name not in initiatives:
        raise NotFoundError(
            f"initiative {name!r} is not in the catalogue; expected one of {sorted(initiatives)}. "
            "Fix: pick one, or add it with --assumptions FILE"
        )
    return initiatives[name]
