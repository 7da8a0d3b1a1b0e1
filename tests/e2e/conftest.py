"""End-to-end tier: a deployed stack (make test-e2e STACK=name). Skipped without one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

STACK = os.environ.get("PRESS_INTAKE_STACK")


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not STACK:
        skip = pytest.mark.skip(reason="no deployed stack: set PRESS_INTAKE_STACK (make test-e2e STACK=name)")
        for item in items:
            if HERE in Path(str(item.path)).resolve().parents:  # hooks see the whole session's items
                item.add_marker(skip)


@dataclass
class Deployed:
    outputs: dict[str, str]
    key: str
    key_id: str

    @property
    def api(self) -> str:
        return self.outputs["ApiUrl"].rstrip("/")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "press-intake"
    return subprocess.run(  # noqa: S603 - our own CLI
        [str(script), "--stack", str(STACK), *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="session")
def deployed() -> Iterator[Deployed]:
    import boto3

    stacks = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0]["Outputs"]}
    created = _cli(
        "keys", "create", "--org", f"e2e-{uuid.uuid4().hex[:8]}", "--name", "End-to-end tests", "--json"
    )
    assert created.returncode == 0, created.stderr
    key: dict[str, Any] = json.loads(created.stdout)
    yield Deployed(outputs=outputs, key=key["key"], key_id=key["key_id"])
    _cli("keys", "revoke", key["key_id"])
