"""``press-intake``: operators' and moderators' command line."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import typer

app = typer.Typer(
    name="press-intake",
    help="Press-release intake: local stack, API keys, moderation and dead letters.",
    no_args_is_help=True,
    add_completion=False,
)


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
    show_version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Press-release intake: local stack, API keys, moderation and dead letters."""


def main() -> None:
    app()


if __name__ == "__main__":
    main()
