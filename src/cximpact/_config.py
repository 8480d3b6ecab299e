"""Reading the YAML configuration files (routing, playbook ...): a user's file or the built-in."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cximpact.errors import ConfigError

__all__ = ["read_yaml"]


def read_yaml(path: Path | None, builtin: str, what: str) -> Any:
    """Parse ``path``, or ``cximpact/data/<builtin>`` when ``path`` is None.

    Raises
    ------
    ConfigError
        The file cannot be read or is not YAML; the message names the file and ``what`` it is.
    """
    try:
        if path is not None:
            text = path.read_text(encoding="utf-8")
        else:
            text = resources.files("cximpact.data").joinpath(builtin).read_text(encoding="utf-8")
        return yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{what} {path or builtin} cannot be read: {exc}") from exc
