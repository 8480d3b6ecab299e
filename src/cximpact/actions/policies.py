"""Action policies: who is eligible, which action through which channel, with what, for how much.

A policy file (YAML; the built-in one is ``cximpact/actions/data/policies.yaml``) holds the
shared rules (budget, holdout share, consent, frequency caps, quiet hours, value tiers), the
channels (where each one delivers) and a list of policies. Every part is a pydantic model, so
an invalid file fails with the path of the offending key and what was expected.

A policy's cost per action and effectiveness come from the case playbook option it names
(``playbook: retention_call``) unless it sets its own; both are planning assumptions.
"""

from __future__ import annotations

import re
from datetime import time
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cximpact.errors import ConfigError

if TYPE_CHECKING:
    from cximpact.cases.business_case import PlaybookOption

__all__ = [
    "ChannelConfig",
    "Eligibility",
    "FrequencyCaps",
    "Policy",
    "PolicySet",
    "QuietHours",
    "cost_and_effectiveness",
    "load_policies",
    "remaining_budgets",
    "render_context",
]

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Eligibility(BaseModel):
    """Who a policy may target; an empty list means any."""

    model_config = ConfigDict(extra="forbid")
    min_churn_probability: float = Field(0.0, ge=0, le=1)
    min_value: float = Field(0.0, ge=0)
    root_causes: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)


class Policy(BaseModel):
    """One rule: an action, its channel, context and (optional) own cost and budget."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    action: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    contact_method: str = Field("email", min_length=1)
    playbook: str | None = None
    cost: float | None = Field(None, ge=0)
    effectiveness: float | None = Field(None, ge=0, le=1)
    budget: float | None = Field(None, ge=0)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    context: dict[str, str] = Field(default_factory=dict)


class FrequencyCaps(BaseModel):
    """Most actions per customer (any channel) and per customer and channel in a window."""

    model_config = ConfigDict(extra="forbid")
    window_days: int = Field(30, gt=0)
    per_customer: int = Field(2, ge=0)
    per_channel: int = Field(1, ge=0)


class QuietHours(BaseModel):
    """Local hours (``HH:MM``, customer's time zone) in which nothing is delivered."""

    model_config = ConfigDict(extra="forbid")
    start: str = "21:00"
    end: str = "08:00"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"expected HH:MM (24 h), got {value!r}")
        return value

    def bounds(self) -> tuple[time, time]:
        """Return ``(start, end)`` as times."""
        return time.fromisoformat(self.start), time.fromisoformat(self.end)


class ChannelConfig(BaseModel):
    """Where one channel delivers; the keys beyond ``type`` depend on the type (checked when the
    channel is built, see :func:`cximpact.actions.channels.build_channel`)."""

    model_config = ConfigDict(extra="allow")
    type: str

    def options(self) -> dict[str, Any]:
        """The type-specific keys."""
        return dict(self.model_extra or {})


class PolicySet(BaseModel):
    """A whole policy file.

    ``budget`` (and each policy's own ``budget``) caps what actions planned in the last
    ``budget_window_days`` may cost together (held-out and dead-lettered ones cost nothing),
    so planning every day does not spend the budget every day.
    """

    model_config = ConfigDict(extra="forbid")
    budget: float = Field(ge=0)
    budget_window_days: int = Field(30, gt=0)
    holdout_share: float = Field(0.1, ge=0, lt=1)
    require_consent: bool = True
    frequency_caps: FrequencyCaps = Field(default_factory=FrequencyCaps)
    quiet_hours: QuietHours | None = Field(default_factory=QuietHours)
    value_tiers: dict[str, float] = Field(default_factory=lambda: {"all": 0.0})
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    policies: list[Policy] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> PolicySet:
        names = [p.name for p in self.policies]
        if len(set(names)) != len(names):
            raise ValueError(f"policy names must be unique; got {names}")
        for policy in self.policies:
            if policy.channel not in self.channels:
                raise ValueError(
                    f"policy {policy.name!r} uses channel {policy.channel!r}, which is not "
                    f"declared under channels ({', '.join(self.channels) or 'none'})"
                )
        if not self.value_tiers or min(self.value_tiers.values()) > 0:
            raise ValueError("value_tiers needs a tier starting at 0 so every customer has one")
        return self

    def value_tier(self, value: float) -> str:
        """Name of the highest tier whose floor ``value`` reaches."""
        ordered = sorted(self.value_tiers.items(), key=lambda kv: -kv[1])
        return next(name for name, floor in ordered if value >= floor)


