"""The README's shell blocks, run as written against a real local stack, so the README cannot drift.

The convention (also stated in the README's "Development" section): every fenced block tagged
``sh`` is meant to be pasted into bash, in the order it appears, in the repository's root folder,
in a second terminal while ``make run`` runs in the first. Blocks that must not run here -
``make run`` itself, deploys, the interactive console, other tools such as the AWS CLI - use
another fence language (``text``, ``console``).

This test extracts the ``sh`` blocks in order and runs them in one bash (``set -euo pipefail``,
so variables carry from block to block and any failing command fails the test), in a folder
laid out like a checkout (``.venv`` and ``examples/`` are links to the real ones) where
``press-intake local`` runs as ``make run`` would start it. Nothing is substituted.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import REPO, RunningStack, stack_env, start_stack, stop_stack

README = REPO / "README.md"
FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def shell_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, body) of each fenced ``sh`` block, in order."""
    return [
        (text.count("\n", 0, match.start()) + 1, match.group("body"))
        for match in FENCE.finditer(text)
        if match.group("lang") == "sh"
    ]


def test_the_readme_has_shell_blocks_and_no_placeholders() -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 4
    for line, body in blocks:
        assert not re.search(r"<[a-z][a-z _-]*>", body), f"a placeholder in the sh block at line {line}"
        assert "make run" not in body.split("#")[0], f"line {line}: make run blocks the shell"


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[tuple[Path, RunningStack]]:
    """A folder laid out like the repository's root, with `make run`'s stack running in it."""
    folder = tmp_path / "press-intake"
    folder.mkdir()
    (folder / ".venv").symlink_to(Path(sys.executable).parent.parent, target_is_directory=True)
    (folder / "examples").symlink_to(REPO / "examples", target_is_directory=True)
    stack = start_stack(folder)
    yield folder, stack
    assert stop_stack(stack) == 0, stack.log.read_text()


def test_every_sh_block_of_the_readme_runs_as_written(checkout: tuple[Path, RunningStack]) -> None:
    folder, stack = checkout
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    script = ["set -euo pipefail"]
    for line, body in blocks:
        script += [f"echo '::: README.md line {line}' >&2", body]
    result = subprocess.run(  # noqa: S603
        ["bash", "-c", "\n".join(script)],  # noqa: S607 - bash from PATH, as a reader's shell
        cwd=folder,
        env=stack_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    markers = [line for line in result.stderr.splitlines() if line.startswith("::: ")]
    assert result.returncode == 0, (
        f"the block at {markers[-1] if markers else '?'} failed (exit {result.returncode}):\n"
        f"--- stdout (end)\n{result.stdout[-3000:]}\n--- stderr (end)\n{result.stderr[-3000:]}"
    )
    assert len(markers) == len(blocks)  # every block ran
    # What the reader was promised: the sports release is published, with its page and feed
    sports = [
        item
        for item in stack.request("GET", "/releases?limit=100").json()["items"]
        if item["headline"] == "Rovers win the county cup final"
    ]
    assert any(item["status"] == "published" for item in sports)


EXAMPLES = sorted((REPO / "examples" / "releases").glob("*.json"))


def test_there_is_an_example_for_every_category() -> None:
    categories = {json.loads(path.read_text())["category"] for path in EXAMPLES}
    assert categories == {"business", "sports", "personnel", "community", "event"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_each_example_release_is_accepted(local_stack: RunningStack, path: Path) -> None:
    answer = local_stack.request(
        "POST", "/releases", data=path.read_bytes(), headers={"Content-Type": "application/json"}
    )
    assert answer.status == 202, answer.body
    assert answer.json()["status"] == "pending_review"


def test_the_example_revision_revises_the_community_release(local_stack: RunningStack) -> None:
    original = (REPO / "examples" / "releases" / "community.json").read_bytes()
    created = local_stack.request(
        "POST", "/releases", data=original, headers={"Content-Type": "application/json"}
    )
    release_id = created.json()["id"]
    revised = local_stack.request(
        "PUT",
        f"/releases/{release_id}",
        data=(REPO / "examples" / "revision.json").read_bytes(),
        headers={"Content-Type": "application/json", "If-Match": '"1"'},
    )
    assert revised.status == 200, revised.body
    assert revised.json()["version"] == 2
