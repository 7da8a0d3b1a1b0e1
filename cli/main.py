"""``press-intake``: operators' and moderators' command line.

Subcommands are imported only when they run: ``press-intake --help`` lists them from the table
below without importing boto3, moto or the adapters (tests/unit/test_cli_lazy.py checks that
the listed help is each command's own).
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

# name -> (module, attribute, short help): a typer app (a command group) or a command function.
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "local": (
        "cli.local", "local",
        "Run the whole pipeline here: emulated AWS, the API on HTTP, consumers and schedules.",
    ),
    "info": (
        "cli.local", "info",
        "Print the running local stack's info file (found from this folder or a parent): all of it "
        "as JSON, or one value, e.g. `KEY=$(press-intake info demo_api_key)`.",
    ),
    "keys": ("cli.keys", "app", "Create, list and revoke organisations' API keys; set their rate limits."),
    "moderate": ("cli.moderate", "app", "Work through the moderation queue."),
    "dlq": ("cli.dlq", "app", "Inspect and redrive dead-letter queues."),
    "media": ("cli.media", "app", "Upload images and documents through the media API."),
    "stats": (
        "cli.stats", "stats",
        "The dashboard's figures: flow per minute, queues, dead letters, the API, publication lag.",
    ),
}  # fmt: skip


def load_command(name: str) -> Any:
    """The real click command of a subcommand (its module imported now)."""
    module_name, attribute, _ = SUBCOMMANDS[name]
    target = getattr(importlib.import_module(module_name), attribute)
    # Mounted on a bare parent as add_typer/command would mount it on the real one: the same name,
    # and no completion options of its own.
    parent = typer.Typer(add_completion=False)
    parent.callback()(lambda: None)
    if isinstance(target, typer.Typer):
        parent.add_typer(target, name=name)
    else:
        parent.command(name)(target)
    return typer.main.get_group(parent).commands[name]


class _Commands(TyperGroup):
    """Lazy subcommands; AWS failures become one readable line and exit code 1, never a traceback."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_, _, short_help) in SUBCOMMANDS.items():
            # What help lists; the real command replaces it when it runs (resolve_command).
            self.commands[name] = typer.core.TyperCommand(name, help=short_help, short_help=short_help)

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:  # type: ignore[override]
        name, command, rest = super().resolve_command(ctx, args)
        if name in SUBCOMMANDS:
            command = load_command(name)
            self.commands[name] = command
        return name, command, rest

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        from botocore.exceptions import BotoCoreError, ClientError

        from cli.common import EXIT_FAILED, err
        from functions.adapters.aws_errors import error_code, error_message

        try:
            return super().invoke(ctx)
        except ClientError as error:
            code, message = error_code(error) or None, error_message(error) or None
            err.print(f"[red]error:[/] AWS refused {error.operation_name}: {code}: {message}")
            raise typer.Exit(EXIT_FAILED) from None
        except BotoCoreError as error:
            err.print(f"[red]error:[/] {error}")
            raise typer.Exit(EXIT_FAILED) from None


app = typer.Typer(
    cls=_Commands,
    name="press-intake",
    help="Press-release intake: local stack, API keys, media, moderation, dead letters and figures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("press-intake")
    except PackageNotFoundError:  # running from a checkout without installing
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"press-intake {_version()}")
        raise typer.Exit


@app.callback()
def main_options(
    ctx: typer.Context,
    stack: Annotated[
        str | None, typer.Option("--stack", help="A deployed stack: resources come from its outputs.")
    ] = None,
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="The local stack (default when .press-intake/local.json is here or in a parent folder, "
            "or PRESS_INTAKE_LOCAL names one).",
        ),
    ] = False,
    region: Annotated[str | None, typer.Option("--region", help="AWS region of --stack.")] = None,
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Press-release intake: local stack, API keys, moderation and dead letters."""
    from cli.common import Options

    ctx.obj = Options(stack=stack, local=local, region=region)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
