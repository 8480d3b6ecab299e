"""Every third-party module the package imports is a declared dependency.

A module only the test extra installs works in the test venv and fails on a user's machine
(``pip install .`` then ``cximpact demo``): this test is the guard.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Imported directly, installed by a declared dependency that re-exports or requires them.
VIA_DECLARED = {"markupsafe": "jinja2", "pydantic_core": "pydantic", "starlette": "fastapi"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "src" / "cximpact").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "cximpact"}


def test_runtime_imports_are_declared_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["spark"]
    declared = {_canonical(re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0]) for r in requirements}
    providers = packages_distributions()
    missing = []
    for module in sorted(_imported()):
        if module in VIA_DECLARED:
            assert _canonical(VIA_DECLARED[module]) in declared, module
            continue
        names = {_canonical(d) for d in providers.get(module, [])}
        if not names & declared:
            missing.append(f"{module} (from {sorted(names) or 'unknown distribution'})")
    assert not missing, f"imported by src/cximpact but not in [project].dependencies: {missing}"
