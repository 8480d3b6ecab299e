"""Policy files: the built-in one loads; every broken rule is a ConfigError naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cximpact.actions.policies import (
    Policy,
    PolicySet,
    cost_and_effectiveness,
    load_policies,
    render_context,
)
from cximpact.cases.business_case import load_playbook
from cximpact.errors import ConfigError


def _valid() -> dict[str, Any]:
    return {
        "budget": 100,
        "channels": {"hook": {"type": "webhook", "url": "http://127.0.0.1:1/x"}},
        "policies": [
            {"name": "p", "action": "call", "channel": "hook", "playbook": "retention_call"}
        ],
    }


def test_builtin_policies_load_and_take_costs_from_the_playbook() -> None:
    rules = load_policies()
    assert rules.budget > 0 and 0 < rules.holdout_share < 1
    playbook = load_playbook()
    for policy in rules.policies:
        assert policy.channel in rules.channels
        cost, eff = cost_and_effectiveness(policy, playbook)
        option = playbook[policy.playbook or ""]
        assert (cost, eff) == (option.cost_per_customer, option.effectiveness)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.update(budget=-1), "budget"),
        (lambda d: d.update(holdout_share=1.0), "holdout_share"),
        (lambda d: d.update(quiet_hours={"start": "25:00", "end": "08:00"}), "quiet_hours.start"),
        (lambda d: d.update(frequency_caps={"window_days": 0}), "frequency_caps.window_days"),
        (lambda d: d["policies"][0].update(channel="nowhere"), "nowhere"),
        (lambda d: d["policies"].append(dict(d["policies"][0])), "unique"),
        (lambda d: d["policies"][0].update(surprise=1), "surprise"),
        (
            lambda d: (
                d["policies"][0]["eligibility"].update(min_churn_probability=2)
                if "eligibility" in d["policies"][0]
                else d["policies"][0].update(eligibility={"min_churn_probability": 2})
            ),
            "min_churn_probability",
        ),
        (lambda d: d.update(value_tiers={"gold": 10}), "value_tiers"),
        (lambda d: d.update(policies=[]), "policies"),
    ],
)
def test_invalid_policy_files_name_the_key(tmp_path: Path, change: Any, key: str) -> None:
    data = _valid()
    change(data)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=key):
        load_policies(path)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_policies(tmp_path / "missing.yaml")


def test_value_tiers_and_context_rendering() -> None:
    rules = PolicySet.model_validate({**_valid(), "value_tiers": {"gold": 5000, "base": 0}})
    assert rules.value_tier(6000) == "gold" and rules.value_tier(10) == "base"
    policy = Policy(
        name="p", action="a", channel="hook", context={"s": "Fix ${issue_label} ${nope}"}
    )
    assert render_context(policy, {"issue_label": "late delivery"}) == {
        "s": "Fix late delivery ${nope}"
    }


def test_policy_without_cost_or_playbook_is_refused() -> None:
    with pytest.raises(ConfigError, match="cost and effectiveness"):
        cost_and_effectiveness(Policy(name="p", action="a", channel="c"), {})
    with pytest.raises(ConfigError, match="lacks"):
        cost_and_effectiveness(Policy(name="p", action="a", channel="c", playbook="x"), {})
    own = Policy(
        name="p", action="a", channel="c", playbook="retention_call", cost=3, effectiveness=0.5
    )
    assert cost_and_effectiveness(own, load_playbook()) == (3.0, 0.5)
