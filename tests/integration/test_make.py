"""The Makefile as a newcomer uses it: `make help`, `make run ARGS=...`, what `make run` installs."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import free_ports
from tests.integration.conftest import REPO, stack_env

MAKEFILE = REPO / "Makefile"
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _make(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        ["make", "--no-print-directory", "-f", str(MAKEFILE), *args],  # noqa: S607 - make from PATH
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_make_help_lists_every_target() -> None:
    text = MAKEFILE.read_text()
    phony = set(re.search(r"^\.PHONY:(.*)$", text, re.MULTILINE).group(1).split())  # type: ignore[union-attr]
    listed = set(re.findall(r"^  make (\S+)", _make("help").stdout, re.MULTILINE))
    assert phony == listed
    assert {"test-e2e", "test-unit", "test-functional", "test-integration", "run", "venv-run"} <= listed


def test_make_run_installs_only_what_running_needs_and_says_what_it_does(tmp_path: Path) -> None:
    # Given a machine with no virtualenv yet (a fresh folder for it), what would `make run` do?
    venv = tmp_path / ".venv"
    run = _make("-n", "run", f"VENV={venv}").stdout.splitlines()
    installs = [line for line in run if "pip install" in line and "--upgrade pip" not in line]

    # It installs the project without its dev extras, and says so before each slow step
    assert len(installs) == 1
    assert installs[0].rstrip().endswith("-e .")
    assert "--quiet" not in installs[0]  # pip's own progress lines are the feedback
    first_step = next(i for i, line in enumerate(run) if "pip install" in line or "-m venv" in line)
    assert any(line.startswith("echo") and "==>" in line for line in run[:first_step])
    assert run[-1].rstrip().endswith("press-intake local")

    # While `make test` (through lint) adds the dev tools
    test = _make("-n", "lint", f"VENV={venv}").stdout
    assert "-e '.[dev]'" in test


def test_make_run_passes_args_to_the_local_stack(tmp_path: Path) -> None:
    # Given the project's virtualenv, already set up (its install step is not redone here)
    venv = Path(sys.executable).parent.parent
    api, aws = free_ports(2)
    log = tmp_path / "make-run.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603
            [  # noqa: S607 - make from PATH
                "make",
                "--no-print-directory",
                "-f",
                str(MAKEFILE),
                "-o",
                f"{venv}/.installed-runtime",
                "run",
                f"VENV={venv}",
                f"ARGS=--port {api} --aws-port {aws} --memory",
            ],
            cwd=tmp_path,
            env=stack_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make and the stack in their own group, stopped together
        )
    try:
        # When it is up, then it listens where ARGS said
        deadline = time.monotonic() + 60
        while "is ready" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        text = log.read_text()
        assert f"http://127.0.0.1:{api}" in text
        assert f"http://127.0.0.1:{aws}" in text
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
