"""``press-intake --help`` lists every subcommand without importing any of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cli.main import SUBCOMMANDS, app, load_command

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """\
import json, sys
sys.argv = ["press-intake", "--help"]
from cli.main import app
try:
    app()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def test_help_imports_no_subcommand_and_no_aws_library() -> None:
    # Given a fresh interpreter (nothing imported yet), When it prints the top-level help
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _CHILD], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    # Then it listed every command, and none of their modules (nor boto3 or moto) was imported
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    for name in SUBCOMMANDS:
        assert name in done.stdout
    heavy = {
        "boto3",
        "botocore",
        "moto",
        "textual",
        "cli.moderate",
        "cli.keys",
        "cli.dlq",
        "cli.local",
        "functions",
    }
    assert not heavy & modules


def test_the_listed_help_is_each_commands_own() -> None:
    for name, (_, _, listed) in SUBCOMMANDS.items():
        command = load_command(name)
        own = " ".join((command.help or "").split())
        assert own == listed, f"{name}: the table says {listed!r}, the command {own!r}"


def test_each_subcommand_runs_as_before() -> None:
    runner = CliRunner()
    for name in SUBCOMMANDS:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert "--install-completion" not in result.output  # only the top level has those options
    reasons = runner.invoke(app, ["moderate", "reasons"])
    assert reasons.exit_code == 0
    assert "duplicate" in reasons.output
    unknown = runner.invoke(app, ["no-such-command"])
    assert unknown.exit_code == 2
