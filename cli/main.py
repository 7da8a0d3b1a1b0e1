"""``press-intake``: operators' and moderators' command line."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from cli import dlq, keys, local, media, moderate
from cli.common import EXIT_FAILED, Options, err


class _Commands(TyperGroup):
    """AWS failures become one readable line and exit code 1, never a traceback."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        from botocore.exceptions import BotoCoreError, ClientError

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
    help="Press-release intake: local stack, API keys, media, moderation and dead letters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(keys.app, name="keys")
app.command("local")(local.local)
app.command("info")(local.info)
app.add_typer(moderate.app, name="moderate")
app.add_typer(dlq.app, name="dlq")
app.add_typer(media.app, name="media")


def _version() -> str:
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
    ctx.obj = Options(stack=stack, local=local, region=region)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
