"""Routing rules (who owns an issue, who their manager is), severity and due dates, from YAML."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cximpact._config import read_yaml
from cximpact.errors import ConfigError

__all__ = ["Routing", "RoutingRule", "load_routing", "severity_of"]

SEVERITIES = ("critical", "high", "medium", "low")


class RoutingRule(BaseModel):
    """One rule: conditions (empty = any) and the team and owner it assigns."""

    model_config = ConfigDict(extra="forbid")
    root_cause: list[str] = Field(default_factory=list)
    segment: list[str] = Field(default_factory=list)
    channel: list[str] = Field(default_factory=list)
    team: str
    owner: str

    def matches(self, root_cause: str, segment: str | None, channel: str | None = None) -> bool:
        """Whether every non-empty condition holds for this issue."""
        if self.root_cause and root_cause not in self.root_cause:
            return False
        if self.channel and channel not in self.channel:
            return False
        return not (self.segment and segment not in self.segment)


class Fallback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team: str
    owner: str


class Routing(BaseModel):
    """The routing file: rules, a fallback owner, SLA days per severity, managers."""

    model_config = ConfigDict(extra="forbid")
    rules: list[RoutingRule] = Field(default_factory=list)
    fallback: Fallback
    sla_days: dict[str, int] = Field(
        default_factory=lambda: {"critical": 7, "high": 14, "medium": 30, "low": 60}
    )
    managers: dict[str, str] = Field(default_factory=dict)

    def route(
        self, root_cause: str, segment: str | None = None, channel: str | None = None
    ) -> tuple[str, str]:
        """Team and owner for a root cause (and the dominant segment and channel, when used)."""
        for rule in self.rules:
            if rule.matches(root_cause, segment, channel):
                return rule.team, rule.owner
        return self.fallback.team, self.fallback.owner

    def manager_of(self, owner: str) -> str:
        """Who an overdue case of ``owner`` is escalated to.

        The owner's entry in ``managers``; else the fallback owner's manager; else the
        fallback owner itself (an owner who is the fallback escalates to nobody new, so the
        fallback's manager must be set for escalation to leave the team).
        """
        if owner in self.managers:
            return self.managers[owner]
        if self.fallback.owner in self.managers:
            return self.managers[self.fallback.owner]
        return self.fallback.owner

    def due(self, severity: str, opened: date) -> date:
        """Due date: opening day plus the severity's SLA."""
        return opened + timedelta(days=self.sla_days.get(severity, 30))


def load_routing(path: Path | None = None) -> Routing:
    """Load routing rules from ``path`` or the built-in file."""
    raw = read_yaml(path, "routing.yaml", "routing file")
    try:
        return Routing.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(
            f"routing file {path or 'built-in'}: {'.'.join(map(str, err['loc']))}: {err['msg']}; "
            "see docs/cases.md for the format"
        ) from exc


def severity_of(share: float, concentration: float) -> str:
    """Severity from the issue's share of all exposure and how concentrated it is in top customers.

    ``concentration`` is the share of the issue's exposure carried by its top 10% customers;
    highly concentrated exposure moves one step up (a few valuable relationships at stake).
    """
    level = 0 if share >= 0.25 else 1 if share >= 0.10 else 2 if share >= 0.04 else 3
    if concentration >= 0.5 and level > 0:
        level -= 1
    return SEVERITIES[level]
