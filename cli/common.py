"""Shared CLI plumbing: target options, errors as messages and exit codes (never tracebacks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

from cli.target import Target, TargetError, resolve
from cli.terminal import joined, shown

err = Console(stderr=True, soft_wrap=True)

# Exit codes: 0 done, 1 failed (not found, AWS error), 2 usage error, 3 nothing to do (queue empty).
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass
class Options:
    stack: str | None = None
    local: bool = False
    region: str | None = None


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    # Messages quote what the user or a submitter typed: shown as text, never as rich markup.
    err.print(joined(Text("error:", style="red"), " ", shown(message)))
    raise typer.Exit(code)


def target_from(options: Options | None) -> Target:
    options = options or Options()
    try:
        return resolve(options.stack, options.local, options.region)
    except TargetError as error:
        fail(str(error))
