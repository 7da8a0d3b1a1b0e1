"""What Lambda installs (functions/requirements.txt) is what the project declares (pyproject)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _requirements() -> dict[str, str]:
    found = {}
    for line in (ROOT / "functions" / "requirements.txt").read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if spec:
            name = re.split(r"[<>=!~\[]", spec, maxsplit=1)[0].strip().lower()
            found[name] = spec.replace(" ", "")
    return found


def _declared() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        re.split(r"[<>=!~\[]", spec, maxsplit=1)[0].strip().lower(): spec.replace(" ", "")
        for spec in project["dependencies"]
    }


def test_every_lambda_requirement_is_declared_with_the_same_version_range() -> None:
    declared = _declared()
    for name, spec in _requirements().items():
        assert declared.get(name) == spec, (
            f"{name}: functions/requirements.txt says {spec}, pyproject {declared.get(name)}"
        )


def test_cli_only_libraries_stay_out_of_lambda() -> None:
    assert not {"typer", "rich", "moto", "pyyaml"} & set(_requirements())