def load_policies(path: Path | None = None) -> PolicySet:
    """Load a policy file, or the built-in one when ``path`` is None.

    Parameters
    ----------
    path : Path, optional
        A YAML policy file (see ``docs/actions.md``).

    Returns
    -------
    PolicySet
        The validated policies.

    Raises
    ------
    ConfigError
        If the file cannot be read, is not YAML or breaks the schema; the message names the key.
    """
    where = str(path) if path is not None else "built-in policies.yaml"
    try:
        if path is not None:
            text = path.read_text(encoding="utf-8")
        else:
            text = resources.files("cximpact.actions.data").joinpath("policies.yaml").read_text()
        raw = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"policy file {where} cannot be read: {exc}") from exc
    try:
        return PolicySet.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ConfigError(
            f"policy file {where}: {loc}: {err['msg']}; fix the file "
            "(CXIMPACT_ACTIONS_POLICIES_FILE) - see docs/actions.md"
        ) from exc


def cost_and_effectiveness(
    policy: Policy, playbook: dict[str, PlaybookOption] | None = None
) -> tuple[float, float]:
    """Cost per action (currency) and assumed relative risk reduction of ``policy``.

    The policy's own ``cost``/``effectiveness`` win; otherwise the named playbook option's
    ``cost_per_customer`` and ``effectiveness``.

    Raises
    ------
    ConfigError
        If neither the policy nor a playbook option gives a value.
    """
    option = None
    if policy.playbook is not None:
        if playbook is None:
            from cximpact.cases.business_case import load_playbook  # pulls in pandas

            playbook = load_playbook()
        options = playbook
        option = options.get(policy.playbook)
        if option is None:
            raise ConfigError(
                f"policy {policy.name!r} names playbook option {policy.playbook!r}, which the "
                f"playbook lacks; known: {', '.join(options)}"
            )
    cost = (
        policy.cost if policy.cost is not None else (option.cost_per_customer if option else None)
    )
    eff = (
        policy.effectiveness
        if policy.effectiveness is not None
        else (option.effectiveness if option else None)
    )
    if cost is None or eff is None:
        raise ConfigError(
            f"policy {policy.name!r} needs cost and effectiveness, or a playbook option to take "
            "them from (playbook: retention_call)"
        )
    return float(cost), float(eff)


def render_context(policy: Policy, fields: dict[str, str]) -> dict[str, str]:
    """The policy's context with ``${issue_label}``, ``${value_tier}`` ... filled in.

    Unknown placeholders are left as written, so a typo shows instead of failing a dispatch.
    """
    return {key: Template(text).safe_substitute(fields) for key, text in policy.context.items()}


def remaining_budgets(rules: PolicySet, spent: dict[str, float]) -> PolicySet:
    """``rules`` with the overall and per-policy budgets reduced by what ``spent`` used.

    Parameters
    ----------
    rules : PolicySet
        The policies.
    spent : dict of str to float
        Cost of actions already planned in the budget window, by policy name (currency).

    Returns
    -------
    PolicySet
        A copy; budgets never go below 0.
    """
    policies = [
        p.model_copy(update={"budget": max(0.0, p.budget - spent.get(p.name, 0.0))})
        if p.budget is not None
        else p
        for p in rules.policies
    ]
    left = max(0.0, rules.budget - sum(spent.values()))
    return rules.model_copy(update={"budget": left, "policies": policies})
